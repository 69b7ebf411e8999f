/**
 * Runs a parsed query over the index: each comparison is one tight loop over a typed column
 * into a byte mask, masks combine with and/or/not, text terms come from the file scan. Only the
 * rows indexed when the query starts are looked at, so a query works while indexing goes on.
 * A value the line does not have (no step, no such reward) matches no comparison, not even !=.
 * Float columns hold float32: a literal is rounded the same way, so `reward.format == 0.1` works.
 * `verdict` and `meta.<key>` need whole records (the viewer): a tree holding one is refused.
 */
import { FLAG } from './columns';
import { metaNotIndexed, parseQuery, QueryError, verdictsNotLoaded, type NumericColumn, type QueryNode } from './query';
import type { RolloutIndex } from './rolloutIndex';
import { searchRows } from './search';

export interface QueryOptions {
  signal?: AbortSignal;
}

export interface QueryResult {
  /** Matching rows in file order. */
  rows: Int32Array;
  /** Rows the query looked at (the index size when it started). */
  scanned: number;
}

/** Parses and runs `query` (an empty query matches every row). Throws `QueryError`. */
export async function runQuery(index: RolloutIndex, query: string | QueryNode, opts: QueryOptions = {}): Promise<QueryResult> {
  const n = index.count;
  if (typeof query === 'string' && query.trim() === '') return { rows: Int32Array.from({ length: n }, (_, i) => i), scanned: n };
  const node = typeof query === 'string' ? parseQuery(query) : query;
  checkColumns(index, node);
  const mask = await evaluate(index, node, n, opts);
  return { rows: maskToRows(mask), scanned: n };
}

/** Numeric terms only, synchronously (no text search). Throws `QueryError`. */
export function filterNumeric(index: RolloutIndex, node: QueryNode, n = index.count): Uint8Array {
  checkColumns(index, node);
  const m = evalSync(index, node, n);
  if (m === null) throw new QueryError('text search needs runQuery (it reads the file)', 1);
  return m;
}

function checkColumns(index: RolloutIndex, node: QueryNode): void {
  if (node.kind === 'and' || node.kind === 'or') {
    checkColumns(index, node.left);
    checkColumns(index, node.right);
  } else if (node.kind === 'not') checkColumns(index, node.arg);
  // Refused before any column is read, wherever the term sits in the tree.
  else if (node.kind === 'meta') throw metaNotIndexed(node.key, node.at);
  else if (node.kind === 'verdict') throw verdictsNotLoaded(node.field, node.at);
  else if (node.kind === 'compare' && node.column.startsWith('reward.')) {
    const fn = node.column.slice('reward.'.length);
    if (!index.rewards.has(fn)) {
      const known = index.rewardNames.length ? index.rewardNames.join(', ') : 'none logged yet';
      throw new QueryError(`no reward function "${fn}" in this file (logged: ${known})`, node.at + 'reward.'.length);
    }
  }
}

async function evaluate(index: RolloutIndex, node: QueryNode, n: number, opts: QueryOptions): Promise<Uint8Array> {
  const sync = evalSync(index, node, n);
  if (sync) return sync;
  switch (node.kind) {
    case 'and':
    case 'or': {
      const a = await evaluate(index, node.left, n, opts);
      // and: skip the right side's file scan when nothing is left to match.
      if (node.kind === 'and' && !a.includes(1)) return a;
      const b = await evaluate(index, node.right, n, opts);
      for (let i = 0; i < n; i++) a[i] = node.kind === 'and' ? a[i]! & b[i]! : a[i]! | b[i]!;
      return a;
    }
    case 'not': {
      const a = await evaluate(index, node.arg, n, opts);
      for (let i = 0; i < n; i++) a[i] = a[i]! ^ 1;
      return a;
    }
    case 'text':
      return searchRows(index, node.pattern, node.field, n, opts.signal);
    default:
      throw new Error('unreachable: synchronous node');
  }
}

/** The mask of a subtree without text terms; null when it has one. */
function evalSync(index: RolloutIndex, node: QueryNode, n: number): Uint8Array | null {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const a = evalSync(index, node.left, n);
      const b = a && evalSync(index, node.right, n);
      if (!a || !b) return null;
      if (node.kind === 'and') for (let i = 0; i < n; i++) a[i] = a[i]! & b[i]!;
      else for (let i = 0; i < n; i++) a[i] = a[i]! | b[i]!;
      return a;
    }
    case 'not': {
      const a = evalSync(index, node.arg, n);
      if (!a) return null;
      for (let i = 0; i < n; i++) a[i] = a[i]! ^ 1;
      return a;
    }
    case 'compare':
      return compare(index, node.column, node.op, node.value, n);
    case 'group': {
      const out = new Uint8Array(n);
      const g = index.groups.id(node.key);
      const col = index.group.data;
      const want = node.op === '==' ? 1 : 0;
      for (let i = 0; i < n; i++) out[i] = (col[i] === g ? 1 : 0) === want ? 1 : 0;
      return out;
    }
    case 'flag': {
      const out = new Uint8Array(n);
      const want = node.want ? 1 : 0;
      if (node.flag === 'zero_variance') {
        const zv = new Uint8Array(index.groups.count);
        for (let g = 0; g < zv.length; g++) zv[g] = index.groups.zeroVariance(g) ? 1 : 0;
        const col = index.group.data;
        for (let i = 0; i < n; i++) out[i] = zv[col[i]!] === want ? 1 : 0;
      } else {
        const bit = node.flag === 'format_ok' ? FLAG.formatOk : FLAG.mismatch;
        const f = index.flags.data;
        for (let i = 0; i < n; i++) out[i] = ((f[i]! & bit) !== 0 ? 1 : 0) === want ? 1 : 0;
      }
      return out;
    }
    case 'text':
      return null;
    case 'verdict':
      throw verdictsNotLoaded(node.field, node.at);
    case 'meta':
      throw metaNotIndexed(node.key, node.at);
  }
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
    default: {
      const col = index.rewards.get(column.slice('reward.'.length));
      if (!col) throw new QueryError(`no reward function "${column}"`, 1);
      return { data: col.data, float: true, minusOneAbsent: false };
    }
  }
}

function compare(index: RolloutIndex, column: NumericColumn, op: string, literal: number, n: number): Uint8Array {
  const { data, float, minusOneAbsent } = numericColumn(index, column);
  const out = new Uint8Array(n);
  const x = float ? Math.fround(literal) : literal;
  // One loop per operator keeps each loop branch-light; NaN fails every test by itself.
  const absent = minusOneAbsent ? -1 : NaN;
  switch (op) {
    case '<': for (let i = 0; i < n; i++) out[i] = data[i]! < x && data[i] !== absent ? 1 : 0; break;
    case '<=': for (let i = 0; i < n; i++) out[i] = data[i]! <= x && data[i] !== absent ? 1 : 0; break;
    case '>': for (let i = 0; i < n; i++) out[i] = data[i]! > x && data[i] !== absent ? 1 : 0; break;
    case '>=': for (let i = 0; i < n; i++) out[i] = data[i]! >= x && data[i] !== absent ? 1 : 0; break;
    case '==': for (let i = 0; i < n; i++) out[i] = data[i] === x && data[i] !== absent ? 1 : 0; break;
    default: for (let i = 0; i < n; i++) { const v = data[i]!; out[i] = v === v && v !== x && v !== absent ? 1 : 0; }
  }
  return out;
}

function maskToRows(mask: Uint8Array): Int32Array {
  let k = 0;
  for (let i = 0; i < mask.length; i++) k += mask[i]!;
  const rows = new Int32Array(k);
  k = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) rows[k++] = i;
  return rows;
}

export type SortColumn = NumericColumn | 'group' | 'format_ok' | 'zero_variance' | 'mismatch';

/** `rows` ordered by a column (absent values last, ties in file order). */
export function sortRows(index: RolloutIndex, rows: Int32Array, by: SortColumn, descending = false): Int32Array {
  const keys = new Float64Array(rows.length);
  const f = index.flags.data;
  const g = index.group.data;
  if (by === 'group') rows.forEach((r, k) => (keys[k] = g[r]!));
  else if (by === 'format_ok') rows.forEach((r, k) => (keys[k] = f[r]! & FLAG.formatOk ? 1 : 0));
  else if (by === 'mismatch') rows.forEach((r, k) => (keys[k] = f[r]! & FLAG.mismatch ? 1 : 0));
  else if (by === 'zero_variance') rows.forEach((r, k) => (keys[k] = index.groups.zeroVariance(g[r]!) ? 1 : 0));
  else {
    const { data, minusOneAbsent } = numericColumn(index, by);
    rows.forEach((r, k) => {
      const v = data[r]!;
      keys[k] = minusOneAbsent && v === -1 ? NaN : v;
    });
  }
  const sign = descending ? -1 : 1;
  const order = Uint32Array.from({ length: rows.length }, (_, k) => k).sort((a, b) => {
    const x = keys[a]!;
    const y = keys[b]!;
    if (x !== x || y !== y) return x !== x ? (y !== y ? a - b : 1) : -1;
    return x === y ? a - b : (x < y ? -1 : 1) * sign;
  });
  return Int32Array.from(order, (k) => rows[k]!);
}
