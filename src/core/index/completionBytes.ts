/**
 * Length and format check of a completion read straight from its JSON string bytes, so the index
 * need not decode the largest field of every line. Exact for strings whose only escapes are the
 * two-byte ones (`\n`, `\"`, …): the answer is what `formatMatches` and `Buffer.byteLength` give
 * on the decoded text. `\u` or `\/` escapes, or non-ASCII bytes where the answer hinges on
 * whitespace, return null and the caller decodes.
 */

const BACKSLASH = 0x5c;
const THINK_OPEN = Buffer.from('<think>');
const THINK_CLOSE = Buffer.from('</think>');
const ANSWER_OPEN = Buffer.from('<answer>');
const ANSWER_CLOSE = Buffer.from('</answer>');

export interface CompletionFacts {
  /** UTF-8 bytes of the decoded text. */
  length: number;
  formatOk: boolean;
}

/**
 * `line[start, end)` is the string's content (quotes excluded). Null when the bytes alone cannot
 * settle it. Reuses `out` to spare an allocation per line.
 */
export function completionFacts(line: Buffer, start: number, end: number, out: CompletionFacts): CompletionFacts | null {
  // Each escape is two raw bytes for one text byte; \u and \/ need the decoder.
  let escapes = 0;
  let at = line.indexOf(BACKSLASH, start);
  while (at >= 0 && at < end) {
    const next = line[at + 1];
    if (next === 0x75 || next === 0x2f) return null;
    escapes++;
    at = line.indexOf(BACKSLASH, at + 2);
  }
  const ok = formatOkBytes(line, start, end);
  if (ok === null) return null;
  out.length = end - start - escapes;
  out.formatOk = ok;
  return out;
}

/**
 * `formatMatches` on raw bytes: `<think>` at the start, the first `</think>` followed by only
 * whitespace and `<answer>`, the first `</answer>` after it, then only whitespace to the end.
 */
function formatOkBytes(b: Buffer, start: number, end: number): boolean | null {
  if (!startsWith(b, start, end, THINK_OPEN)) return b[start] === BACKSLASH ? null : false;
  let from = start + THINK_OPEN.length;
  for (;;) {
    const close = find(b, THINK_CLOSE, from, end);
    if (close < 0) return false;
    const ws = skipWhitespace(b, close + THINK_CLOSE.length, end);
    if (ws === null) return null;
    if (startsWith(b, ws, end, ANSWER_OPEN)) {
      const answerEnd = find(b, ANSWER_CLOSE, ws + ANSWER_OPEN.length, end);
      if (answerEnd < 0) return false;
      const tail = skipWhitespace(b, answerEnd + ANSWER_CLOSE.length, end);
      if (tail === null) return null;
      return tail === end;
    }
    // The regex backtracks to a later </think>.
    from = close + 1;
  }
}

function startsWith(b: Buffer, at: number, end: number, word: Buffer): boolean {
  if (end - at < word.length) return false;
  for (let i = 0; i < word.length; i++) if (b[at + i] !== word[i]) return false;
  return true;
}

function find(b: Buffer, word: Buffer, from: number, end: number): number {
  const at = b.indexOf(word, from);
  return at < 0 || at + word.length > end ? -1 : at;
}

/** Past the whitespace run at `p` (JSON escapes included); null at a non-ASCII byte (maybe U+00A0…). */
function skipWhitespace(b: Buffer, p: number, end: number): number | null {
  while (p < end) {
    const c = b[p]!;
    if (c === 0x20) p++;
    else if (c === BACKSLASH) {
      const e = b[p + 1];
      if (e === 0x6e || e === 0x74 || e === 0x72 || e === 0x66) p += 2;
      else return p;
    } else if (c >= 0x80) return null;
    else if (c < 0x20) return null; // raw control characters are invalid JSON: let the decoder judge
    else return p;
  }
  return p;
}
