/**
 * The report's tables in the seeds' shapes (docs/eval.md "Reports"), as plain cells that the
 * Markdown and the HTML writers both render: alignment, reward ablation, synthetic→real transfer,
 * train data × method, the checkpoint × benchmark matrix, the scaling curve's numbers, the bias
 * probe. A table whose fields the manifest does not give is left out.
 */
import type { Cell, Matrix } from './matrix';
import type { Interval } from './stats';

export interface TCell {
  text: string;
  /** The column's best value (shown bold, as the seeds do). */
  best?: boolean;
  /** A second, smaller line: the interval, the delta. */
  sub?: string;
}

export interface Table {
  id: string;
  title: string;
  note?: string;
  header: string[];
  rows: TCell[][];
}

export const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
export const interval = (c: Interval): string => `${(100 * c[0]).toFixed(1)}–${(100 * c[1]).toFixed(1)}`;
const pts = (v: number): string => `${v >= 0 ? '+' : '−'}${(100 * Math.abs(v)).toFixed(2)}`;
const DASH: TCell = { text: '—' };
const mark = (b: boolean | undefined): TCell => (b === undefined ? DASH : { text: b ? '✓' : '✗' });

/** A value cell: the number, its interval and (vs the base) its delta, p and verdict. */
export function valueCell(c: Cell | undefined, withDelta: boolean): TCell {
  if (!c) return DASH;
  let sub = `95% CI ${interval(c.ci95)}${c.n ? `, n=${c.n}` : ''}${c.logged ? ', logged' : ''}`;
  const d = c.delta;
  if (withDelta && d) {
    sub += ` · Δ ${pts(d.value)} pts`;
    if (d.ci95) sub += ` [${pts(d.ci95[0])}, ${pts(d.ci95[1])}]`;
    if (d.p_value !== undefined) sub += `, p${d.p_value < 0.001 ? '<0.001' : `=${d.p_value.toFixed(3)}`}${d.significant ? ' (significant)' : ' (noise)'}`;
  }
  return { text: pct(c.value), sub };
}

/** Mark the largest value of each given column as best. */
function markBest(rows: TCell[][], values: (number | undefined)[][], cols: number[]): void {
  for (const col of cols) {
    const vs = values.map((r) => r[col]).filter((v): v is number => v !== undefined);
    if (vs.length < 2) continue;
    const top = Math.max(...vs);
    values.forEach((r, i) => {
      if (r[col] === top) rows[i]![col] = { ...rows[i]![col]!, best: true };
    });
  }
}

export function reportTables(m: Matrix): Table[] {
  const tables: Table[] = [];
  const cell = (ck: string, b: string): Cell | undefined => m.cells[ck]?.[b];
  const first = m.benchmarks[0]!;
  const label = (id: string): string => m.benchmarks.find((b) => b.id === id)?.label ?? id;

  if (m.checkpoints.some((c) => c.reasoning !== undefined || c.alignment)) {
    const b = m.alignment_benchmark ?? first.id;
    const values = m.checkpoints.map((c) => [undefined, undefined, cell(c.id, b)?.value, c.alignment?.value]);
    const rows = m.checkpoints.map((c) => [
      { text: c.label },
      mark(c.reasoning),
      valueCell(cell(c.id, b), false),
      c.alignment ? { text: pct(c.alignment.value), ...(c.alignment.n ? { sub: `n=${c.alignment.n}` } : {}) } : DASH,
    ]);
    markBest(rows, values, [2, 3]);
    tables.push({ id: 'alignment', title: 'Accuracy and reasoning-answer alignment', note: `Accuracy on ${label(b)}.`, header: ['Model', 'Reasoning', 'Accuracy', 'Alignment'], rows });
  }

  if (m.checkpoints.some((c) => c.rewards)) {
    const domained = m.benchmarks.filter((b) => b.domain);
    const cols = domained.length ? [...domained.filter((b) => b.domain === 'ood'), ...domained.filter((b) => b.domain === 'in-domain')] : m.benchmarks;
    const head = cols.map((b) => (b.domain === 'ood' ? `${b.label} (OOD)` : b.domain === 'in-domain' ? `${b.label} (In-Domain)` : b.label));
    const rows = m.checkpoints.map((c) => [{ text: c.label }, mark(c.rewards?.accuracy), mark(c.rewards?.format), mark(c.rewards?.iou), ...cols.map((b) => valueCell(cell(c.id, b.id), false))]);
    const values = m.checkpoints.map((c) => [undefined, undefined, undefined, undefined, ...cols.map((b) => cell(c.id, b.id)?.value)]);
    markBest(rows, values, cols.map((_, i) => 4 + i));
    tables.push({ id: 'rewards', title: 'Reward ablation', header: ['Methods', 'Accuracy Reward', 'Format Reward', 'IoU Reward', ...head], rows });
  }

  const trained = m.checkpoints.filter((c) => c.train_data);
  if (trained.length) {
    const rows = trained.map((c) => [{ text: c.label }, { text: c.train_data! }, mark(c.augmented), ...m.benchmarks.map((b) => valueCell(cell(c.id, b.id), false))]);
    const values = trained.map((c) => [undefined, undefined, undefined, ...m.benchmarks.map((b) => cell(c.id, b.id)?.value)]);
    markBest(rows, values, m.benchmarks.map((_, i) => 3 + i));
    tables.push({ id: 'transfer', title: 'Training data and transfer', header: ['Methods', 'Training Data', 'Augmented', ...m.benchmarks.map((b) => b.label)], rows });

    const methods = [...new Set(trained.map((c) => c.method).filter((x): x is string => !!x))];
    if (methods.length) {
      const b = m.train_data_benchmark ?? first.id;
      const datas = [...new Set(trained.map((c) => c.train_data!))];
      const pick = (d: string, meth: string): Cell | undefined => {
        const ck = trained.find((c) => c.train_data === d && c.method === meth);
        return ck ? cell(ck.id, b) : undefined;
      };
      const rows = datas.map((d) => [{ text: d }, ...methods.map((meth) => valueCell(pick(d, meth), false))]);
      // The seeds bold the better method in each row.
      rows.forEach((r, i) => {
        const vs = methods.map((meth) => pick(datas[i]!, meth)?.value);
        const top = Math.max(...vs.filter((v): v is number => v !== undefined));
        if (vs.filter((v) => v !== undefined).length > 1) vs.forEach((v, j) => v === top && (r[j + 1] = { ...r[j + 1]!, best: true }));
      });
      tables.push({ id: 'train-data', title: 'Train data × method', note: `Accuracy on ${label(b)}; the first checkpoint with each pair.`, header: ['Train Data', ...methods], rows });
    }
  }

  const base = m.checkpoints.find((c) => c.id === m.base);
  const rows = m.checkpoints.map((c) => [{ text: c.label + (c.id === m.base ? ' (base)' : '') }, { text: c.step === undefined ? '—' : String(c.step) }, ...m.benchmarks.map((b) => valueCell(cell(c.id, b.id), true))]);
  const values = m.checkpoints.map((c) => [undefined, undefined, ...m.benchmarks.map((b) => cell(c.id, b.id)?.value)]);
  markBest(rows, values, m.benchmarks.map((_, i) => 2 + i));
  const metrics = m.benchmarks.map((b) => `${b.label}: ${b.metric}${b.headline ? ` (${b.headline})` : ''}`).join('; ');
  tables.push({
    id: 'matrix',
    title: 'Checkpoints × benchmarks',
    note: `Δ against ${base?.label ?? m.base}, paired on the shared questions (exact McNemar for 0/1 scores, paired bootstrap otherwise). Metrics: ${metrics}.`,
    header: ['Checkpoint', 'Step', ...m.benchmarks.map((b) => b.label)],
    rows,
  });

  const stepped = scalingSeries(m);
  if (stepped.steps.length >= 2) {
    tables.push({
      id: 'scaling',
      title: 'Accuracy over training steps',
      header: ['Step', ...stepped.series.map((s) => s.label)],
      rows: stepped.steps.map((st, i) => [{ text: String(st) }, ...stepped.series.map((s) => (s.points[i] ? { text: pct(s.points[i]!.value), sub: `95% CI ${interval(s.points[i]!.ci95)}` } : DASH))]),
    });
  }

  const probed = m.benchmarks.filter((b) => m.bias[b.id]);
  if (probed.length) {
    tables.push({
      id: 'bias',
      title: 'Text-only bias probe',
      note: 'Gold answers of each benchmark (the base checkpoint\'s file): their distribution, the majority answer scored as every prediction, and a naive Bayes classifier on the question words alone (5-fold cross-validated).',
      header: ['Benchmark', 'Questions', 'Distinct answers', 'Most common answers', 'Majority baseline', 'Text-only baseline'],
      rows: probed.map((b) => {
        const p = m.bias[b.id]!;
        const top = p.distribution.slice(0, 5).map((d) => `${d.shown} ${((100 * d.count) / p.n).toFixed(1)}%`).join(', ');
        return [
          { text: b.label },
          { text: String(p.n) },
          { text: String(p.distinct) },
          { text: top },
          { text: pct(p.majority.value), sub: `“${p.majority.answer}”, 95% CI ${interval(p.majority.ci95)}` },
          p.text_only ? { text: pct(p.text_only.value), sub: `95% CI ${interval(p.text_only.ci95)}` } : DASH,
        ];
      }),
    });
  }
  return tables;
}

export interface Series {
  benchmark: string;
  label: string;
  /** One point per step in `steps` (undefined where that checkpoint has no value). */
  points: ({ value: number; ci95: Interval } | undefined)[];
}

/** Per-benchmark headline values over the checkpoints that have a step, ascending. */
export function scalingSeries(m: Matrix): { steps: number[]; series: Series[] } {
  const stepped = m.checkpoints.filter((c) => c.step !== undefined).sort((a, b) => a.step! - b.step!);
  const steps = stepped.map((c) => c.step!);
  const series = m.benchmarks.map((b) => ({
    benchmark: b.id,
    label: b.label,
    points: stepped.map((c) => {
      const x = m.cells[c.id]?.[b.id];
      return x ? { value: x.value, ci95: x.ci95 } : undefined;
    }),
  }));
  return { steps, series: series.filter((s) => s.points.some(Boolean)) };
}
