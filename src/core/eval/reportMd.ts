/**
 * The report as Markdown (docs/eval.md "Reports"): one section per table, the interval and delta
 * under each value. Every string from a file or the manifest is escaped, so a hostile answer or
 * label is shown as text: Markdown's own marks are backslashed, and <, > and & become entities
 * (a Markdown viewer renders raw HTML otherwise).
 */
import type { Matrix } from './matrix';
import { reportTables, type TCell } from './tables';

export function escapeMarkdown(s: string): string {
  return s
    .replace(/[\\`*_[\]|#]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n|\r/g, ' ');
}

const cellMd = (c: TCell): string => {
  const main = c.best ? `**${escapeMarkdown(c.text)}**` : escapeMarkdown(c.text);
  return c.sub ? `${main} <sub>${escapeMarkdown(c.sub)}</sub>` : main;
};

export function renderMarkdown(m: Matrix): string {
  const out: string[] = [`# ${escapeMarkdown(m.title)}`, ''];
  for (const t of reportTables(m)) {
    out.push(`## ${escapeMarkdown(t.title)}`, '');
    if (t.note) out.push(escapeMarkdown(t.note), '');
    out.push(`| ${t.header.map(escapeMarkdown).join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`);
    for (const r of t.rows) out.push(`| ${r.map(cellMd).join(' | ')} |`);
    out.push('');
    if (t.id === 'scaling') out.push('The plot of these curves is in the HTML report.', '');
  }
  if (m.errors.length || m.bad.length) {
    out.push('## Problems', '');
    for (const e of m.errors) out.push(`- ${escapeMarkdown(e.error)}`);
    for (const b of m.bad.slice(0, 50)) out.push(`- ${escapeMarkdown(`${b.file}:${b.line}: ${b.error}`)}`);
    if (m.bad.length > 50) out.push(`- … and ${m.bad.length - 50} more bad lines`);
    out.push('');
  }
  return out.join('\n');
}
