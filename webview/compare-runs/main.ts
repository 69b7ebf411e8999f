/**
 * Entry of the Compare Runs webview (dist/webview/compare-runs.js): a legend naming each run
 * (colour, format, steps, completions), a smoothing slider (EMA weight, kept across reloads),
 * the Run Overview's quantities as charts with one line per run over the shared steps, and the
 * same numbers as a visually hidden table. Speaks first (`ready`); `show` replaces everything,
 * `steps` updates one run. Drawing happens at most once per frame; text goes in via textContent.
 */
import 'uplot/dist/uPlot.min.css';
import '../panel.css';
import '../charts/step-chart.css';
import '../overview/overview.css';
import './compare-runs.css';
import { isCompareRunsHostMessage, sharedSteps, type ComparedRun, type CompareRunsHostMessage, type CompareRunsWebviewMessage, type OverviewStatus, type StepSummary } from '../../src/protocol/compareRuns';
import { chartDefs } from '../overview/chart-defs';
import { HostChannel } from '../shared/host-channel';
import { followLayout } from '../charts/step-chart';
import { format } from '../overview/overview-chart';
import { CompareChart, RUN_COLOURS, type CompareChartDef } from './compare-chart';

const channel = new HostChannel<CompareRunsHostMessage, CompareRunsWebviewMessage>(isCompareRunsHostMessage);
const root = document.getElementById('compare-runs') ?? document.body;
const saved = channel.savedState() as { smoothing?: unknown } | undefined;

const header = document.createElement('header');
header.className = 'source';
const title = document.createElement('h1');
title.textContent = 'Compare Runs';
const facts = document.createElement('span');
facts.className = 'facts';
facts.dataset.testid = 'compare-facts';
header.append(title, facts);
const controls = document.createElement('div');
controls.className = 'controls';
const legend = document.createElement('ul');
legend.className = 'runs';
legend.dataset.testid = 'compare-legend';
const smoothLabel = document.createElement('label');
smoothLabel.className = 'smoothing';
smoothLabel.textContent = 'Smoothing ';
const smooth = document.createElement('input');
smooth.type = 'range';
smooth.min = '0';
smooth.max = '0.95';
smooth.step = '0.05';
smooth.dataset.testid = 'compare-smoothing';
smooth.setAttribute('aria-label', 'Smoothing: exponential moving average weight');
const smoothValue = document.createElement('output');
smoothLabel.append(smooth, smoothValue);
controls.append(legend, smoothLabel);
const note = document.createElement('p');
note.className = 'note';
note.dataset.testid = 'compare-note';
const grid = document.createElement('div');
grid.className = 'charts';
const table = document.createElement('table');
table.className = 'visually-hidden';
table.dataset.testid = 'compare-table';
root.append(header, controls, note, grid, table);

let runs: ComparedRun[] = [];
let variant = '';
let rewards: string[] = [];
let status: OverviewStatus[] = [];
let steps: Map<number, StepSummary>[] = [];
let charts: CompareChart[] = [];
let layout = '';
let frame = 0;
let smoothing = typeof saved?.smoothing === 'number' && saved.smoothing >= 0 && saved.smoothing < 1 ? saved.smoothing : 0;
smooth.value = String(smoothing);

const pick = (run: number, step: number) => channel.post({ type: 'openStep', run, step });

/** The Run Overview's charts, each reduced to its main line (the mean, the IoU median). */
function compareDefs(): CompareChartDef[] {
  const defs = chartDefs({ target: '', name: '', format: null, variant, rewards }, { unstepped: 0, loggedNames: [], stepsInferred: false, reading: false, problem: null });
  return defs.map((d) => {
    const main = d.series.find((s) => !s.edge)!;
    const title = d.title.replace(/, mean \u00b1 std$/, ', mean').replace(/, median and p10\u2013p90$/, ', median').replace(/ \(UTF-8 bytes\)$/, ' (UTF-8 bytes), mean');
    return { key: d.key, title, value: main.value, percent: d.percent };
  });
}

function ensureCharts(): void {
  const defs = compareDefs();
  const signature = defs.map((d) => d.key).join(',');
  if (signature === layout) return;
  layout = signature;
  for (const c of charts) c.destroy();
  charts = defs.map((d) => new CompareChart(d, pick));
  grid.replaceChildren(...charts.map((c) => c.root));
}

function ordered(i: number): StepSummary[] {
  return [...(steps[i]?.values() ?? [])].sort((a, b) => a.step - b.step);
}

function describe(): void {
  root.dataset.runs = String(runs.length);
  legend.replaceChildren(...runs.map((r, i) => {
    const li = document.createElement('li');
    li.dataset.testid = 'compare-run';
    li.style.setProperty('--key', `var(--vscode-charts-${RUN_COLOURS[i]![0]}, ${RUN_COLOURS[i]![1]})`);
    li.title = r.target;
    const name = document.createElement('strong');
    name.textContent = r.label;
    const s = ordered(i);
    const completions = s.reduce((n, x) => n + x.completions, 0);
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = ` ${r.format ?? 'format unknown'} \u00b7 ${s.length} step${s.length === 1 ? '' : 's'} \u00b7 ${completions} completions${status[i]?.reading ? ' \u00b7 reading\u2026' : ''}`;
    li.append(name, meta);
    return li;
  }));
  facts.textContent = `${runs.length} runs \u00b7 rewards recomputed with \u201c${variant}\u201d \u00b7 aligned by step`;
  const notes: string[] = [];
  status.forEach((st, i) => {
    const who = runs[i]?.label ?? `run ${i + 1}`;
    if (st.unstepped) notes.push(`${who}: ${st.unstepped} completion${st.unstepped === 1 ? '' : 's'} without a step, not charted.`);
    if (st.stepsInferred) notes.push(`${who}: steps inferred from timestamps and order.`);
    if (st.problem) notes.push(`${who}: ${st.problem}`);
  });
  if (smoothing > 0) notes.push(`Lines smoothed (EMA weight ${smoothing}); the faint lines are the raw values, and a click opens the step under the cursor.`);
  note.textContent = notes.join(' ');
  smoothValue.textContent = smoothing > 0 ? ` ${smoothing}` : ' off';
}

const COLUMNS: [string, (s: StepSummary) => string][] = [
  ['completions', (s) => String(s.completions)],
  ['groups', (s) => String(s.groups)],
  ['reward mean', (s) => format(s.total.mean)],
  ['zero-variance groups', (s) => String(s.zeroVarianceGroups)],
  ['mean length', (s) => format(s.length.mean)],
  ['IoU median', (s) => (s.iou ? format(s.iou.p50) : '')],
];

function drawTable(): void {
  const caption = document.createElement('caption');
  caption.textContent = 'Per-step numbers of each compared run (raw, not smoothed)';
  const head = document.createElement('tr');
  for (const name of ['run', 'step', ...COLUMNS.map(([n]) => n)]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = name;
    head.append(th);
  }
  const body = document.createElement('tbody');
  runs.forEach((r, i) => {
    for (const s of ordered(i)) {
      const tr = document.createElement('tr');
      tr.dataset.run = String(i);
      tr.dataset.step = String(s.step);
      for (const text of [r.label, String(s.step), ...COLUMNS.map(([, cell]) => cell(s))]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      body.append(tr);
    }
  });
  const thead = document.createElement('thead');
  thead.append(head);
  table.replaceChildren(caption, thead, body);
}

function scheduleDraw(): void {
  frame ||= requestAnimationFrame(() => {
    frame = 0;
    const perRun = runs.map((_, i) => ordered(i));
    const shared = sharedSteps(perRun);
    for (const c of charts) c.draw(shared, perRun, smoothing);
    drawTable();
    describe();
  });
}

smooth.addEventListener('input', () => {
  smoothing = Number(smooth.value);
  channel.saveState({ targets: runs.map((r) => r.target), smoothing });
  scheduleDraw();
});

followLayout(grid, () => charts);

channel.listen((m) => {
  if (m.type === 'show') {
    runs = m.runs;
    variant = m.variant;
    rewards = m.rewards;
    status = m.status;
    steps = m.steps.map((list) => new Map(list.map((s) => [s.step, s])));
    layout = '';
    channel.saveState({ targets: runs.map((r) => r.target), smoothing }); // the serializer reopens these runs after a reload
    ensureCharts();
  } else {
    const run = steps[m.run];
    if (!run) return;
    if (m.reset) run.clear();
    for (const s of m.steps) run.set(s.step, s);
    status[m.run] = m.status;
    const r = runs[m.run];
    if (r) r.format = m.format;
  }
  describe();
  scheduleDraw();
});

channel.post({ type: 'ready' });
