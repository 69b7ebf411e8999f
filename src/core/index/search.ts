/**
 * Text search over completions and prompts, reading the file in large batches of whole rows.
 * A substring is first found as bytes (native search for the ways JSON writers encode it: plain
 * UTF-8, `\uXXXX` for non-ASCII as Python's json.dumps does, `<>&` escaped as Go does), then the
 * candidate row's prompt and completion are decoded and checked exactly. A regex has no byte form
 * to look for, so every row's fields are decoded and tested. A completion is read from where the
 * index saw it in its line (`completionAt`), without walking the rest of the line. A match only
 * in a writer's unusual escapes of plain characters (`\u0061` for "a") is not found.
 */
import { decodeLine } from '../ingest/lines';
import { completionText, parseRecordLine } from '../schema/record';
import type { TextField } from './query';
import { NO_COMPLETION_AT, type RolloutIndex } from './rolloutIndex';
import { bodyBatches, bodyIn } from './bodyScan';
import { jsonStringEnd, jsonStringValue, LineScanner } from './scan';

/** The byte strings a JSON writer may have written for `needle` inside a string value. */
export function encodedForms(needle: string): Buffer[] {
  const plain = JSON.stringify(needle).slice(1, -1);
  const ascii = plain.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const html = plain.replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [...new Set([plain, ascii, html])].map((s) => Buffer.from(s));
}

/** Mask over rows `[0, n)` (or only the rows `only`): 1 where the field contains `pattern`. */
export async function searchRows(index: RolloutIndex, pattern: string | RegExp, field: TextField, n: number, signal?: AbortSignal,
  only?: ArrayLike<number>): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  if (n === 0) return out;
  const forms = typeof pattern === 'string' ? encodedForms(pattern) : null;
  const re = typeof pattern === 'string' ? null : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  const matches = (s: string): boolean => (re ? re.test(s) : s.includes(pattern as string));
  const scanner = new LineScanner();
  for await (const b of bodyBatches(index, n, { signal, only })) {
    const lineOf = (r: number): Buffer => bodyIn(index, b, r);
    const at = (r: number): number => index.offsetOf(r) - b.start;
    if (forms) {
      const candidates = new Set<number>();
      for (const form of forms) {
        let hit = b.bytes.indexOf(form);
        while (hit >= 0) {
          const r = rowAt(index, b.rows, b.start + hit);
          if (r !== undefined) candidates.add(r);
          // Next search starts past this row (one hit is enough to check it), or past a hit between rows.
          hit = b.bytes.indexOf(form, r === undefined ? hit + 1 : Math.max(hit + 1, at(r) + index.byteLength.data[r]!));
        }
      }
      for (const r of candidates) if (rowMatches(index, r, scanner, b.bytes, at(r), lineOf, field, matches)) out[r] = 1;
    } else {
      for (const r of b.rows) if (rowMatches(index, r, scanner, b.bytes, at(r), lineOf, field, matches)) out[r] = 1;
    }
  }
  return out;
}

/** The row of `rows` (in offset order) whose body holds file offset `pos`, or undefined. */
function rowAt(index: RolloutIndex, rows: Int32Array, pos: number): number | undefined {
  let lo = 0;
  let hi = rows.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (index.offsetOf(rows[mid]!) <= pos) lo = mid;
    else hi = mid;
  }
  const r = rows[lo]!;
  // Between two bodies (a newline, a bad line, a row not asked for) is no row's.
  return pos >= index.offsetOf(r) && pos < index.offsetOf(r) + index.byteLength.data[r]! ? r : undefined;
}

/**
 * Whether row `r` (its line) matches. The completion is read straight from where the index saw
 * it in the line (no walk over the rest); the prompt, or a row whose completion place is not
 * known, takes the scanner.
 */
function rowMatches(index: RolloutIndex, r: number, scanner: LineScanner, batch: Buffer, lineStart: number, lineOf: (r: number) => Buffer,
  field: TextField, matches: (s: string) => boolean): boolean {
  if (field !== 'prompt') {
    const at = index.completionAt.get(r);
    const text = at === NO_COMPLETION_AT ? null : stringAt(batch, lineStart + at, lineStart + index.byteLength.data[r]!);
    if (text !== null) {
      if (matches(text)) return true;
      return field === 'text' && fieldMatches(scanner, lineOf(r), 'prompt', matches);
    }
  }
  return fieldMatches(scanner, lineOf(r), field, matches);
}

/** The JSON string value whose opening quote is at `at` in `b` (ending before `end`), or null when there is none. */
function stringAt(b: Buffer, at: number, end: number): string | null {
  if (b[at] !== QUOTE) return null;
  const q = jsonStringEnd(b, at, end);
  return q < 0 ? null : jsonStringValue(b, at, q);
}

const QUOTE = 0x22;

function fieldMatches(scanner: LineScanner, line: Buffer, field: TextField, matches: (s: string) => boolean): boolean {
  let completion: string;
  let prompt: string | undefined;
  if (scanner.scan(line, false)) {
    try {
      completion = field === 'prompt' ? '' : scanner.completionText();
      prompt = field === 'completion' ? undefined : scanner.promptFields().text;
    } catch {
      return false; // a malformed value the index did not need: the line is bad when read back
    }
  } else {
    const d = decodeLine(line, 0);
    const r = d.ok ? parseRecordLine(d.text) : null;
    if (!r?.ok) return false; // changed on disk since it was indexed
    completion = completionText(r.record);
    prompt = r.record.prompt?.text;
  }
  if (field !== 'prompt' && matches(completion)) return true;
  return field !== 'completion' && prompt !== undefined && matches(prompt);
}
