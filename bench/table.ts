/**
 * The bench's Markdown table: every figure with what was measured, the baseline measured beside
 * it in the same run, their ratio, the target (docs/benchmarks.md) and whether it is met.
 */
export interface Figure {
  figure: string;
  value: string;
  /** The baseline of the same run and the ratio to it ('' when the figure has none). */
  baseline?: string;
  ratio?: string;
  target: string;
  /** null: not measured, or no target to meet. */
  met: boolean | null;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(rows: readonly Figure[]): string {
  const out = ['| figure | measured | baseline, same run | ratio | target | |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    const mark = r.met === null ? '' : r.met ? 'met' : 'missed';
    out.push(`| ${[r.figure, r.value, r.baseline ?? '', r.ratio ?? '', r.target, mark].map(cell).join(' | ')} |`);
  }
  return out.join('\n');
}

export const fmt = (x: number, d = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
export const times = (x: number, d = 2): string => (Number.isFinite(x) ? `×${x.toFixed(d)}` : 'n/a');
