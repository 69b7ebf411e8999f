/**
 * How the viewer reads its filter text (docs/query.md): a query, plain words, or nothing, with an
 * optional trailing `sort:<column> [asc|desc]`. The query runs on the index's one evaluator
 * (src/core/index/filter.ts); a reward function or meta key no record logged is an error here.
 */
import { FLAGS, NUMERIC_COLUMNS, parseQuery, PER_FUNCTION, QueryError, type NumericColumn, type QueryNode } from '../index/query';

/** `sort:<column> [asc|desc]` at the end of the filter text: groups by their matching completions' value. */
export interface SortSpec {
  column: NumericColumn;
  descending: boolean;
}

/**
 * How the viewer reads its filter text. Plain words become one case-insensitive text term over
 * prompt and completion, so words and queries run through the same evaluator.
 */
export type FilterText =
  | { kind: 'none'; sort?: SortSpec }
  | { kind: 'words'; needle: string; node: QueryNode; sort?: SortSpec }
  | { kind: 'query'; node: QueryNode; sort?: SortSpec }
  | { kind: 'error'; message: string; column: number };

const SORT = /(?:^|\s)sort:([A-Za-z_][\w.-]*)(?:\s+(asc|desc))?\s*$/i;

/** Splits a trailing sort clause off; an unknown column is an error at its column. */
export function readSort(text: string): { rest: string; sort?: SortSpec } | { message: string; column: number } {
  const m = SORT.exec(text);
  if (!m) return { rest: text };
  const column = m[1]!;
  if (!(NUMERIC_COLUMNS as readonly string[]).includes(column) && !PER_FUNCTION.test(column)) {
    return { message: `cannot sort by "${column}" (sort by ${[...NUMERIC_COLUMNS, 'reward.<name>', 'score.<name>'].join(', ')}) (column ${m.index + m[0].indexOf(':') + 2})`, column: m.index + m[0].indexOf(':') + 2 };
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
    const needle = t.toLowerCase();
    const node: QueryNode = { kind: 'text', field: 'text', pattern: new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'), at: 1 };
    return { kind: 'words', needle, node, ...sort };
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
