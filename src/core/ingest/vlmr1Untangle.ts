/**
 * Puts back together VLM-R1 / R1-V debug-log blocks whose writes other ranks' writes landed
 * between. A block over 8 KiB reaches the file in several raw writes (src/core/ingest/pywrite.ts);
 * with every rank appending to one file, a later write of block A can land after block B, so
 * A's `Content:` / `Solution:` field appears inside B's text. The file is a sequence of
 * segments (a header line, or a field line with the lines that continue it); this assigns each
 * field segment to a block so that every block holds its upstream fields in order, every block's
 * raw writes are contiguous in the file (a gap between two of its segments only where CPython
 * would have started a new raw write), and as few field-like lines as possible are taken as part
 * of the field before them (a completion may contain a "Solution:" line). When more than one
 * assignment is as good, the blocks they disagree on are ambiguous: the caller flags them.
 * (docs/formats.md, "VLM-R1 debug log")
 */
import type { LineLocation } from './types';
import { possibleStarts } from './pywrite';
import { FORMS, formStartingWith, type FormName, type Key, type VlmHeader } from './vlmr1Fields';

export interface Seg {
  key: Key;
  /** Spelled as upstream writes it: only such a line can open a field. */
  upstream: boolean;
  /** The segment's lines as read, the first one whole. */
  lines: string[];
  bytes: number;
  start: LineLocation;
  endLine: number;
  /** Position among all segments of the file, headers included. */
  pos: number;
  /** Index (into the heads) of the block whose header precedes it in the file; -1 when none does. */
  phys: number;
}

export interface Head {
  header: VlmHeader;
  start: LineLocation;
  pos: number;
  /** Already handed over (emitted incomplete); a part that fits it is dropped with a note. */
  ghost: boolean;
  form?: FormName;
  /** The writes it already holds (ghosts). */
  groups: Seg[][];
}

export interface Solved {
  /** Per head: its field writes, each a list of segments (a field plus lines folded into it). */
  groups: Seg[][][];
  form: (FormName | undefined)[];
  missing: number[];
  /** Heads two equally good assignments disagree on. */
  ambiguous: Set<number>;
  /** Segments no block can take (outside any block). */
  unplaced: Seg[];
  /** No assignment keeps every block's writes whole: the result is a best effort. */
  unexplained: boolean;
  /** Heads whose writes are not contiguous with their header (other writes landed between). */
  separated: Set<number>;
}

const FOLD_CONTENT = 1;
const FOLD_OTHER = 3;
const MISSING = 10;
const UNPLACED = 50;
const BROKEN = 1000;
const MAX_LEAVES = 8;

interface State {
  form: (FormName | undefined)[];
  groups: Seg[][][];
  owner: Map<number, number>;
}

function formLength(form: FormName | undefined): number {
  return form ? FORMS[form].length : FORMS.content.length;
}

/** Writes of one head are whole in the file: between two of them only where a raw write may start. */
function broken(head: Head, groups: Seg[][], cache: Map<string, boolean[]>): boolean {
  const sizes = [head.header.bytes, ...groups.map((g) => g.reduce((n, s) => n + s.bytes, 0))];
  const key = sizes.join(',');
  let starts = cache.get(key);
  if (!starts) cache.set(key, (starts = possibleStarts(sizes)));
  let end = head.pos;
  for (let k = 0; k < groups.length; k++) {
    const g = groups[k]!;
    if (g[0]!.pos !== end + 1 && !starts[k + 1]) return true;
    end = g[g.length - 1]!.pos;
  }
  return false;
}

function signature(groups: Seg[][]): string {
  return groups.map((g) => g.map((s) => s.pos).join('+')).join(',');
}

/** The best assignment of `segs` (file order) to `heads`; `budget` bounds the search. */
export function solve(heads: Head[], segs: Seg[], budget = 20_000): Solved {
  const cache = new Map<string, boolean[]>();
  const st: State = { form: heads.map((h) => h.form), groups: heads.map((h) => h.groups.map((g) => [...g])), owner: new Map() };
  for (let i = 0; i < heads.length; i++) for (const g of heads[i]!.groups) for (const s of g) st.owner.set(s.pos, i);
  const choice: number[] = []; // head index, -1 unplaced; folds are encoded as head + heads.length
  let best = Infinity;
  let leaves: number[][] = [];
  let nodes = 0;

  const leafCost = (): number => {
    let c = 0;
    heads.forEach((h, i) => {
      const form = st.form[i];
      const complete = form !== undefined && st.groups[i]!.length === FORMS[form].length;
      if (!h.ghost && !complete) c += MISSING * (formLength(form) - st.groups[i]!.length);
      if (complete && broken(h, st.groups[i]!, cache)) c += BROKEN;
    });
    return c;
  };

  /** The block of the segment before `k` can take no more lines once `k` goes elsewhere: a
   *  complete block whose writes are not whole then ends this branch (keeps the search small). */
  const closesBroken = (k: number, h: number): boolean => {
    const q = k > 0 ? st.owner.get(segs[k - 1]!.pos) : undefined;
    if (q === undefined || q === h) return false;
    const form = st.form[q];
    return form !== undefined && st.groups[q]!.length === FORMS[form].length && broken(heads[q]!, st.groups[q]!, cache);
  };

  const visit = (k: number, cost: number): void => {
    if (cost > best || ++nodes > budget) return;
    if (k === segs.length) {
      const total = cost + leafCost();
      if (total < best) {
        best = total;
        leaves = [];
      }
      if (total === best && leaves.length < MAX_LEAVES) leaves.push([...choice]);
      return;
    }
    const s = segs[k]!;
    // Open the next field of a block, trying the earliest waiting block first: when several
    // assignments fit, the first leaf found (the one kept) gives each part to the block that
    // was waiting longest, as two writers appending in turn would.
    for (let h = 0; h < heads.length; h++) {
      if (!s.upstream || heads[h]!.pos > s.pos) continue;
      const form = st.form[h];
      const n = st.groups[h]!.length;
      const fits = form ? FORMS[form][n] === s.key : n === 0 ? formStartingWith(s.key, heads[h]!.header) : null;
      if (!fits || closesBroken(k, h)) continue;
      if (!form) st.form[h] = fits as FormName;
      st.groups[h]!.push([s]);
      st.owner.set(s.pos, h);
      choice.push(h);
      visit(k + 1, cost);
      choice.pop();
      st.owner.delete(s.pos);
      st.groups[h]!.pop();
      st.form[h] = form;
    }
    // Part of the field right before it in the file.
    const prev = st.owner.get(s.pos - 1);
    if (prev !== undefined) {
      const last = st.groups[prev]![st.groups[prev]!.length - 1]!;
      last.push(s);
      st.owner.set(s.pos, prev);
      choice.push(prev + heads.length);
      visit(k + 1, cost + (last[0]!.key === 'content' ? FOLD_CONTENT : FOLD_OTHER));
      choice.pop();
      st.owner.delete(s.pos);
      last.pop();
    }
    if (closesBroken(k, -1)) return;
    choice.push(-1);
    visit(k + 1, cost + UNPLACED);
    choice.pop();
  };
  visit(0, 0);
  return replay(heads, segs, leaves.length ? leaves : [segs.map(() => -1)], best >= BROKEN || nodes > budget);
}

/** Rebuilds the chosen assignment (the first leaf) and compares the others with it. */
function replay(heads: Head[], segs: Seg[], leaves: number[][], unexplained: boolean): Solved {
  const build = (leaf: number[]): { groups: Seg[][][]; form: (FormName | undefined)[]; unplaced: Seg[] } => {
    const groups = heads.map((h) => h.groups.map((g) => [...g]));
    const form = heads.map((h) => h.form);
    const unplaced: Seg[] = [];
    leaf.forEach((c, k) => {
      const s = segs[k]!;
      if (c < 0) unplaced.push(s);
      else if (c >= heads.length) groups[c - heads.length]!.at(-1)!.push(s);
      else {
        if (!form[c]) form[c] = formStartingWith(s.key, heads[c]!.header) ?? undefined;
        groups[c]!.push([s]);
      }
    });
    return { groups, form, unplaced };
  };
  const first = build(leaves[0]!);
  const ambiguous = new Set<number>();
  for (const other of leaves.slice(1)) {
    const o = build(other);
    heads.forEach((_, i) => {
      if (signature(o.groups[i]!) !== signature(first.groups[i]!)) ambiguous.add(i);
    });
  }
  const separated = new Set<number>();
  const missing = heads.map((h, i) => {
    let end = h.pos;
    for (const g of first.groups[i]!) {
      if (g[0]!.pos !== end + 1) separated.add(i);
      end = g[g.length - 1]!.pos;
    }
    return formLength(first.form[i]) - first.groups[i]!.length;
  });
  return { groups: first.groups, form: first.form, missing, ambiguous, unplaced: first.unplaced, unexplained, separated };
}
