/**
 * A completion's facts (its record's `meta`, docs/query.md) as the viewer's card shows them: each
 * value once, as text. Scalars read as themselves, lists and dicts as compact JSON; anything long
 * is cut for the card and kept (capped) for the tooltip, so one huge value cannot swell a message.
 */
import { FACTS_SENT, type FactKind, type FactView } from './types';

/** Characters of a value shown in the card. */
export const FACT_TEXT_CHARS = 80;
/** Characters of a value in its tooltip. */
export const FACT_FULL_CHARS = 4000;
/** Characters of a key shown (a longer one is cut; the tooltip names it whole). */
export const FACT_KEY_CHARS = 48;

/** The facts of one record's `meta`, in its key order, the first FACTS_SENT of them. */
export function factViews(meta: Record<string, unknown> | undefined): { facts: FactView[]; moreFacts: number } {
  if (!meta) return { facts: [], moreFacts: 0 };
  const keys = Object.keys(meta);
  return { facts: keys.slice(0, FACTS_SENT).map((k) => factView(k, meta[k])), moreFacts: Math.max(0, keys.length - FACTS_SENT) };
}

export function factView(key: string, value: unknown): FactView {
  const kind = kindOf(value);
  const whole = kind === 'string' ? (value as string) : compactJson(value);
  // A string is shown on one line; blank or empty, it is shown quoted so it can be seen.
  const oneLine = kind === 'string' ? whole.replace(/\s+/g, ' ').trim() : whole;
  const shown = kind === 'string' && oneLine === '' ? JSON.stringify(whole) : oneLine;
  const cutKey = key.length > FACT_KEY_CHARS;
  const cut = shown.length > FACT_TEXT_CHARS || cutKey || shown !== whole;
  return {
    key: cutKey ? clip(key, FACT_KEY_CHARS) : key,
    kind,
    text: clip(shown, FACT_TEXT_CHARS),
    full: cut ? `${cutKey ? `${clip(key, FACT_FULL_CHARS)}: ` : ''}${clip(whole, FACT_FULL_CHARS)}` : null,
  };
}

function kindOf(v: unknown): FactKind {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string') return 'string';
  return Array.isArray(v) ? 'list' : 'dict';
}

/** JSON without spaces; bigint cells (parquet int64) as their digits, never a throw. */
function compactJson(v: unknown): string {
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

/** `s` cut to `n` characters with an ellipsis, never splitting a surrogate pair. */
function clip(s: string, n: number): string {
  if (s.length <= n) return s;
  let end = n - 1;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}
