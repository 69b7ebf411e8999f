/**
 * Streaming reader for v1 rollout files. Reads 1 MiB at a time and splits on "\n" bytes, so a
 * multi-gigabyte file is never held whole and a line may span any number of chunks. Each line
 * is decoded strictly: bytes that are not UTF-8 make that line bad instead of turning into
 * U+FFFD silently.
 */
import { open } from 'node:fs/promises';
import { parseRecordLine, type BadLine, type RolloutRecord } from '../schema/record';

export interface RecordLocation {
  file: string;
  /** 1-based physical line number (blank lines count). */
  line: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
}

export interface ReadSummary {
  /** Valid records handed to the callback. */
  completions: number;
  badLines: BadLine[];
}

export const CHUNK_BYTES = 1 << 20;
const NL = 0x0a;
const CR = 0x0d;

/**
 * Calls `onRecord` for every valid line in file order. Blank lines are skipped; a missing final
 * newline and "\r\n" endings are fine. Bad lines (invalid UTF-8 or JSON, wrong field types) are
 * collected with their line number, never thrown. Rejects only when the file cannot be read.
 */
export async function readRollouts(
  path: string,
  onRecord: (rec: RolloutRecord, loc: RecordLocation) => void,
  chunkBytes = CHUNK_BYTES,
): Promise<ReadSummary> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const summary: ReadSummary = { completions: 0, badLines: [] };
  let line = 0;

  const handle = (bytes: Uint8Array, offset: number): void => {
    line++;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    const body = bytes.subarray(0, end);
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      summary.badLines.push({ line, file: path, error: `invalid UTF-8 at byte ${offset + firstInvalidUtf8(body)}` });
      return;
    }
    if (text.trim() === '') return;
    const r = parseRecordLine(text);
    if (r.ok) {
      summary.completions++;
      onRecord(r.record, { file: path, line, offset });
    } else summary.badLines.push({ line, file: path, error: r.error });
  };

  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    let carry: Buffer[] = [];
    let chunkStart = 0; // file offset of buf[0]
    let lineStart = 0; // file offset of the line being assembled
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      let pos = 0;
      for (;;) {
        const nl = chunk.indexOf(NL, pos);
        if (nl === -1) {
          // buf is reused for the next read, so the unfinished tail must be copied out.
          if (pos < bytesRead) carry.push(Buffer.from(chunk.subarray(pos)));
          break;
        }
        const piece = chunk.subarray(pos, nl);
        handle(carry.length ? Buffer.concat([...carry, piece]) : piece, lineStart);
        carry = [];
        pos = nl + 1;
        lineStart = chunkStart + pos;
      }
      chunkStart += bytesRead;
    }
    if (carry.length) handle(Buffer.concat(carry), lineStart);
  } finally {
    await fh.close();
  }
  return summary;
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
