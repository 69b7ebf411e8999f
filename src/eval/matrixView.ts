/**
 * The Evaluation Matrix panel's view of a matrix computed by src/core/eval (`buildMatrix`): cells
 * flat, problems as `file:line: why` lines (src/protocol/eval.ts). No vscode import.
 */
import type { Matrix } from '../core/eval/matrix';
import type { MatrixCellView, MatrixView } from '../protocol/eval';

/** Cells in checkpoint × benchmark order; the first 50 bad lines after the unreadable files. */
export function matrixView(m: Matrix, source: string): MatrixView {
  const cells: MatrixCellView[] = [];
  for (const c of m.checkpoints) {
    for (const b of m.benchmarks) {
      const x = m.cells[c.id]?.[b.id];
      if (!x) continue;
      const cell: MatrixCellView = { checkpoint: c.id, benchmark: b.id, value: x.value, lo: x.ci95[0], hi: x.ci95[1], n: x.n, logged: x.logged, bad: x.bad };
      if (x.delta) {
        const d = x.delta;
        cell.delta = { value: d.value };
        if (d.ci95) Object.assign(cell.delta, { lo: d.ci95[0], hi: d.ci95[1] });
        if (d.p_value !== undefined) cell.delta.p = d.p_value;
        if (d.test !== undefined) cell.delta.test = d.test;
        if (d.significant !== undefined) cell.delta.significant = d.significant;
      }
      cells.push(cell);
    }
  }
  const problems = [...m.errors.map((e) => e.error), ...m.bad.slice(0, 50).map((b) => `${b.file}:${b.line}: ${b.error}`)];
  return {
    title: m.title,
    source,
    base: m.base,
    checkpoints: m.checkpoints.map((c) => ({ id: c.id, label: c.label, step: c.step ?? null })),
    benchmarks: m.benchmarks.map((b) => ({ id: b.id, label: b.label, metric: b.headline ? `${b.metric} (${b.headline})` : b.metric })),
    cells,
    problems,
    badLines: m.bad.length,
  };
}
