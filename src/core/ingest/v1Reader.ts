/**
 * Streaming reader for canonical v1 rollout files (the `native` format, read whole; `native.ts`
 * is the same format line by line for the tailer). Reads 1 MiB at a time and splits on "\n" bytes, so a
 * multi-gigabyte file is never held whole and a line may span any number of chunks. Each line
 * is decoded strictly: bytes that are not UTF-8 make that line bad instead of turning into
 * U+FFFD silently.
 */
import { open } from 'node:fs/promises';
import { decodeLine, isBlank, LineSplitter } from './lines';
import { parseRecordLine, type BadLine, type RolloutRecord } from '../schema/record';

// Kept here too: callers and tests import it from the reader.
export { firstInvalidUtf8 } from './lines';

export interface RecordLocation {
  file: string;
  /** 1-based physical line number (blank lines count). */
  line: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /** The line's length in bytes, without its "\n" (where the record can be read back from). */
  bytes?: number;
}

export interface ReadSummary {
  /** Valid records handed to the callback. */
  completions: number;
  badLines: BadLine[];
}

export const CHUNK_BYTES = 1 << 20;
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
  const summary: ReadSummary = { completions: 0, badLines: [] };

  const handle = (bytes: Uint8Array, offset: number, line: number): void => {
    const d = decodeLine(bytes, offset);
    if (!d.ok) {
      summary.badLines.push({ line, file: path, error: d.error });
      return;
    }
    if (isBlank(d.text)) return;
    const r = parseRecordLine(d.text);
    if (r.ok) {
      summary.completions++;
      onRecord(r.record, { file: path, line, offset, bytes: bytes.length });
    } else summary.badLines.push({ line, file: path, error: r.error });
  };

  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    const lines = new LineSplitter(handle);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, null);
      if (bytesRead === 0) break;
      lines.push(buf.subarray(0, bytesRead));
    }
    lines.finish();
  } finally {
    await fh.close();
  }
  return summary;
}
