/**
 * CSV / TSV as pandas `to_csv` writes them (VLMEvalKit dumps with quoting=QUOTE_ALL): fields
 * split by the separator, a quoted field may hold separators, newlines and doubled quotes. Each
 * record keeps the line it starts on, so an error names it. A record whose field count differs
 * from the header's, or a quote left open at the end, is a bad line; the others are kept.
 */
import type { BadLine } from './types';

export interface TableRow {
  line: number;
  cells: Record<string, string>;
}

export function parseDelimited(text: string, sep: ',' | '\t', file: string): { header: string[]; rows: TableRow[]; bad: BadLine[] } {
  const records: { line: number; fields: string[] }[] = [];
  const bad: BadLine[] = [];
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a UTF-8 BOM (to_csv with utf-8-sig)
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let open = false;
    let ended = false;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      if (open) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else open = false;
        } else {
          if (ch === '\n') line++;
          field += ch;
        }
      } else if (ch === '"' && field === '') open = true;
      else if (ch === sep) {
        fields.push(field);
        field = '';
      } else if (ch === '\n' || ch === '\r') {
        if (ch === '\r' && text[i + 1] === '\n') i++;
        i++;
        line++;
        ended = true;
        break;
      } else field += ch;
    }
    if (open) {
      bad.push({ file, line: start, error: 'a quoted field is never closed (the file ends inside it)' });
      break;
    }
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && ended)) records.push({ line: start, fields });
  }
  const [head, ...body] = records;
  if (!head) return { header: [], rows: [], bad };
  const header = head.fields;
  const rows: TableRow[] = [];
  for (const r of body) {
    if (r.fields.length !== header.length) {
      bad.push({ file, line: r.line, error: `${r.fields.length} fields, the header has ${header.length}` });
      continue;
    }
    const cells: Record<string, string> = {};
    header.forEach((h, k) => (cells[h] = r.fields[k]!));
    rows.push({ line: r.line, cells });
  }
  return { header, rows, bad: bad.sort((a, b) => a.line - b.line) };
}
