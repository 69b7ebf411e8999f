/**
 * Entry of the Run Overview webview (dist/webview/overview.js): a header naming the source, one
 * chart per quantity over steps, and the same numbers as a visually hidden table. Speaks first
 * (`ready`), then draws what the host sends: `show` replaces everything, `steps` updates the
 * steps it carries. Drawing happens at most once per frame. All text goes in via textContent.
 */
import 'uplot/dist/uPlot.min.css';
import '../panel.css';
import '../charts/step-chart.css';
import './overview.css';
import { isOverviewHostMessage, type OverviewHostMessage, type OverviewSource, type OverviewStatus, type OverviewWebviewMessage, type StepSummary } from '../../src/protocol/overview';
import { chartDefs } from './chart-defs';
import { HostChannel } from '../shared/host-channel';
import { followLayout } from '../charts/step-chart';
import { OverviewChart } from './overview-chart';
import { StepsTable } from './steps-table';

const channel = new HostChannel<OverviewHostMessage, OverviewWebviewMessage>(isOverviewHostMessage);
const root = document.getElementById('run-overview') ?? document.body;

const header = document.createElement('header');
header.className = 'source';
const title = document.createElement('h1');
const facts = document.createElement('span');
facts.className = 'facts';
facts.dataset.testid = 'overview-facts';
header.append(title, facts);
const note = document.createElement('p');
note.className = 'note';
note.dataset.testid = 'overview-note';
const grid = document.createElement('div');
grid.className = 'charts';
const table = new StepsTable();
root.append(header, note, grid, table.root);

let source: OverviewSource | null = null;
let status: OverviewStatus | null = null;
const steps = new Map<number, StepSummary>();
let charts: OverviewChart[] = [];
let layout = '';
let frame = 0;

const pick = (step: number) => channel.post({ type: 'openStep', step });

/** The charts for this source and status; rebuilt only when the set of series changes. */
function ensureCharts(): void {
  if (!source || !status) return;
  const defs = chartDefs(source, status);
  const signature = JSON.stringify(defs.map((d) => [d.key, d.series.map((s) => s.label)]));
  if (signature === layout) return;
  layout = signature;
  for (const c of charts) c.destroy();
  charts = defs.map((d) => new OverviewChart(d, pick));
  grid.replaceChildren(...charts.map((c) => c.root));
}

function describe(): void {
  if (!source || !status) return;
  title.textContent = `Run Overview: ${source.name}`;
  title.title = source.target;
  let completions = 0;
  for (const s of steps.values()) completions += s.completions;
  root.dataset.steps = String(steps.size);
  facts.textContent = [
    `${steps.size} step${steps.size === 1 ? '' : 's'}`,
    `${completions} completions`,
    source.format ?? 'format unknown',
    `rewards recomputed with \u201c${source.variant}\u201d`,
    status.reading ? 'reading\u2026' : 'following',
  ].join(' \u00b7 ');
  const notes: string[] = [];
  if (status.unstepped) notes.push(`${status.unstepped} completion${status.unstepped === 1 ? ' has' : 's have'} no step and ${status.unstepped === 1 ? 'is' : 'are'} not charted.`);
  if (status.stepsInferred) notes.push('Steps were inferred from timestamps and order (the log writes none).');
  if (status.loggedNames.length) notes.push('Dashed orange: the mean the trainer logged.');
  if (!steps.size && !status.reading) notes.push('No steps yet: charts grow as the trainer writes rollouts.');
  note.textContent = notes.join(' ');
  if (status.problem) {
    const p = document.createElement('span');
    p.className = 'problem';
    p.textContent = ` ${status.problem}`;
    note.append(p);
  }
}

function scheduleDraw(): void {
  frame ||= requestAnimationFrame(() => {
    frame = 0;
    const ordered = [...steps.values()].sort((a, b) => a.step - b.step);
    for (const c of charts) c.draw(ordered);
  });
}

followLayout(grid, () => charts);

channel.listen((m) => {
  status = m.status;
  if (m.type === 'show') {
    source = m.source;
    channel.saveState({ target: m.source.target }); // the serializer reopens this source after a reload
    steps.clear();
    table.clear();
    layout = '';
  }
  for (const s of m.steps) steps.set(s.step, s);
  table.update(m.steps);
  ensureCharts();
  describe();
  scheduleDraw();
});

channel.post({ type: 'ready' });
