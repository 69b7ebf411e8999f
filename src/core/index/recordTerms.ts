/**
 * The filter terms that read a record's body (`text ~`, `completion ~`, `prompt ~`, `meta.<key>`),
 * tested on one record in hand: the viewer does this as records arrive, `runQuery` as it reads
 * the bodies back. Every other term reads the index's columns (filter.ts).
 */
import { completionText, type RolloutRecord } from '../schema/record';
import type { CompareOp, MetaLiteral, QueryNode } from './query';

export function textMatches(haystack: string, pattern: string | RegExp): boolean {
  if (typeof pattern === 'string') return haystack.includes(pattern);
  pattern.lastIndex = 0;
  return pattern.test(haystack);
}

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

/** Whether a body term (text or meta) holds for `rec`; false for any other node. */
export function bodyTermMatches(node: QueryNode, rec: RolloutRecord): boolean {
  if (node.kind === 'meta') return metaMatches(metaValue(rec, node.key), node.op, node.value);
  if (node.kind !== 'text') return false;
  if (node.field !== 'prompt' && textMatches(completionText(rec), node.pattern)) return true;
  return node.field !== 'completion' && textMatches(rec.prompt?.text ?? '', node.pattern);
}

/** The logged total: `reward`, else the sum of the logged per-function rewards (in name order, as the index sums them). */
export function loggedTotal(rec: RolloutRecord): number | undefined {
  if (rec.reward !== undefined) return rec.reward;
  const names = Object.keys(rec.rewards ?? {}).sort();
  return names.length ? names.reduce((sum, k) => sum + rec.rewards![k]!, 0) : undefined;
}
