/**
 * Byte-level line splitting shared by the whole-file reader and the tailer. Splitting happens on
 * "\n" bytes before any decoding, so a chunk boundary may fall inside a line or inside a
 * multi-byte UTF-8 sequence: the unfinished tail is held until its newline arrives.
 */

const NL = 0x0a;
const CR = 0x0d;

/** Called once per line: `bytes` excludes the "\n"; `offset` is the file offset of its first byte. */
export type OnByteLine = (bytes: Uint8Array, offset: number, line: number) => void;

export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** File offset of the line being assembled. */
  private lineStart: number;
  /** File offset just past the last byte pushed. */
  private end: number;
  private line: number;

  /** `offset` and `line` say where the first pushed byte sits (line = lines already consumed). */
  constructor(private readonly onLine: OnByteLine, offset = 0, line = 0) {
    this.lineStart = offset;
    this.end = offset;
    this.line = line;
  }

  /** Feeds the next bytes. `chunk` may be reused by the caller afterwards: the tail is copied. */
  push(chunk: Uint8Array): void {
    const chunkStart = this.end;
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) {
        if (pos < chunk.length) {
          this.carry.push(Buffer.from(chunk.subarray(pos)));
          this.carryBytes += chunk.length - pos;
        }
        break;
      }
      const piece = chunk.subarray(pos, nl);
      const bytes = this.carry.length ? Buffer.concat([...this.carry, piece]) : piece;
      this.carry = [];
      this.carryBytes = 0;
      this.line++;
      this.onLine(bytes, this.lineStart, this.line);
      pos = nl + 1;
      this.lineStart = chunkStart + pos;
    }
    this.end = chunkStart + chunk.length;
  }

  /** The input is over: a last line without "\n" is emitted. */
  finish(): void {
    if (!this.carry.length) return;
    const bytes = Buffer.concat(this.carry);
    this.carry = [];
    this.carryBytes = 0;
    this.line++;
    this.onLine(bytes, this.lineStart, this.line);
    this.lineStart = this.end;
  }

  /** Bytes of an unfinished last line held back. */
  get pending(): number {
    return this.carryBytes;
  }

  /** File offset just past the last complete line: where a reader may safely resume. */
  get committed(): number {
    return this.lineStart;
  }

  /** Complete lines emitted so far. */
  get lines(): number {
    return this.line;
  }
}

export type DecodedLine = { ok: true; text: string } | { ok: false; error: string };

const strict = new TextDecoder('utf-8', { fatal: true });

/**
 * A line's text with a trailing "\r" dropped. Decoding is strict: bytes that are not UTF-8 make
 * the line bad (naming the file offset of the first bad byte) instead of becoming U+FFFD.
 */
export function decodeLine(bytes: Uint8Array, offset: number): DecodedLine {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
  const body = bytes.subarray(0, end);
  try {
    return { ok: true, text: strict.decode(body) };
  } catch {
    return { ok: false, error: `invalid UTF-8 at byte ${offset + firstInvalidUtf8(body)}` };
  }
}

/** Index of the first byte that breaks UTF-8 (WHATWG rules: no overlongs, surrogates or > U+10FFFF). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined) return i; // truncated sequence at the end of the line
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += need + 1;
  }
  return b.length;
}

/** A line of only whitespace (skipped by the v1 readers), without copying a long line to trim it. */
export function isBlank(text: string): boolean {
  // A record line starts with "{": only a line starting with whitespace can be blank.
  if (text.length === 0) return true;
  const c = text.charCodeAt(0);
  return (c <= 32 || c === 0xa0 || c >= 0x1680) && text.trim() === '';
}
