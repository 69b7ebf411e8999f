/**
 * The filter language of the rollout index: `reward.bbox < 0.3 and step > 100`,
 * `zero_variance or not format_ok`, `text ~ "motorcyclist"`, `completion ~ /left of/i`.
 * Parsed once into a tree; errors name the 1-based column where the problem starts.
 * `meta.<key>` (per-completion facts, docs/query.md) parses only for callers that hold whole
 * records read back (runQuery, the viewer): the index keeps no meta columns.
 */

export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type FlagName = 'format_ok' | 'zero_variance' | 'mismatch';
/** `reward`/`reward.<name>`: what the trainer logged; `score`/`score.<name>`: what we recomputed. */
export type NumericColumn = 'step' | 'index' | 'reward' | 'advantage' | 'length' | 'line' | 'score' | `reward.${string}` | `score.${string}`;
export type TextField = 'text' | 'completion' | 'prompt';
/** Judge verdicts: known where verdicts are loaded (the viewer), not in the byte index. */
export type VerdictField = 'verdict' | 'verdict_type';
export const VERDICT_STATES = ['aligned', 'misaligned', 'uncertain', 'failed', 'unjudged'] as const;
export const VERDICT_TYPES = ['contradiction', 'missing_detail', 'irrelevant', 'other'] as const;
const VERDICT_FIELDS: readonly VerdictField[] = ['verdict', 'verdict_type'];

export interface ParseOptions {
  /** Accept `verdict` and `verdict_type` (the caller can evaluate them). */
  verdicts?: boolean;
  /** Accept `meta.<key>` (the caller holds whole records, `meta` included). */
  meta?: boolean;
}

/** What a `meta.<key>` term compares with: a number, true/false, a string, or (after `~`) a pattern. */
export type MetaLiteral = number | boolean | string | RegExp;

export type QueryNode =
  | { kind: 'and' | 'or'; left: QueryNode; right: QueryNode }
  | { kind: 'not'; arg: QueryNode }
  | { kind: 'compare'; column: NumericColumn; op: CompareOp; value: number; at: number }
  | { kind: 'group'; op: '==' | '!='; key: string; at: number }
  | { kind: 'flag'; flag: FlagName; want: boolean; at: number }
  | { kind: 'text'; field: TextField; pattern: string | RegExp; at: number }
  | { kind: 'verdict'; field: VerdictField; op: '==' | '!='; value: string; at: number }
  /** `at` is the column of `meta`; the key starts 5 columns later. */
  | { kind: 'meta'; key: string; op: CompareOp | '~'; value: MetaLiteral; at: number };

/** A verdict column where no verdicts are loaded (the index, the CLI). */
export function verdictsNotLoaded(field: string, at: number): QueryError {
  return new QueryError(`"${field}" is known only where judge verdicts are loaded (the viewer)`, at);
}

/** A `meta.<key>` term where only the index answers (the CLI over a native file, `runQuery`). */
export function metaNotIndexed(key: string, at: number): QueryError {
  return new QueryError(`"meta.${key}" is read from the records themselves: the index keeps no meta columns (grpo-studio query and the viewer read them back)`, at);
}

export class QueryError extends Error {
  /** `column` is 1-based in the query text. */
  constructor(message: string, readonly column: number) {
    super(`${message} (column ${column})`);
  }
}

export const NUMERIC_COLUMNS = ['step', 'index', 'reward', 'advantage', 'length', 'line', 'score'] as const;
/** A per-function column: a logged reward or a recomputed one. */
export const PER_FUNCTION = /^(reward|score)\../;
export const FLAGS: readonly FlagName[] = ['format_ok', 'zero_variance', 'mismatch'];
const TEXT_FIELDS: readonly TextField[] = ['text', 'completion', 'prompt'];

type Token =
  | { t: 'word'; v: string; at: number }
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 're'; v: RegExp; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; at: number };

/** JSON's escapes, so a term copied from a rollout line means what it says. */
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

const OPS = ['<=', '>=', '==', '!=', '&&', '||', '<', '>', '=', '!', '(', ')', '~'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i + 1;
    if (c === '"' || c === "'") {
      const q = readQuoted(src, i);
      out.push({ t: 'str', v: q.v, at });
      i = q.end;
      continue;
    }
    const prev = out.at(-1);
    if (c === '/' && prev?.t === 'op' && prev.v === '~') {
      let j = i + 1;
      let body = '';
      let inClass = false;
      while (j < src.length && (src[j] !== '/' || inClass)) {
        if (src[j] === '\\' && j + 1 < src.length) body += src[j++];
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        body += src[j++];
      }
      if (j >= src.length) throw new QueryError('unterminated regular expression', at);
      let k = j + 1;
      while (k < src.length && /[a-z]/.test(src[k]!)) k++;
      const flags = src.slice(j + 1, k);
      if (!/^[imsu]*$/.test(flags)) throw new QueryError(`regular expression flags may be i, m, s, u; got "${flags}"`, j + 2);
      try {
        out.push({ t: 're', v: new RegExp(body, flags), at });
      } catch (e) {
        throw new QueryError(`bad regular expression: ${(e as Error).message}`, at);
      }
      i = k;
      continue;
    }
    const num = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && (c !== '-' || prev?.t === 'op')) {
      out.push({ t: 'num', v: Number(num[0]), at });
      i += num[0].length;
      continue;
    }
    // `meta."eval/acc"`: a key with characters a bare word cannot hold, quoted.
    if (src.startsWith('meta.', i) && (src[i + 5] === '"' || src[i + 5] === "'")) {
      const q = readQuoted(src, i + 5);
      out.push({ t: 'word', v: `meta.${q.v}`, at });
      i = q.end;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_\-]+)*/.exec(src.slice(i));
    if (word) {
      out.push({ t: 'word', v: word[0], at });
      i += word[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new QueryError(`unexpected "${c}"`, at);
    out.push({ t: 'op', v: op, at });
    i += op.length;
  }
  out.push({ t: 'end', at: src.length + 1 });
  return out;
}

/** The quoted string starting at `src[i]` (a quote), with JSON's escapes; `end` is just past it. */
function readQuoted(src: string, i: number): { v: string; end: number } {
  const c = src[i]!;
  let v = '';
  let j = i + 1;
  while (j < src.length && src[j] !== c) {
    if (src[j] === '\\' && j + 1 < src.length) {
      const e = src[++j]!;
      const hex = /^[0-9a-fA-F]{4}$/.test(src.slice(j + 1, j + 5)) ? src.slice(j + 1, j + 5) : null;
      if (e === 'u' && hex) {
        v += String.fromCharCode(parseInt(hex, 16));
        j += 5;
        continue;
      }
      v += ESCAPES[e] ?? e;
    } else v += src[j];
    j++;
  }
  if (j >= src.length) throw new QueryError('unterminated string', i + 1);
  return { v, end: j + 1 };
}

const describe = (t: Token): string => (t.t === 'end' ? 'the end of the query' : t.t === 're' ? String(t.v) : t.t === 'str' ? JSON.stringify(t.v) : `"${t.v}"`);

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly opts: ParseOptions = {},
  ) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private isWord(w: string): boolean {
    const t = this.peek();
    return t.t === 'word' && t.v.toLowerCase() === w;
  }

  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return t.t === 'op' && ops.includes(t.v);
  }

  parse(): QueryNode {
    const node = this.or();
    const t = this.peek();
    if (t.t !== 'end') throw new QueryError(`expected "and", "or" or the end, got ${describe(t)}`, t.at);
    return node;
  }

  private or(): QueryNode {
    let left = this.and();
    while (this.isWord('or') || this.isOp('||')) {
      this.next();
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): QueryNode {
    let left = this.unary();
    while (this.isWord('and') || this.isOp('&&')) {
      this.next();
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): QueryNode {
    if (this.isWord('not') || this.isOp('!')) {
      this.next();
      return { kind: 'not', arg: this.unary() };
    }
    if (this.isOp('(')) {
      this.next();
      const inner = this.or();
      const t = this.next();
      if (t.t !== 'op' || t.v !== ')') throw new QueryError(`expected ")", got ${describe(t)}`, t.at);
      return inner;
    }
    return this.term();
  }

  private term(): QueryNode {
    const t = this.next();
    if (t.t !== 'word') throw new QueryError(`expected a column, "not" or "(", got ${describe(t)}`, t.at);
    const name = t.v;
    if ((TEXT_FIELDS as readonly string[]).includes(name)) return this.textMatch(name as TextField, t.at);
    if ((FLAGS as readonly string[]).includes(name)) return this.flag(name as FlagName, t.at);
    if (name === 'group') return this.groupMatch(t.at);
    if (name.startsWith('meta.')) {
      if (!this.opts.meta) throw metaNotIndexed(name.slice('meta.'.length), t.at);
      return this.metaMatch(name.slice('meta.'.length), t.at);
    }
    if ((VERDICT_FIELDS as readonly string[]).includes(name)) {
      if (!this.opts.verdicts) throw verdictsNotLoaded(name, t.at);
      return this.verdictMatch(name as VerdictField, t.at);
    }
    if (!(NUMERIC_COLUMNS as readonly string[]).includes(name) && !PER_FUNCTION.test(name)) {
      const all = [...NUMERIC_COLUMNS, 'reward.<name>', 'score.<name>', 'group', ...FLAGS, ...TEXT_FIELDS, ...(this.opts.verdicts ? VERDICT_FIELDS : []), ...(this.opts.meta ? ['meta.<key>'] : [])];
      throw new QueryError(`unknown column "${name}" (columns: ${all.join(', ')})`, t.at);
    }
    const op = this.compareOp(name);
    const v = this.next();
    if (v.t !== 'num') throw new QueryError(`expected a number after "${op}", got ${describe(v)}`, v.at);
    return { kind: 'compare', column: name as NumericColumn, op, value: v.v, at: t.at };
  }

  private compareOp(after: string): CompareOp {
    const t = this.next();
    if (t.t !== 'op' || !['<', '<=', '>', '>=', '==', '!=', '='].includes(t.v)) {
      throw new QueryError(`expected a comparison (<, <=, >, >=, ==, !=) after "${after}", got ${describe(t)}`, t.at);
    }
    return t.v === '=' ? '==' : (t.v as CompareOp);
  }

  private flag(flag: FlagName, at: number): QueryNode {
    if (!this.isOp('==', '!=', '=')) return { kind: 'flag', flag, want: true, at };
    const op = this.compareOp(flag);
    const v = this.next();
    const want = v.t === 'word' && /^(true|false)$/i.test(v.v) ? v.v.toLowerCase() === 'true' : v.t === 'num' && (v.v === 0 || v.v === 1) ? v.v === 1 : null;
    if (want === null) throw new QueryError(`"${flag}" compares with true or false, got ${describe(v)}`, v.at);
    if (op !== '==' && op !== '!=') throw new QueryError(`"${flag}" takes == or != only`, at);
    return { kind: 'flag', flag, want: op === '==' ? want : !want, at };
  }

  private groupMatch(at: number): QueryNode {
    const op = this.compareOp('group');
    if (op !== '==' && op !== '!=') throw new QueryError('"group" takes == or != only', at);
    const v = this.next();
    if (v.t === 'str') return { kind: 'group', op, key: v.v, at };
    if (v.t === 'num') return { kind: 'group', op, key: String(v.v), at };
    throw new QueryError(`expected a group key after "group ${op}", got ${describe(v)}`, v.at);
  }

  private verdictMatch(field: VerdictField, at: number): QueryNode {
    const op = this.compareOp(field);
    if (op !== '==' && op !== '!=') throw new QueryError(`"${field}" takes == or != only`, at);
    const v = this.next();
    const allowed: readonly string[] = field === 'verdict' ? VERDICT_STATES : VERDICT_TYPES;
    const value = v.t === 'word' || v.t === 'str' ? v.v.toLowerCase() : null;
    if (value === null || !allowed.includes(value)) throw new QueryError(`"${field}" is one of ${allowed.join(', ')}, got ${describe(v)}`, v.at);
    return { kind: 'verdict', field, op, value, at };
  }

  /** `meta.<key>`: numbers with any comparison, true/false and "strings" with == and !=, strings with ~. */
  private metaMatch(key: string, at: number): QueryNode {
    if (key === '') throw new QueryError('the meta key is empty', at + 'meta.'.length);
    const column = `meta.${key}`;
    const op = this.next();
    if (op.t === 'op' && op.v === '~') {
      const v = this.next();
      if (v.t === 'str' && v.v === '') throw new QueryError('search text is empty', v.at);
      if (v.t === 'str' || v.t === 're') return { kind: 'meta', key, op: '~', value: v.v, at };
      throw new QueryError(`expected "text" or /regex/ after "~", got ${describe(v)}`, v.at);
    }
    if (op.t !== 'op' || !['<', '<=', '>', '>=', '==', '!=', '='].includes(op.v)) {
      throw new QueryError(`expected a comparison (<, <=, >, >=, ==, !=) or "~" after "${column}", got ${describe(op)}`, op.at);
    }
    const cmp = op.v === '=' ? '==' : (op.v as CompareOp);
    const v = this.next();
    if (v.t === 'num') return { kind: 'meta', key, op: cmp, value: v.v, at };
    const bool = v.t === 'word' && /^(true|false)$/i.test(v.v);
    if (bool || v.t === 'str') {
      if (cmp !== '==' && cmp !== '!=') throw new QueryError(`${bool ? 'true and false compare' : 'strings compare'} with == or != only${bool ? '' : ' (search them with ~)'}`, op.at);
      return { kind: 'meta', key, op: cmp, value: bool ? v.v.toLowerCase() === 'true' : v.v, at };
    }
    throw new QueryError(`expected a number, true, false or "text" after "${column} ${cmp}", got ${describe(v)}`, v.at);
  }

  private textMatch(field: TextField, at: number): QueryNode {
    const op = this.next();
    if (op.t !== 'op' || op.v !== '~') throw new QueryError(`expected "~" after "${field}", got ${describe(op)}`, op.at);
    const v = this.next();
    if (v.t === 'str') {
      if (v.v === '') throw new QueryError('search text is empty', v.at);
      return { kind: 'text', field, pattern: v.v, at };
    }
    if (v.t === 're') return { kind: 'text', field, pattern: v.v, at };
    throw new QueryError(`expected "text" or /regex/ after "~", got ${describe(v)}`, v.at);
  }
}

/** Parses a filter; throws `QueryError` naming the column of the first problem. */
export function parseQuery(src: string, opts: ParseOptions = {}): QueryNode {
  return new Parser(tokenize(src), opts).parse();
}
