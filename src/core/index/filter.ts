/**
 * The one evaluator of the filter language (docs/query.md), over the index's columns: each
 * comparison is one tight loop over a typed column into a byte mask, masks combine with
 * and/or/not. Terms that need a record's body (`text ~`, `completion ~`, `prompt ~`, `meta.<key>`)
 * come as leaf masks: `runQuery` computes them by reading the bodies back (bodyScan), the viewer
 * keeps them up to date as records arrive. `verdict` reads the verdict columns where verdicts
 * were looked up. A value a row does not have (no step, no such reward) matches no comparison,
 * not even !=. Float columns hold float32: a literal is rounded the same way.
 */
import { FLAG } from './columns';
import { metaNotIndexed, parseQuery, QueryError, verdictsNotLoaded, type NumericColumn, type QueryNode } from './query';
import { VERDICT_CODE, VERDICT_TYPE_CODE, type RolloutIndex } from './rolloutIndex';
import { searchRows } from './search';
import { forEachRecord } from './bodyScan';
import { GROUP_FLAG_BITS } from './score';
import { metaMatches, metaValue } from './recordTerms';

export interface QueryOptions {
  signal?: AbortSignal;
  /** Verdicts were looked up into the verdict columns (else a `verdict` term is refused). */
  verdicts?: boolean;
}

export interface QueryResult {
  /** Matching rows in file order. */
  rows: Int32Array;
  /** Rows the query looked at (the index size when it started). */
  scanned: number;
}

/** A body term's mask over every row of the index (1: matches), or undefined when not computed. */
export type LeafMasks = (node: QueryNode) => Uint8Array | undefined;

/** Parses and runs `query` (an empty query matches every row) over the live rows. Throws `QueryError`. */
export async function runQuery(index: RolloutIndex, query: string | QueryNode, opts: QueryOptions = {}): Promise<QueryResult> {
  const n = index.count;
  if (typeof query === 'string' && query.trim() === '') return { rows: liveRows(index, n), scanned: n };
  const node = typeof query === 'string' ? parseQuery(query, { verdicts: opts.verdicts, meta: true }) : query;
  checkColumns(index, node, opts.verdicts === true);
  const leaves = await bodyLeaves(index, node, n, opts.signal);
  const mask = evaluateRows(index, node, null, n, (l) => leaves.get(l));
  const group = index.group.data;
  for (let i = 0; i < n; i++) if (group[i]! < 0) mask[i] = 0;
  return { rows: maskToRows(mask), scanned: n };
}

/** Every body term of a query (text and meta), in tree order. */
export function bodyTerms(node: QueryNode): QueryNode[] {
  switch (node.kind) {
    case 'and':
    case 'or': return [...bodyTerms(node.left), ...bodyTerms(node.right)];
    case 'not': return bodyTerms(node.arg);
    case 'text':
    case 'meta': return [node];
    default: return [];
  }
}

/** Each body term's mask over rows `[0, n)` (or only `rows`), read from the bodies. */
export async function bodyLeaves(index: RolloutIndex, node: QueryNode, n: number, signal?: AbortSignal, rows?: ArrayLike<number>): Promise<Map<QueryNode, Uint8Array>> {
  const out = new Map<QueryNode, Uint8Array>();
  const terms = bodyTerms(node);
  for (const t of terms) if (t.kind === 'text') out.set(t, await searchRows(index, t.pattern, t.field, n, signal, rows));
  const meta = terms.filter((t): t is Extract<QueryNode, { kind: 'meta' }> => t.kind === 'meta');
  if (meta.length) {
    const masks = meta.map((t) => {
      const m = new Uint8Array(n);
      out.set(t, m);
      return m;
    });
    await forEachRecord(index, n, (row, { record }) => {
      meta.forEach((t, k) => (masks[k]![row] = metaMatches(metaValue(record, t.key), t.op, t.value) ? 1 : 0));
    }, { signal, only: rows });
  }
  return out;
}

/** The rows of `[0, n)` still in a group (a truncated file's old rows are not). */
function liveRows(index: RolloutIndex, n: number): Int32Array {
  const group = index.group.data;
  let k = 0;
  for (let i = 0; i < n; i++) if (group[i]! >= 0) k++;
  const out = new Int32Array(k);
  k = 0;
  for (let i = 0; i < n; i++) if (group[i]! >= 0) out[k++] = i;
  return out;
}

function checkColumns(index: RolloutIndex, node: QueryNode, verdicts: boolean): void {
  if (node.kind === 'and' || node.kind === 'or') {
    checkColumns(index, node.left, verdicts);
    checkColumns(index, node.right, verdicts);
  } else if (node.kind === 'not') checkColumns(index, node.arg, verdicts);
  else if (node.kind === 'verdict' && !verdicts) throw verdictsNotLoaded(node.field, node.at);
  else if (node.kind === 'compare' && node.column.startsWith('reward.')) {
    const fn = node.column.slice('reward.'.length);
    if (!index.rewards.has(fn)) {
      const known = index.rewardNames.length ? index.rewardNames.join(', ') : 'none logged yet';
      throw new QueryError(`no reward function "${fn}" in this file (logged: ${known})`, node.at + 'reward.'.length);
    }
  } else if (node.kind === 'compare' && node.column.startsWith('score.')) {
    // Known once a row is scored (the variant's functions); before that it matches nothing yet.
    const fn = node.column.slice('score.'.length);
    if (index.scored.size > 0 && !index.scored.has(fn)) {
      throw new QueryError(`no recomputed reward "${fn}" (recomputed: ${[...index.scored.keys()].join(', ')})`, node.at + 'score.'.length);
    }
  }
}

/**
 * The query's mask over `rows` (every row `[0, n)` when null): out[k] is row rows[k]'s result.
 * Body terms read `leaf` (a mask over all rows); one it lacks is an error.
 */
export function evaluateRows(index: RolloutIndex, node: QueryNode, rows: Int32Array | null, n: number, leaf: LeafMasks): Uint8Array {
  const m = rows ? rows.length : n;
  const at = (k: number): number => (rows ? rows[k]! : k);
  switch (node.kind) {
    case 'and':
    case 'or': {
      const a = evaluateRows(index, node.left, rows, n, leaf);
      const b = evaluateRows(index, node.right, rows, n, leaf);
      if (node.kind === 'and') for (let k = 0; k < m; k++) a[k] = a[k]! & b[k]!;
      else for (let k = 0; k < m; k++) a[k] = a[k]! | b[k]!;
      return a;
    }
    case 'not': {
      const a = evaluateRows(index, node.arg, rows, n, leaf);
      for (let k = 0; k < m; k++) a[k] = a[k]! ^ 1;
      return a;
    }
    case 'compare':
      return compare(index, node.column, node.op, node.value, rows, m);
    case 'group': {
      const out = new Uint8Array(m);
      const g = index.groups.id(node.key);
      const col = index.group.data;
      const want = node.op === '==' ? 1 : 0;
      for (let k = 0; k < m; k++) out[k] = (col[at(k)] === g ? 1 : 0) === want ? 1 : 0;
      return out;
    }
    case 'flag': {
      const out = new Uint8Array(m);
      const want = node.want ? 1 : 0;
      if (node.flag === 'zero_variance') {
        const col = index.group.data;
        const f = index.flags.data;
        for (let k = 0; k < m; k++) out[k] = (zeroVarianceAt(index, at(k), col[at(k)]!, f) ? 1 : 0) === want ? 1 : 0;
      } else {
        const bit = node.flag === 'format_ok' ? FLAG.formatOk : FLAG.mismatch;
        const f = index.flags.data;
        for (let k = 0; k < m; k++) out[k] = ((f[at(k)]! & bit) !== 0 ? 1 : 0) === want ? 1 : 0;
      }
      return out;
    }
    case 'verdict': {
      const out = new Uint8Array(m);
      const col = node.field === 'verdict' ? index.verdict : index.verdictType;
      const codes: Record<string, number> = node.field === 'verdict' ? VERDICT_CODE : VERDICT_TYPE_CODE;
      const code = codes[node.value];
      const eq = node.op === '==';
      for (let k = 0; k < m; k++) {
        const v = col.get(at(k));
        // verdict_type is absent on a verdict without a type: it matches no comparison, as elsewhere.
        out[k] = node.field === 'verdict_type' && v === 0 ? 0 : (v === code) === eq ? 1 : 0;
      }
      return out;
    }
    case 'text':
    case 'meta': {
      const mask = leaf(node);
      if (!mask) throw node.kind === 'meta' ? metaNotIndexed(node.key, node.at) : new QueryError('text search needs runQuery (it reads the file)', node.at);
      const out = new Uint8Array(m);
      for (let k = 0; k < m; k++) out[k] = mask[at(k)]!;
      return out;
    }
  }
}

/**
 * The group's zero-variance flag (score.ts `settleGroup`: ≥ 2 members whose totals are equal, the
 * logged totals when every member logs one, else the recomputed ones). A row not scored (a
 * scanned file, no rescore asked for) knows only the logged totals.
 */
function zeroVarianceAt(index: RolloutIndex, row: number, g: number, flags: Uint8Array): boolean {
  if (g < 0) return false;
  if (flags[row]! & FLAG.scored) return (index.groups.flags.data[g]! & GROUP_FLAG_BITS.zero_variance) !== 0;
  return index.groups.zeroVariance(g);
}

/** The typed column behind a numeric name, and whether -1 there means "absent". */
export function numericColumn(index: RolloutIndex, column: NumericColumn): { data: ArrayLike<number>; float: boolean; minusOneAbsent: boolean } {
  switch (column) {
    case 'step': return { data: index.step.data, float: false, minusOneAbsent: true };
    case 'index': return { data: index.index.data, float: false, minusOneAbsent: true };
    case 'reward': return { data: index.total.data, float: true, minusOneAbsent: false };
    case 'advantage': return { data: index.advantage.data, float: true, minusOneAbsent: false };
    case 'length': return { data: index.length.data, float: false, minusOneAbsent: false };
    case 'line': return { data: index.line.data, float: false, minusOneAbsent: false };
    case 'score': return { data: index.scoredTotal.data, float: true, minusOneAbsent: false };
    default: {
      if (column.startsWith('score.')) {
        // NaN (not scored) until the scoring pass fills it: matches no comparison.
        const scored = index.scored.get(column.slice('score.'.length));
        return { data: scored ? scored.data : new Float32Array(index.count).fill(NaN), float: true, minusOneAbsent: false };
      }
      const col = index.rewards.get(column.slice('reward.'.length));
      if (!col) throw new QueryError(`no reward function "${column}"`, 1);
      return { data: col.data, float: true, minusOneAbsent: false };
    }
  }
}

/** Row `i`'s value of a numeric column as queries and sorting read it (NaN when absent). */
export function columnValue(index: RolloutIndex, column: NumericColumn, i: number): number {
  if (column.startsWith('reward.') && !index.rewards.has(column.slice('reward.'.length))) return NaN;
  if (column.startsWith('score.') && !index.scored.has(column.slice('score.'.length))) return NaN;
  const { data, minusOneAbsent } = numericColumn(index, column);
  const v = data[i]!;
  return minusOneAbsent && v === -1 ? NaN : v;
}

function compare(index: RolloutIndex, column: NumericColumn, op: string, literal: number, rows: Int32Array | null, m: number): Uint8Array {
  const { data, float, minusOneAbsent } = numericColumn(index, column);
  const out = new Uint8Array(m);
  const x = float ? Math.fround(literal) : literal;
  // One loop per operator keeps each loop branch-light; NaN fails every test by itself.
  const absent = minusOneAbsent ? -1 : NaN;
  if (rows) {
    for (let k = 0; k < m; k++) out[k] = test(data[rows[k]!]!, op, x, absent) ? 1 : 0;
    return out;
  }
  switch (op) {
    case '<': for (let i = 0; i < m; i++) out[i] = data[i]! < x && data[i] !== absent ? 1 : 0; break;
    case '<=': for (let i = 0; i < m; i++) out[i] = data[i]! <= x && data[i] !== absent ? 1 : 0; break;
    case '>': for (let i = 0; i < m; i++) out[i] = data[i]! > x && data[i] !== absent ? 1 : 0; break;
    case '>=': for (let i = 0; i < m; i++) out[i] = data[i]! >= x && data[i] !== absent ? 1 : 0; break;
    case '==': for (let i = 0; i < m; i++) out[i] = data[i] === x && data[i] !== absent ? 1 : 0; break;
    default: for (let i = 0; i < m; i++) { const v = data[i]!; out[i] = v === v && v !== x && v !== absent ? 1 : 0; }
  }
  return out;
}

function test(v: number, op: string, x: number, absent: number): boolean {
  if (v !== v || v === absent) return false;
  switch (op) {
    case '<': return v < x;
    case '<=': return v <= x;
    case '>': return v > x;
    case '>=': return v >= x;
    case '==': return v === x;
    default: return v !== x;
  }
}

function maskToRows(mask: Uint8Array): Int32Array {
  let k = 0;
  for (let i = 0; i < mask.length; i++) k += mask[i]!;
  const rows = new Int32Array(k);
  k = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) rows[k++] = i;
  return rows;
}

/** Positions of `keys` in sorted order: NaN last, ties by position. */
export function sortedOrder(keys: Float64Array, descending: boolean): Uint32Array {
  const sign = descending ? -1 : 1;
  return Uint32Array.from({ length: keys.length }, (_, k) => k).sort((a, b) => {
    const x = keys[a]!;
    const y = keys[b]!;
    if (x !== x || y !== y) return x !== x ? (y !== y ? a - b : 1) : -1;
    return x === y ? a - b : (x < y ? -1 : 1) * sign;
  });
}
