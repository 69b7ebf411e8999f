/**
 * Block assembly for the text-log formats (VLM-R1 debug log, EasyR1 generations.log): a block
 * opens on a header line, fields open on a "Key:" / "[key]" line, and every other line continues
 * the open field, because completions span many lines. A block is complete only when the next
 * one opens (or the file ends, or the writer went quiet), so the tailer can hold it until then.
 */
import type { LineLocation, RecordSink, TextParser } from './types';

export interface BlockField {
  key: string;
  /** The field's text: its first line's rest plus continuation lines, trailing blank lines dropped. */
  value: string;
  /** Where its first line is. */
  start: LineLocation;
  /** Its lines exactly as read, the first one whole (key included), trailing blank lines kept. */
  lines: string[];
}

export interface Block<H> {
  header: H;
  fields: BlockField[];
  start: LineLocation;
  /** Last non-blank line. */
  endLine: number;
}

export interface BlockSyntax<H> {
  /** A header opening a block, and the field it also opens (EasyR1's `[prompt]`). */
  opens(text: string): { header: H; field?: { key: string; rest: string } } | null;
  /** A line that opens a field inside a block. */
  field(text: string): { key: string; rest: string } | null;
  /** Lines outside any block that are expected and carry nothing (separators). */
  ignorable?(text: string): boolean;
  /** Trailing lines of a block's last field that belong to the layout, not the value. */
  trailer?: RegExp;
  /** A field line outside any block: the header of a block it opens, or null (text outside any block). */
  headless?(field: { key: string; rest: string }, loc: LineLocation): H | null;
}

interface OpenField {
  key: string;
  lines: string[];
  first: string;
  start: LineLocation;
}

export function blockParser<H>(syntax: BlockSyntax<H>, sink: RecordSink, emit: (b: Block<H>) => void): TextParser {
  let open: { header: H; fields: OpenField[]; start: LineLocation; endLine: number } | null = null;

  const close = (): void => {
    if (!open) return;
    const b = open;
    open = null;
    const fields = b.fields.map((f) => {
      const raw = [f.first, ...f.lines.slice(1)];
      const lines = f.lines;
      while (lines.length && (lines[lines.length - 1]!.trim() === '' || syntax.trailer?.test(lines[lines.length - 1]!))) lines.pop();
      return { key: f.key, value: lines.join('\n'), start: f.start, lines: raw };
    });
    emit({ header: b.header, fields, start: b.start, endLine: b.endLine });
  };

  return {
    get holding() {
      return open !== null;
    },
    line(text, loc) {
      const start = syntax.opens(text);
      if (start) {
        close();
        open = { header: start.header, fields: [], start: loc, endLine: loc.line };
        if (start.field) open.fields.push({ key: start.field.key, lines: [start.field.rest], first: text, start: loc });
        return;
      }
      if (!open) {
        if (text.trim() === '' || syntax.ignorable?.(text)) return;
        const f = syntax.headless ? syntax.field(text) : null;
        const header = f ? syntax.headless!(f, loc) : null;
        if (f && header !== null) {
          open = { header, fields: [{ key: f.key, lines: [f.rest], first: text, start: loc }], start: loc, endLine: loc.line };
          return;
        }
        sink.bad({ file: loc.file, line: loc.line, error: 'text outside any block' });
        return;
      }
      const f = syntax.field(text);
      if (f) open.fields.push({ key: f.key, lines: [f.rest], first: text, start: loc });
      else {
        const last = open.fields[open.fields.length - 1];
        if (last) last.lines.push(text);
        else if (text.trim() !== '') {
          // Text between a header and its first field has nowhere to go.
          sink.bad({ file: loc.file, line: loc.line, error: 'text before the first field of a block' });
          return;
        }
      }
      if (text.trim() !== '') open.endLine = loc.line;
    },
    flush: close,
    end: close,
  };
}

/** The first field named `key` (keys compared as given), or undefined. */
export function fieldOf(b: Block<unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const f = b.fields.find((x) => x.key === k);
    if (f) return f.value;
  }
  return undefined;
}
