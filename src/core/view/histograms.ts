/**
 * The rollout viewer's reward histograms (docs/query.md, "Histograms"): for the source's
 * completions, one histogram per numeric column the viewer's filter can name and that holds
 * values — the logged total `reward`, each `reward.<name>`, the recomputed `score` and each
 * `score.<name>`, and `advantage` when logged — with counts
 * for the whole list and for the filtered list, and for each bar the filter clause that selects
 * exactly its completions.
 *
 * Exactness: the index stores rewards and advantages as float32 and the query rounds a literal
 * the same way (src/core/index/filter.ts), so every edge is chosen as a short decimal, rounded to
 * float32 here exactly as the query will round it, and the bars are counted against those rounded
 * edges with the query's own comparisons. A bar's count is therefore what its clause selects.
 * Pure core: reads a RolloutView's columns and list, never a record.
 */
import { parseQuery, type NumericColumn } from '../index/query';
import { numericColumn } from '../index/filter';
import { readFilterText, readSort } from './filterText';
import type { RolloutView } from './rolloutView';
import type { Histogram, HistogramBar, HistogramSet } from './histogramTypes';

export type { Histogram, HistogramBar, HistogramSet } from './histogramTypes';

export interface HistogramOptions {
  /** Most bins of a range histogram (default 10). */
  bins?: number;
  /** A column with at most this many distinct values gets one bar per value (default 12). */
  maxDistinct?: number;
}

/** The shortest decimal that the query reads back (rounded to float32) as `v`, a float32 value. */
export function float32Text(v: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

/** What the query makes of a literal: the number, rounded to float32 (float columns). */
const asQueryReadsIt = (text: string): number => Math.fround(Number(text));

/** Can the filter language name this column? (`reward.<name>` takes letters, digits, `_`, `-`, `.`) */
function nameable(column: string): boolean {
  try {
    const node = parseQuery(`${column} >= 0`);
    return node.kind === 'compare' && node.column === column;
  } catch {
    return false;
  }
}

/**
 * The filter text that selects what `current` selects and `clause`: the clause alone when there
 * is no filter, `(<current>) and <clause>` for a query, plain words as the text term they are
 * (`text ~ /words/i`), a trailing `sort:` kept at the end.
 */
export function andClause(current: string, clause: string): string {
  const s = readSort(current);
  const rest = 'rest' in s ? s.rest : current;
  const sort = 'rest' in s && s.sort ? ' ' + current.slice(rest.length).trim() : '';
  const reading = readFilterText(rest);
  if (reading.kind === 'none') return clause + sort;
  if (reading.kind === 'words') {
    const escaped = reading.needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\//g, '\\/');
    return `text ~ /${escaped}/i and ${clause}${sort}`;
  }
  return `(${rest.trim()}) and ${clause}${sort}`;
}

/** Bin edges (float32, as the query reads them) with their texts: nice decimals when they cover [min, max], else even splits of it. */
function rangeEdges(min: number, max: number, bins: number): { edges: number[]; texts: string[] } {
  const raw = (max - min) / bins;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10, 20, 25, 50]) {
    const step = m * mag;
    const decimals = Math.max(0, Math.ceil(-Math.log10(step)) + 1);
    if (decimals > 20) break;
    const first = Math.floor(min / step);
    const texts: string[] = [];
    const edges: number[] = [];
    for (let i = 0; i <= bins + 1; i++) {
      const t = String(Number(((first + i) * step).toFixed(decimals)));
      const e = asQueryReadsIt(t);
      if (edges.length && e <= edges.at(-1)!) break;
      texts.push(t);
      edges.push(e);
      if (e >= max) break;
    }
    if (edges.length >= 2 && edges[0]! <= min && edges.at(-1)! >= max && edges.length - 1 <= bins) return { edges, texts };
  }
  // Even splits of the float32 range itself (tiny ranges, huge magnitudes): exact, if not round.
  const edges: number[] = [];
  const texts: string[] = [];
  for (let i = 0; i <= bins; i++) {
    const v = i === 0 ? min : i === bins ? max : Math.fround(min + ((max - min) * i) / bins);
    const t = float32Text(v);
    const e = asQueryReadsIt(t);
    if (edges.length && e <= edges.at(-1)!) continue;
    edges.push(e);
    texts.push(t);
  }
  return { edges, texts };
}

/** Index of the bin holding `v`: edges[k] <= v < edges[k + 1], the last bin closed. */
function binOf(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length - 2;
  if (v >= edges[hi]!) return hi;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (edges[mid]! <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The histograms of `view`'s list as it stands: whole list = every completion of a settled group;
 * filtered list = the listed groups' completions that match the filter in force (flags included).
 */
export function computeHistograms(view: RolloutView, opts: HistogramOptions = {}): HistogramSet {
  const bins = Math.max(1, opts.bins ?? 10);
  const maxDistinct = opts.maxDistinct ?? 12;
  const index = view.index;
  const n = index.count;
  const settled = view.settledCount;
  const gdata = index.group.data;
  const size = index.groups.size.data;
  const whole: number[] = [];
  for (let r = 0; r < n; r++) {
    const g = gdata[r]!;
    if (g >= 0 && g < settled && size[g]! > 0) whole.push(r);
  }
  // The filtered list: each listed group's matching rows; `inList` marks them.
  const inList = new Uint8Array(n);
  const listed: Int32Array[] = [];
  let filteredCount = 0;
  for (const g of view.listedGroups()) {
    const rows = view.matchingRows(g);
    listed.push(rows);
    for (const r of rows) inList[r] = 1;
    filteredCount += rows.length;
  }
  const filterText = view.list.appliedText;
  const names = new Set([...view.rewardNames, ...index.rewardNames]);
  const columns: NumericColumn[] = ['reward'];
  const unfilterable: string[] = [];
  for (const name of index.rewards.keys()) {
    if (!names.has(name)) continue;
    if (nameable(`reward.${name}`)) columns.push(`reward.${name}`);
    else unfilterable.push(name);
  }
  // What we recomputed (the viewer's numbers), beside what the trainer logged.
  columns.push('score');
  for (const name of index.scored.keys()) {
    if (nameable(`score.${name}`)) columns.push(`score.${name}`);
    else unfilterable.push(name);
  }
  columns.push('advantage');
  const histograms: Histogram[] = [];
  for (const column of columns) {
    const h = histogramOf(column, numericColumn(index, column).data, whole, listed, inList, filterText, bins, maxDistinct);
    if (h) histograms.push(h);
  }
  return { total: whole.length, filtered: filteredCount, filterText, histograms, unfilterable };
}

function histogramOf(column: NumericColumn, data: ArrayLike<number>, whole: readonly number[], listed: readonly Int32Array[], inList: Uint8Array,
  filterText: string, bins: number, maxDistinct: number): Histogram | null {
  let min = Infinity;
  let max = -Infinity;
  let missing = 0;
  let filteredMissing = 0;
  const distinct = new Set<number>();
  for (const r of whole) {
    const v = data[r]!;
    if (Number.isNaN(v)) {
      missing++;
      if (inList[r]) filteredMissing++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    if (distinct.size <= maxDistinct) distinct.add(v);
  }
  if (missing === whole.length) return null;
  let kind: Histogram['kind'];
  let edges: number[];
  let texts: string[];
  if (distinct.size <= maxDistinct || min === max) {
    kind = 'values';
    texts = [...distinct].sort((a, b) => a - b).map(float32Text);
    edges = texts.map(asQueryReadsIt);
  } else {
    kind = 'range';
    ({ edges, texts } = rangeEdges(min, max, bins));
  }
  const k = kind === 'values' ? edges.length : edges.length - 1;
  const count = new Array<number>(k).fill(0);
  const filtered = new Array<number>(k).fill(0);
  const groups = new Array<number>(k).fill(0);
  const valueBar = new Map(edges.map((e, i) => [e, i]));
  const barOf = (v: number): number => (kind === 'values' ? valueBar.get(v)! : binOf(edges, v));
  for (const r of whole) {
    const v = data[r]!;
    if (!Number.isNaN(v)) count[barOf(v)]!++;
  }
  // Group by group, so a group counts once per bar it has a completion in.
  const seen = new Int32Array(k).fill(-1);
  listed.forEach((rows, at) => {
    for (const r of rows) {
      const v = data[r]!;
      if (Number.isNaN(v)) continue;
      const b = barOf(v);
      filtered[b]!++;
      if (seen[b] !== at) {
        seen[b] = at;
        groups[b]!++;
      }
    }
  });
  const bars: HistogramBar[] = [];
  for (let i = 0; i < k; i++) {
    const last = i === k - 1;
    const clause = kind === 'values'
      ? `${column} == ${texts[i]}`
      : `${column} >= ${texts[i]} and ${column} ${last ? '<=' : '<'} ${texts[i + 1]}`;
    bars.push({
      lo: edges[i]!,
      hi: kind === 'values' ? edges[i]! : edges[i + 1]!,
      label: kind === 'values' ? texts[i]! : `[${texts[i]}, ${texts[i + 1]}${last ? ']' : ')'}`,
      clause,
      apply: andClause(filterText, clause),
      count: count[i]!,
      filtered: filtered[i]!,
      filteredGroups: groups[i]!,
    });
  }
  return { column, kind, bars, missing, filteredMissing };
}
