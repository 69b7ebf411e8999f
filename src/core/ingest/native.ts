/** Canonical v1 JSONL, line by line (the tailer's view of what `readRollouts` reads whole). */
import { parseRecordLine } from '../schema/record';
import type { RecordSink, TextParser } from './types';
import { isBlank } from './lines';

export function nativeParser(sink: RecordSink): TextParser {
  return {
    holding: false,
    line(text, loc) {
      if (isBlank(text)) return;
      const r = parseRecordLine(text);
      if (r.ok) sink.record(r.record, { file: loc.file, line: loc.line, offset: loc.offset, bytes: loc.bytes });
      else sink.bad({ file: loc.file, line: loc.line, error: r.error });
    },
    flush() {},
    end() {},
  };
}
