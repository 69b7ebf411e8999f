/**
 * Entry of the Run Metrics webview (dist/webview/runs.js): a header with the run's status and
 * progress, one live chart per metric family, per-GPU sparklines. Speaks first (`ready`), then
 * draws what the host sends. All text goes in through textContent.
 */
import 'uplot/dist/uPlot.min.css';
import '../panel.css';
import '../charts/step-chart.css';
import './runs.css';
import { isRunsHostMessage, type MetricView, type RunsHostMessage, type RunsWebviewMessage, type RunView } from '../../src/protocol/runs';
import { chartSlot } from './chart-slots';
import { GpuPanel } from './gpu-panel';
import { HostChannel } from '../shared/host-channel';
import { MetricChart } from './metric-chart';

const channel = new HostChannel<RunsHostMessage, RunsWebviewMessage>(isRunsHostMessage);
const root = document.getElementById('run-metrics') ?? document.body;

const header = document.createElement('header');
header.className = 'run';
const title = document.createElement('h1');
const status = document.createElement('span');
status.className = 'status';
status.dataset.testid = 'run-status';
const progress = document.createElement('span');
progress.className = 'progress';
progress.dataset.testid = 'run-progress';
const rolloutsButton = document.createElement('button');
rolloutsButton.textContent = 'Open Rollouts';
rolloutsButton.hidden = true;
header.append(title, status, progress, rolloutsButton);

const empty = document.createElement('p');
empty.className = 'note';
const grid = document.createElement('div');
grid.className = 'charts';
const gpus = new GpuPanel();
root.append(header, empty, grid, gpus.root);

let run: RunView | null = null;
const charts = new Map<string, MetricChart>();
const dirty = new Set<MetricChart>();
let frame = 0;

const openRollouts = (step?: number) => {
  if (run?.hasRollouts) channel.post({ type: 'openRollouts', run: run.id, ...(step !== undefined ? { step } : {}) });
};
rolloutsButton.addEventListener('click', () => openRollouts());

function clock(seconds: number): string {
  const t = Math.max(0, Math.round(seconds));
  const mm = String(Math.floor(t / 60) % 60).padStart(2, '0');
  const ss = String(t % 60).padStart(2, '0');
  return t >= 3600 ? `${Math.floor(t / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

function showRun(r: RunView | null): void {
  run = r;
  channel.saveState(r ? { run: r.id } : {}); // the serializer reopens this run after a reload
  title.textContent = r ? r.profile : 'Run Metrics';
  title.title = r?.id ?? '';
  status.textContent = r ? r.status : '';
  status.dataset.status = r?.status ?? '';
  const p = r?.progress;
  progress.textContent = p
    ? [`${p.step}/${p.total}`, p.rate !== undefined ? `${p.rate >= 1 ? p.rate.toFixed(2) + ' it/s' : (1 / p.rate).toFixed(2) + ' s/it'}` : '', p.eta !== undefined ? `ETA ${clock(p.eta)}` : ''].filter(Boolean).join(' \u00b7 ')
    : '';
  rolloutsButton.hidden = !r?.hasRollouts;
  updateEmpty();
}

function updateEmpty(): void {
  empty.hidden = charts.size > 0;
  empty.textContent = run
    ? 'No metrics yet: charts appear as the trainer logs reward, kl, loss, \u2026'
    : 'No run yet. Launch one with \u201cGRPO Studio: Launch Training Run\u2026\u201d or from the Runs view.';
}

function addPoints(points: readonly MetricView[]): void {
  for (const p of points) {
    const slot = chartSlot(p.name);
    if (!slot) continue;
    let chart = charts.get(slot.key);
    if (!chart) {
      chart = new MetricChart(slot, (step) => openRollouts(step));
      charts.set(slot.key, chart);
      const ordered = [...charts.values()].sort((a, b) => a.slot.order - b.slot.order);
      const next = ordered[ordered.indexOf(chart) + 1];
      grid.insertBefore(chart.root, next?.root ?? null);
    }
    chart.add(p.step, p.value);
    dirty.add(chart);
  }
  updateEmpty();
  // Many lines can arrive at once (a reattached run's history): draw once per frame.
  frame ||= requestAnimationFrame(() => {
    frame = 0;
    for (const c of dirty) c.draw();
    dirty.clear();
  });
}

function clearCharts(): void {
  for (const c of charts.values()) c.destroy();
  charts.clear();
  dirty.clear();
}

new ResizeObserver(() => {
  for (const c of charts.values()) c.resize(c.root.clientWidth - 16);
}).observe(grid);

channel.listen((m) => {
  switch (m.type) {
    case 'show':
      clearCharts();
      showRun(m.run);
      addPoints(m.metrics);
      if (m.gpusOff) gpus.off(m.gpusOff);
      else gpus.reset(m.gpuHistory);
      return;
    case 'metrics':
      if (m.run === run?.id) addPoints(m.points);
      return;
    case 'status':
      if (m.run.id === run?.id) showRun(m.run);
      return;
    case 'gpus':
      gpus.add(m.sample);
      return;
    case 'gpusOff':
      gpus.off(m.message);
      return;
  }
});

channel.post({ type: 'ready' });
