/**
 * Entry of the Evaluation Matrix panel (dist/webview/eval.js): checkpoints × benchmarks with each
 * value's 95% interval and its delta against the base (paired test: significant or noise), then
 * one curve per benchmark over training steps (SVG built with DOM calls, webview/eval/curves.ts).
 * Speaks first (`ready`); every name comes from folders and profiles: text through textContent.
 */
import '../panel.css';
import './eval.css';
import { isEvalHostMessage, type EvalHostMessage, type EvalWebviewMessage, type MatrixCellView, type MatrixView } from '../../src/protocol/eval';
import { HostChannel } from '../shared/host-channel';
import { curveSvg, type CurvePoint } from './curves';

const channel = new HostChannel<EvalHostMessage, EvalWebviewMessage>(isEvalHostMessage);
const post = (m: EvalWebviewMessage): void => channel.post(m);
const root = document.getElementById('eval-matrix') ?? document.body;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function button(label: string, testid: string, m: EvalWebviewMessage): HTMLButtonElement {
  const b = el('button', label);
  b.dataset.testid = testid;
  b.addEventListener('click', () => post(m));
  return b;
}

const header = el('header');
const title = el('h1', 'Evaluation');
const summary = el('span', '', 'summary');
summary.dataset.testid = 'eval-summary';
header.append(title, summary, button('Evaluate Checkpoint…', 'eval-evaluate', { type: 'evaluate' }), button('Export Report…', 'eval-export', { type: 'exportReport' }));
const status = el('p', 'Reading…', 'note');
const body = el('div');
root.append(header, status, body);

const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
const pts = (v: number): string => `${v >= 0 ? '+' : '−'}${(100 * Math.abs(v)).toFixed(1)}`;

function deltaText(d: NonNullable<MatrixCellView['delta']>): string {
  let s = `Δ ${pts(d.value)} pts`;
  if (d.lo !== undefined && d.hi !== undefined) s += ` [${pts(d.lo)}, ${pts(d.hi)}]`;
  if (d.p !== undefined) s += ` p${d.p < 0.001 ? '<0.001' : `=${d.p.toFixed(3)}`}`;
  return s;
}

function cellTd(c: MatrixCellView | undefined, checkpoint: string, benchmark: string): HTMLTableCellElement {
  const td = el('td', undefined, 'cell');
  td.dataset.testid = 'eval-cell';
  td.dataset.checkpoint = checkpoint;
  td.dataset.benchmark = benchmark;
  if (!c) {
    td.append(el('span', '—', 'value'));
    return td;
  }
  const value = el('span', pct(c.value), 'value');
  value.dataset.testid = 'eval-value';
  const ci = el('div', `95% CI ${(100 * c.lo).toFixed(1)}–${(100 * c.hi).toFixed(1)} · n=${c.n}${c.logged ? ' · logged' : ''}${c.bad ? ` · ${c.bad} bad` : ''}`, 'sub');
  td.append(value, ci);
  if (c.delta) {
    const verdict = c.delta.significant === undefined ? '' : c.delta.significant ? 'significant' : 'noise';
    const d = el('div', deltaText(c.delta), `delta ${verdict} ${c.delta.value >= 0 ? 'up' : 'down'}`);
    d.dataset.testid = 'eval-delta';
    if (verdict) {
      const tag = el('span', verdict === 'significant' ? ' real' : ' noise', 'verdict');
      tag.title = verdict === 'significant' ? `p < 0.05 (${c.delta.test ?? 'paired test'})` : `p ≥ 0.05 (${c.delta.test ?? 'paired test'}): within noise`;
      d.append(tag);
    }
    td.append(d);
  }
  td.title = 'Click to open the predictions file';
  td.addEventListener('click', () => post({ type: 'openPredictions', checkpoint, benchmark }));
  return td;
}

function matrixTable(v: MatrixView): HTMLTableElement {
  const cells = new Map(v.cells.map((c) => [`${c.checkpoint}\u0000${c.benchmark}`, c]));
  const t = el('table');
  t.dataset.testid = 'eval-matrix-table';
  const head = el('tr');
  head.append(el('th', 'checkpoint'), el('th', 'step'));
  for (const b of v.benchmarks) {
    const th = el('th', b.label);
    th.append(el('div', b.metric, 'sub'));
    head.append(th);
  }
  t.append(el('thead'), el('tbody'));
  t.tHead!.append(head);
  for (const c of v.checkpoints) {
    const tr = el('tr');
    tr.dataset.checkpoint = c.id;
    const name = el('td', c.label, 'name');
    if (c.id === v.base && c.label !== 'base') name.append(el('span', ' base', 'tag'));
    tr.append(name, el('td', c.step === null ? '' : String(c.step), 'step'));
    for (const b of v.benchmarks) tr.append(cellTd(cells.get(`${c.id}\u0000${b.id}`), c.id, b.id));
    t.tBodies[0]!.append(tr);
  }
  return t;
}

function curves(v: MatrixView): HTMLElement | undefined {
  const stepped = v.checkpoints.filter((c) => c.step !== null).sort((a, b) => a.step! - b.step!);
  const cells = new Map(v.cells.map((c) => [`${c.checkpoint}\u0000${c.benchmark}`, c]));
  const box = el('div', undefined, 'curves');
  box.dataset.testid = 'eval-curves';
  for (const b of v.benchmarks) {
    const points: CurvePoint[] = [];
    for (const c of stepped) {
      const x = cells.get(`${c.id}\u0000${b.id}`);
      if (x) points.push({ step: c.step!, label: c.label, value: x.value, lo: x.lo, hi: x.hi });
    }
    if (points.length < 2) continue;
    const base = cells.get(`${v.base}\u0000${b.id}`)?.value;
    const svg = curveSvg(b.label, points, base);
    svg.dataset.benchmark = b.id;
    box.append(svg);
  }
  return box.childElementCount ? box : undefined;
}

function show(v: MatrixView): void {
  title.textContent = v.title;
  title.title = v.source;
  summary.textContent = `${v.checkpoints.length} checkpoint${v.checkpoints.length === 1 ? '' : 's'} × ${v.benchmarks.length} benchmark${v.benchmarks.length === 1 ? '' : 's'} · base: ${v.checkpoints.find((c) => c.id === v.base)?.label ?? v.base}`;
  status.textContent = 'Values with Wilson 95% intervals; Δ against the base on the questions both answered, with a paired test (real: p < 0.05). Click a cell for its predictions.';
  status.className = 'note';
  body.replaceChildren(matrixTable(v));
  const c = curves(v);
  if (c) body.append(el('h2', 'Over training steps'), c);
  if (v.problems.length) {
    body.append(el('h2', v.badLines > 50 ? `Problems (first 50 of ${v.badLines} bad lines)` : 'Problems'));
    const ul = el('ul', undefined, 'problems');
    ul.dataset.testid = 'eval-problems';
    for (const p of v.problems) ul.append(el('li', p));
    body.append(ul);
  }
}

function handle(m: EvalHostMessage): void {
  switch (m.type) {
    case 'loading':
      if (!body.firstChild) status.textContent = `Reading ${m.source}…`;
      return;
    case 'error':
      body.replaceChildren();
      status.textContent = m.message;
      status.className = 'error';
      status.dataset.testid = 'eval-error';
      return;
    case 'show':
      show(m.view);
      return;
  }
}

channel.listen(handle);
post({ type: 'ready' });
