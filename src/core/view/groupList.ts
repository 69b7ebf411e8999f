/**
 * The viewer's list of groups: the filter in force (docs/query.md), each row's result under it,
 * the groups that pass in file order (or sorted, or newest first), and the rows the webview pages
 * through. The query runs on the index's one evaluator (src/core/index/filter.ts); its body terms
 * (text, meta, plain words) are masks read back once when the filter is set and kept up to date
 * as records arrive (`onRecord`). Part of RolloutView, which settles the groups.
 */
import { completionText, type RolloutRecord } from '../schema/record';
import type { RolloutIndex } from '../index/rolloutIndex';
import { GROUP_FLAG_BITS } from '../index/score';
import { bodyLeaves, bodyTerms, columnValue, evaluateRows, sortedOrder } from '../index/filter';
import { bodyTermMatches } from '../index/recordTerms';
import { u8, type Column } from '../index/columns';
import type { QueryNode } from '../index/query';
import { readFilterText, type FilterText } from './filterText';
import type { GroupRow, RowFilter } from './types';

/** Why the filter text could not be applied (the previous filter stays). */
export interface FilterProblem {
  message: string;
  column: number;
}

/** What the list reads of the view it belongs to. */
export interface ListHost {
  readonly index: RolloutIndex;
  /** Groups `[0, settledCount)` have settled and may be listed. */
  readonly settledCount: number;
  readonly rewardNames: ReadonlySet<string>;
  readonly metaKeys: ReadonlySet<string>;
  /** A scanned file is still being scanned or scored: its meta keys are not all known. */
  readonly namesPartial: boolean;
  /** The scan in progress, if any (body terms wait for it). */
  readonly scanInProgress: Promise<unknown> | null;
  group(g: number): { key: string; step: number | null; size: number };
  scoreOf(g: number): { flags: GroupRow['flags']; min: number | null; max: number | null; mean: number | null };
}

const SNIPPET = 120;

export class GroupList {
  /** Ascending ids of the groups that pass. */
  private filtered: number[] = [];
  /** With a `sort:` clause: `filtered` in sorted order. */
  private sorted: number[] | null = null;
  private filter: RowFilter = { text: '', flags: [] };
  private reading: FilterText = { kind: 'none' };
  /** Per row: the current query holds (1) or not; 1 everywhere without a query. */
  private rowMask = u8();
  /** The body terms of the query in force or being applied, per row. */
  private leaves = new Map<QueryNode, Column<Uint8Array>>();
  private filterRun: AbortController | null = null;
  /** The last filter text that failed, and why; null when the filter in use is the one asked for. */
  filterProblem: FilterProblem | null = null;

  constructor(private readonly host: ListHost) {}

  get count(): number {
    return this.filtered.length;
  }

  /** True when the list runs newest first (latest-written groups at the top). */
  get newestFirst(): boolean {
    return this.filter.order === 'newest';
  }

  /** The filter text in force: the last one that worked (an error keeps it). */
  get appliedText(): string {
    return this.filter.text;
  }

  /** What the filter text was read as: a query, plain words, or nothing. */
  get filterKind(): FilterText['kind'] {
    return this.filterProblem ? 'error' : this.reading.kind;
  }

  /** Position of group `g` in the list as shown, or -1. */
  ordinalOf(g: number): number {
    if (this.sorted) return this.sorted.indexOf(g);
    const at = lowerBound(this.filtered, g);
    if (this.filtered[at] !== g) return -1;
    return this.newestFirst ? this.filtered.length - 1 - at : at;
  }

  groupAt(ordinal: number): number | undefined {
    if (ordinal < 0 || ordinal >= this.filtered.length) return undefined;
    if (this.sorted) return this.sorted[ordinal];
    return this.filtered[this.newestFirst ? this.filtered.length - 1 - ordinal : ordinal];
  }

  /** The first group of `step` in the list as it is shown, as [group, ordinal]. */
  firstOfStep(step: number): [number, number] | undefined {
    const st = this.host.index.groups.step.data;
    for (let o = 0; o < this.filtered.length; o++) {
      const g = this.groupAt(o)!;
      if (st[g] === step) return [g, o];
    }
    return undefined;
  }

  /** Group ids in the list as shown. */
  listed(): number[] {
    return Array.from({ length: this.filtered.length }, (_, o) => this.groupAt(o)!);
  }

  /**
   * Applies a filter and resolves with the filtered count. Text that reads as a query but does
   * not parse keeps the previous filter (and sets `filterProblem`), so the list is not cleared.
   * A query with text or meta terms reads the bodies back once; a newer filter cancels it.
   */
  async apply(filter: RowFilter): Promise<number> {
    this.filterRun?.abort();
    const h = this.host;
    const rewardNames = h.index.rewardNames.length ? new Set([...h.rewardNames, ...h.index.rewardNames]) : h.rewardNames;
    // While a scanned file is being scored its meta keys are not all known yet: no typo check then.
    const reading = readFilterText(filter.text, rewardNames, h.namesPartial ? undefined : h.metaKeys);
    if (reading.kind === 'error') {
      this.filterProblem = { message: reading.message, column: reading.column };
      this.filter = { ...this.filter, flags: filter.flags, order: filter.order };
      this.refilter();
      return this.filtered.length;
    }
    const node = reading.kind === 'none' ? null : reading.node;
    const terms = node ? bodyTerms(node) : [];
    // Body terms read every row's body: a scan in progress finishes first.
    if (terms.length && h.scanInProgress) await h.scanInProgress.catch(() => undefined);
    if (terms.length) {
      const run = (this.filterRun = new AbortController());
      // Records arriving while the bodies are read fill the new terms' columns as they come.
      const fresh = new Map<QueryNode, Column<Uint8Array>>();
      for (const t of terms) {
        const col = u8();
        col.reserve(Math.max(0, h.index.count - 1), true);
        fresh.set(t, col);
        this.leaves.set(t, col);
      }
      const n = h.index.count;
      const masks = await bodyLeaves(h.index, node!, n, run.signal).catch((e: unknown) => {
        if (run.signal.aborted) return null;
        throw e;
      });
      if (!masks || run.signal.aborted) return this.filtered.length;
      for (const [t, m] of masks) fresh.get(t)!.data.set(m.subarray(0, n));
      this.filterRun = null;
    }
    for (const t of [...this.leaves.keys()]) if (!terms.includes(t)) this.leaves.delete(t);
    this.filterProblem = null;
    this.filter = filter;
    this.reading = reading;
    this.maskAll();
    this.refilter();
    return this.filtered.length;
  }

  /** A record arrived as row `row`: the body terms in use are tested on it in hand. */
  onRecord(row: number, record: RolloutRecord): void {
    this.rowMask.reserve(row);
    for (const [node, col] of this.leaves) {
      col.reserve(row);
      col.data[row] = bodyTermMatches(node, record) ? 1 : 0;
    }
  }

  /** True when a filter with body terms is in force (rows that did not arrive one by one need `refreshLeaves`). */
  get hasBodyTerms(): boolean {
    return this.leaves.size > 0;
  }

  /** The body terms of the filter in force, for every row (after rows arrived without `onRecord`). */
  async refreshLeaves(): Promise<void> {
    const node = this.node;
    if (!node || this.leaves.size === 0) return;
    const index = this.host.index;
    const n = index.count;
    const masks = await bodyLeaves(index, node, n);
    for (const [t, m] of masks) {
      const col = u8();
      col.reserve(Math.max(0, n - 1), true);
      col.data.set(m.subarray(0, n));
      this.leaves.set(t, col);
    }
  }

  /**
   * Group `g` settled: its rows are tested again (their group-level terms may have changed) and
   * its place in the list follows. A group new since the last settle joins at the end; an
   * existing one may enter or leave (true: the list changed other than at its end).
   */
  settled(g: number, isNew: boolean): boolean {
    this.maskGroup(g);
    if (isNew) {
      if (this.passes(g)) this.filtered.push(g);
      return false;
    }
    const at = lowerBound(this.filtered, g);
    const listed = this.filtered[at] === g;
    const pass = this.passes(g);
    if (pass === listed) return false;
    if (pass) this.filtered.splice(at, 0, g);
    else this.filtered.splice(at, 1);
    return true;
  }

  /** After groups settled: a sorted list is sorted again. */
  resort(): void {
    if (this.reading.kind !== 'error' && this.reading.sort) this.sortList();
  }

  private get node(): QueryNode | null {
    return this.reading.kind === 'query' || this.reading.kind === 'words' ? this.reading.node : null;
  }

  private leafMask = (node: QueryNode): Uint8Array | undefined => this.leaves.get(node)?.data;

  /** Every row's result under the current query. */
  maskAll(): void {
    const index = this.host.index;
    const n = index.count;
    this.rowMask.reserve(Math.max(0, n - 1), true);
    const node = this.node;
    if (!node) this.rowMask.data.fill(1);
    else this.rowMask.data.set(evaluateRows(index, node, null, n, this.leafMask));
  }

  /** Group `g`'s rows' results under the current query. */
  maskGroup(g: number): void {
    const index = this.host.index;
    const rows = index.groupRows(g);
    const node = this.node;
    if (!node) {
      for (const r of rows) this.rowMask.data[r] = 1;
      return;
    }
    const m = evaluateRows(index, node, rows, index.count, this.leafMask);
    rows.forEach((r, k) => (this.rowMask.data[r] = m[k]!));
  }

  /** Lists every settled group again. */
  refilter(): void {
    this.filtered = [];
    for (let g = 0; g < this.host.settledCount; g++) if (this.passes(g)) this.filtered.push(g);
    this.sortList();
  }

  private passes(g: number): boolean {
    const index = this.host.index;
    const gt = index.groups;
    if (gt.size.data[g]! === 0) return false;
    const bits = gt.flags.data[g]!;
    if (!this.filter.flags.every((f) => (bits & GROUP_FLAG_BITS[f]) !== 0)) return false;
    if (!this.node) return true;
    return index.groupRows(g).some((r) => this.rowMask.data[r] === 1);
  }

  /** Every live row the current query holds for, in row order (the source's reading order). */
  matchedRows(): Int32Array {
    const index = this.host.index;
    const out: number[] = [];
    const node = this.node;
    for (let r = 0; r < index.count; r++) {
      const g = index.group.data[r]!;
      if (g >= 0 && g < this.host.settledCount && (!node || this.rowMask.data[r] === 1)) out.push(r);
    }
    return Int32Array.from(out);
  }

  /** Rows of group `g` that match the current query (all of them without one). */
  matchingRows(g: number): Int32Array {
    const rows = this.host.index.groupRows(g);
    return this.node ? rows.filter((r) => this.rowMask.data[r] === 1) : rows;
  }

  /**
   * Orders the list by the sort clause: a group's key is its matching completions' largest value
   * (descending) or smallest (ascending); groups without one go last; ties keep file order.
   */
  private sortList(): void {
    const spec = this.reading.kind === 'error' ? undefined : this.reading.sort;
    if (!spec) {
      this.sorted = null;
      return;
    }
    const index = this.host.index;
    const keys = new Float64Array(this.filtered.length);
    this.filtered.forEach((g, k) => {
      let best = NaN;
      for (const r of this.matchingRows(g)) {
        const v = columnValue(index, spec.column, r);
        if (Number.isNaN(v)) continue;
        if (Number.isNaN(best) || (spec.descending ? v > best : v < best)) best = v;
      }
      keys[k] = best;
    });
    this.sorted = Array.from(sortedOrder(keys, spec.descending), (k) => this.filtered[k]!);
  }

  /** The list's rows `[start, start + count)`; each prompt snippet is read back from the group's first record. */
  async rows(start: number, count: number): Promise<GroupRow[]> {
    const h = this.host;
    const out: GroupRow[] = [];
    const end = Math.min(this.filtered.length, start + Math.max(0, count));
    for (let o = Math.max(0, start); o < end; o++) {
      const g = this.groupAt(o)!;
      const info = h.group(g);
      const s = h.scoreOf(g);
      const first = (await h.index.readRecord(h.index.groupRows(g)[0]!)).record;
      const prompt = (first.prompt?.text ?? completionText(first)).replace(/\s+/g, ' ').trim();
      out.push({
        key: info.key,
        ordinal: o,
        step: info.step,
        promptSnippet: prompt.length > SNIPPET ? prompt.slice(0, SNIPPET - 1) + '…' : prompt,
        size: info.size,
        rewardMin: s.min,
        rewardMax: s.max,
        rewardMean: s.mean,
        flags: s.flags,
      });
    }
    return out;
  }

  /** A new index (the source started over): every row mask and body term starts empty. */
  reset(): void {
    this.filtered = [];
    this.sorted = null;
    this.rowMask = u8();
    for (const t of [...this.leaves.keys()]) this.leaves.set(t, u8());
  }

  /** Drops spare room beyond `keep` rows. */
  trim(keep: number): void {
    if (this.rowMask.data.length > keep) this.rowMask.fit(keep);
    for (const col of this.leaves.values()) if (col.data.length > keep) col.fit(keep);
  }

  /** Bytes the list holds (its masks and the list itself). */
  bytes(): number {
    let n = this.rowMask.data.byteLength + this.filtered.length * 8;
    for (const col of this.leaves.values()) n += col.data.byteLength;
    return n;
  }

  abort(): void {
    this.filterRun?.abort();
  }
}

/** First position in ascending `xs` holding a value ≥ x. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
