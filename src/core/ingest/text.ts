/**
 * Feeds a text file through a format parser: bytes are split into lines before decoding (the
 * shared splitter), lines that are not UTF-8 are reported bad, the rest go to the parser.
 */
import { open } from 'node:fs/promises';
import { CHUNK_BYTES } from './v1Reader';
import { decodeLine, LineSplitter, type OnByteLine } from './lines';
import type { RecordSink, TextParser } from './types';

/** The splitter callback that decodes each line and hands it to `parser`. */
export function lineFeeder(file: string, parser: TextParser, sink: RecordSink): OnByteLine {
  return (bytes, offset, line) => {
    const d = decodeLine(bytes, offset);
    if (d.ok) parser.line(d.text, { file, line, offset, bytes: bytes.length });
    else sink.bad({ file, line, error: d.error });
  };
}

/** Reads `file` whole, in chunks, through `parser`; rejects only when the file cannot be read. */
export async function readTextFile(file: string, parser: TextParser, sink: RecordSink, chunkBytes = CHUNK_BYTES): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    const lines = new LineSplitter(lineFeeder(file, parser, sink));
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunkBytes, null);
      if (bytesRead === 0) break;
      lines.push(buf.subarray(0, bytesRead));
    }
    lines.finish();
    parser.end();
  } finally {
    await fh.close();
  }
}

/**
 * A line parser over JSON objects: blank lines skipped, bad JSON reported with its line.
 * `parse` replaces JSON.parse for writers whose JSON is not quite JSON (Python's NaN).
 */
export function jsonLines(
  sink: RecordSink,
  onObject: (obj: unknown, loc: { file: string; line: number; offset: number }) => void,
  parse: (text: string) => unknown = JSON.parse,
): TextParser {
  return {
    holding: false,
    line(text, loc) {
      if (text.trim() === '') return;
      let raw: unknown;
      try {
        raw = parse(text);
      } catch (e) {
        sink.bad({ file: loc.file, line: loc.line, error: `invalid JSON: ${(e as Error).message}` });
        return;
      }
      onObject(raw, loc);
    },
    flush() {},
    end() {},
  };
}
