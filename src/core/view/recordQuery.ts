/**
 * The filter language of docs/query.md, evaluated over records held in memory (the viewer's
 * RolloutSet) rather than over the byte index. One language, one meaning: every column reads
 * the logged values exactly as the index does (float32 rewards, absent values match no
 * comparison, `zero_variance` from logged totals, `length` in UTF-8 bytes), except `mismatch`,
 * which here is known at once because the viewer scores every group anyway. `meta.<key>` and the
 * verdicts exist only here (the index keeps neither).
 */
import { completionText, type RolloutRecord } from '../schema/record';
import { formatMatches } from '../chain/parse';
import { FLAGS, NUMERIC_COLUMNS, parseQuery, QueryError, type CompareOp, type MetaLiteral, type NumericColumn, type QueryNode } from '../index/query';
import type { VerdictView } from '../../protocol/viewer';

/** What a term may ask of one completion. */
export interface QueryRecord {
  record: RolloutRecord;
  line: number;
  groupKey: string;
  /** The group has ≥ 2 members, each with a logged total, all equal. */
  zeroVariance: boolean;
  /** Logged rewards/total/advantage differ from the recomputed ones. */
  mismatch: boolean;
  /** The judge's verdict on this completion, if any. */
  verdict: VerdictView | null;
}

/** The `verdict` column: aligned, misaligned, uncertain, failed (the judge could not decide), or unjudged. */
export function verdictState(v: VerdictView | null): string {
  if (!v) return 'unjudged';
  if (v.failed !== undefined) return 'failed';
  return v.aligns === true ? 'aligned' : v.aligns === false ? 'misaligned' : 'uncertain';
}

/** The logged total: `reward`, else the sum of the logged per-function rewards. */
export function loggedTotal(rec: RolloutRecord): number | undefined {
  if (rec.reward !== undefined) return rec.reward;
  // Summed in name order, as the index sums them, so float rounding agrees.
  const names = Object.keys(rec.rewards ?? {}).sort();
  return names.length ? names.reduce((sum, k) => sum + rec.rewards![k]!, 0) : undefined;
}

/** A numeric column's value for one completion, as queries compare it (undefined when absent). */
export function columnValue(r: QueryRecord, column: NumericColumn): number | undefined {
  const rec = r.record;
  switch (column) {
    case 'step': return rec.step;
    case 'index': return rec.index;
    case 'line': return r.line;
    case 'length': return Buffer.byteLength(completionText(rec));
    case 'reward': return f32(loggedTotal(rec));
    case 'advantage': return f32(rec.advantage);
    default: return f32(rec.rewards?.[column.slice('reward.'.length)]);
  }
}

const f32 = (x: number | undefined) => (x === undefined ? undefined : Math.fround(x));
const FLOAT = new Set<string>(['reward', 'advantage']);

function compare(v: number | undefined, op: string, literal: number): boolean {
  if (v === undefined || Number.isNaN(v)) return false;
  switch (op) {
    case '<': return v < literal;
    case '<=': return v <= literal;
    case '>': return v > literal;
    case '>=': return v >= literal;
    case '==': return v === literal;
    default: return v !== literal;
  }
}

function textMatches(haystack: string, pattern: string | RegExp): boolean {
  if (typeof pattern === 'string') return haystack.includes(pattern);
  pattern.lastIndex = 0;
  return pattern.test(haystack);
}

/**
 * A `meta.<key>` term against the record's value (docs/query.md): a number compares with numbers,
 * a boolean counts as 0 and 1 (as in the Python that logged it, where True == 1), a string
 * compares with strings by == and != and is searched by ~. Any other pairing (a list, a dict,
 * null, a string against a number) matches no comparison, not even !=, as an absent value.
 */
export function metaMatches(v: unknown, op: CompareOp | '~', literal: MetaLiteral): boolean {
  if (op === '~') return typeof v === 'string' && typeof literal !== 'number' && typeof literal !== 'boolean' && textMatches(v, literal);
  if (typeof literal === 'string') return typeof v === 'string' && (v === literal) === (op === '==');
  if (typeof literal !== 'number' && typeof literal !== 'boolean') return false;
  // Adapters reading parquet may hand over int64 cells as bigint.
  const x = typeof v === 'boolean' || typeof v === 'bigint' ? Number(v) : typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  return compare(x, op, Number(literal));
}

/** The record's own `meta[key]` (a key such as `__proto__` is data, never the prototype). */
export function metaValue(rec: RolloutRecord, key: string): unknown {
  const meta = rec.meta;
  return meta !== undefined && Object.hasOwn(meta, key) ? meta[key] : undefined;
}

/** Whether one completion matches a parsed query. */
export function matchesQuery(node: QueryNode, r: QueryRecord): boolean {
  switch (node.kind) {
    case 'and': return matchesQuery(node.left, r) && matchesQuery(node.right, r);
    case 'or': return matchesQuery(node.left, r) || matchesQuery(node.right, r);
    case 'not': return !matchesQuery(node.arg, r);
    case 'compare': {
      const float = FLOAT.has(node.column) || node.column.startsWith('reward.');
      return compare(columnValue(r, node.column), node.op, float ? Math.fround(node.value) : node.value);
    }
    case 'group': return (r.groupKey === node.key) === (node.op === '==');
    case 'flag': {
      const on = node.flag === 'format_ok' ? formatOk(r.record) : node.flag === 'zero_variance' ? r.zeroVariance : r.mismatch;
      return on === node.want;
    }
    case 'verdict': {
      // verdict_type is absent on a verdict without a type: it matches no comparison, as elsewhere.
      const value = node.field === 'verdict' ? verdictState(r.verdict) : r.verdict?.failed === undefined ? r.verdict?.type ?? null : null;
      if (value === null) return false;
      return (value === node.value) === (node.op === '==');
    }
    case 'meta': return metaMatches(metaValue(r.record, node.key), node.op, node.value);
    case 'text': {
      const rec = r.record;
      if (node.field !== 'prompt' && textMatches(completionText(rec), node.pattern)) return true;
      return node.field !== 'completion' && textMatches(rec.prompt?.text ?? '', node.pattern);
    }
  }
}

const formatOk = (rec: RolloutRecord) => formatMatches(completionText(rec));

/** `sort:<column> [asc|desc]` at the end of the filter text: groups by their matching completions' value. */
export interface SortSpec {
  column: NumericColumn;
  descending: boolean;
}

/** How the viewer reads its filter text. */
export type FilterText =
  | { kind: 'none'; sort?: SortSpec }
  | { kind: 'words'; needle: string; sort?: SortSpec }
  | { kind: 'query'; node: QueryNode; sort?: SortSpec }
  | { kind: 'error'; message: string; column: number };

const SORT = /(?:^|\s)sort:([A-Za-z_][\w.-]*)(?:\s+(asc|desc))?\s*$/i;

/** Splits a trailing sort clause off; an unknown column is an error at its column. */
function readSort(text: string): { rest: string; sort?: SortSpec } | { message: string; column: number } {
  const m = SORT.exec(text);
  if (!m) return { rest: text };
  const column = m[1]!;
  if (!(NUMERIC_COLUMNS as readonly string[]).includes(column) && !/^reward\../.test(column)) {
    return { message: `cannot sort by "${column}" (sort by ${[...NUMERIC_COLUMNS, 'reward.<name>'].join(', ')}) (column ${m.index + m[0].indexOf(':') + 2})`, column: m.index + m[0].indexOf(':') + 2 };
  }
  return { rest: text.slice(0, m.index), sort: { column: column as NumericColumn, descending: (m[2] ?? 'asc').toLowerCase() === 'desc' } };
}

const QUERY_WORDS = new Set<string>([...NUMERIC_COLUMNS, ...FLAGS, 'group', 'text', 'completion', 'prompt', 'not', 'reward', 'verdict', 'verdict_type']);

/**
 * Text that parses as a query is one. Text that does not is a plain, case-insensitive search
 * over prompt and completion, unless it reads as an attempt at a query (an operator, or a
 * column or flag name first): then the parse error is the answer, with its column. With the
 * names the records logged, a `reward.<name>` or `meta.<key>` none of them has is an error.
 */
export function readFilterText(text: string, rewardNames?: ReadonlySet<string>, metaKeys?: ReadonlySet<string>): FilterText {
  const s = readSort(text);
  if ('message' in s) return { kind: 'error', message: s.message, column: s.column };
  const sort = s.sort ? { sort: s.sort } : {};
  text = s.rest;
  const t = text.trim();
  if (t === '') return { kind: 'none', ...sort };
  try {
    const node = parseQuery(t, { verdicts: true, meta: true });
    checkNames(node, rewardNames, metaKeys);
    return { kind: 'query', node, ...sort };
  } catch (e) {
    if (!(e instanceof QueryError)) throw e;
    const first = /^[A-Za-z_][A-Za-z0-9_]*/.exec(t)?.[0]?.toLowerCase() ?? '';
    const looksLikeQuery = /[<>=~!()&|]/.test(t) || QUERY_WORDS.has(first) || /^meta\./.test(t);
    // The column counts in the text as typed, leading blanks included.
    const lead = text.length - text.trimStart().length;
    if (looksLikeQuery || /^no (reward function|meta key) /.test(e.message)) return { kind: 'error', message: e.message, column: e.column + lead };
    return { kind: 'words', needle: t.toLowerCase(), ...sort };
  }
}

/** Names shown in an unknown-name error: a run can log many meta keys. */
const NAMES_LISTED = 12;

function listNames(names: ReadonlySet<string>): string {
  if (names.size === 0) return 'none logged yet';
  const sorted = [...names].sort();
  return sorted.length <= NAMES_LISTED ? sorted.join(', ') : `${sorted.slice(0, NAMES_LISTED).join(', ')}, … (${sorted.length} in all)`;
}

/** A reward function or meta key nobody logged is a typo more often than not: say so, as the index does. */
function checkNames(node: QueryNode, rewards: ReadonlySet<string> | undefined, meta: ReadonlySet<string> | undefined): void {
  if (node.kind === 'and' || node.kind === 'or') {
    checkNames(node.left, rewards, meta);
    checkNames(node.right, rewards, meta);
  } else if (node.kind === 'not') checkNames(node.arg, rewards, meta);
  else if (rewards && node.kind === 'compare' && node.column.startsWith('reward.')) {
    const fn = node.column.slice('reward.'.length);
    if (!rewards.has(fn)) throw new QueryError(`no reward function "${fn}" in these rollouts (logged: ${listNames(rewards)})`, node.at + 'reward.'.length);
  } else if (meta && node.kind === 'meta' && !meta.has(node.key)) {
    throw new QueryError(`no meta key "${node.key}" in these rollouts (logged: ${listNames(meta)})`, node.at + 'meta.'.length);
  }
}
