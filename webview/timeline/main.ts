/**
 * Entry of the Prompt Timeline webview (dist/webview/timeline.js): the prompt (text only, via
 * textContent), charts over steps (the totals' mean with their min–max band, mean length, mean
 * IoU, verdicts) and one table row per group. A point or a row selects that group in the
 * viewer (`reveal`); a row's Compare posts `compare`. Speaks first (`ready`); every `show`
 * replaces what is drawn. Model output is hostile: text goes in through textContent only.
 */
import 'uplot/dist/uPlot.min.css';
import '../panel.css';
import '../charts/step-chart.css';
import './timeline.css';
import { isTimelineHostMessage, type TimelineData, type TimelineGroup, type TimelineHostMessage, type TimelineSource, type TimelineWebviewMessage } from '../../src/protocol/timeline';
import { HostChannel } from '../shared/host-channel';
import { followLayout, formatNumber } from '../charts/step-chart';
import { TimelineChart, type TimelineChartDef } from './timeline-chart';

const channel = new HostChannel<TimelineHostMessage, TimelineWebviewMessage>(isTimelineHostMessage);
const root = document.getElementById('prompt-timeline') ?? document.body;

const header = document.createElement('header');
header.className = 'source';
const title = document.createElement('h1');
const facts = document.createElement('span');
facts.className = 'facts';
facts.dataset.testid = 'timeline-facts';
header.append(title, facts);
const error = document.createElement('p');
error.className = 'error';
error.setAttribute('role', 'alert');
const prompt = document.createElement('div');
prompt.className = 'prompt';
prompt.dataset.testid = 'timeline-prompt';
const images = document.createElement('div');
images.className = 'images';
const grid = document.createElement('div');
grid.className = 'charts';
const table = document.createElement('table');
table.className = 'groups';
table.dataset.testid = 'timeline-table';
const thead = table.createTHead();
const tbody = table.createTBody();
root.append(header, error, prompt, images, grid, table);

let charts: TimelineChart[] = [];
let layout = '';
let frame = 0;

const reveal = (key: string): void => channel.post({ type: 'reveal', key });

function chartDefs(t: TimelineData): TimelineChartDef[] {
  const defs: TimelineChartDef[] = [
    {
      key: 'reward',
      title: 'Reward spread (recomputed total)',
      series: [
        { label: 'mean', colour: 'blue', value: (g) => g.mean },
        { label: 'max', colour: 'blue', edge: true, value: (g) => g.max },
        { label: 'min', colour: 'blue', edge: true, value: (g) => g.min },
      ],
      band: [1, 2],
    },
    { key: 'length', title: 'Mean completion length (bytes)', series: [{ label: 'length', colour: 'purple', value: (g) => g.length }] },
  ];
  if (t.hasIou) defs.push({ key: 'iou', title: 'Mean IoU of matched boxes', series: [{ label: 'IoU', colour: 'green', value: (g) => g.iou }] });
  defs.push({
    key: 'verdicts',
    title: 'Verdicts',
    counts: true,
    series: [
      { label: 'misaligned', colour: 'red', value: (g) => g.verdicts.misaligned },
      { label: 'aligned', colour: 'green', value: (g) => g.verdicts.aligned },
    ],
  });
  return defs;
}

function ensureCharts(t: TimelineData): void {
  const defs = chartDefs(t);
  const signature = defs.map((d) => d.key).join(',');
  if (signature === layout) return;
  layout = signature;
  for (const c of charts) c.destroy();
  charts = defs.map((d) => new TimelineChart(d, reveal));
  grid.replaceChildren(...charts.map((c) => c.root));
}

const COLUMNS: [string, (g: TimelineGroup) => string][] = [
  ['step', (g) => (g.step === null ? '—' : String(g.step))],
  ['group', (g) => g.key],
  ['n', (g) => String(g.size)],
  ['mean', (g) => formatNumber(g.mean)],
  ['min', (g) => formatNumber(g.min)],
  ['max', (g) => formatNumber(g.max)],
  ['std', (g) => formatNumber(g.std)],
  ['length', (g) => formatNumber(g.length)],
  ['IoU', (g) => (g.iou === null ? '—' : formatNumber(g.iou))],
];

function verdictCell(g: TimelineGroup): HTMLTableCellElement {
  const td = document.createElement('td');
  td.className = 'verdicts';
  const parts: [string, number][] = [['aligned', g.verdicts.aligned], ['misaligned', g.verdicts.misaligned], ['uncertain', g.verdicts.uncertain], ['failed', g.verdicts.failed]];
  const shown = parts.filter(([, n]) => n > 0);
  if (!shown.length) td.textContent = 'unjudged';
  for (const [name, n] of shown) {
    const s = document.createElement('span');
    s.className = `verdict-${name}`;
    s.textContent = `${n} ${name} `;
    td.append(s);
  }
  if (g.zeroVariance) {
    const z = document.createElement('span');
    z.className = 'zv';
    z.textContent = ' zero variance';
    td.append(z);
  }
  return td;
}

function drawTable(source: TimelineSource, t: TimelineData): void {
  const hr = document.createElement('tr');
  for (const name of [...COLUMNS.map(([n]) => n), 'verdicts', '']) {
    const th = document.createElement('th');
    th.textContent = name;
    hr.append(th);
  }
  thead.replaceChildren(hr);
  tbody.replaceChildren(...t.groups.map((g) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'timeline-row';
    tr.dataset.key = g.key;
    if (g.key === source.key) tr.className = 'origin';
    tr.title = 'Select this group in the viewer';
    for (const [name, cell] of COLUMNS) {
      const td = document.createElement('td');
      td.dataset.col = name;
      td.textContent = cell(g);
      tr.append(td);
    }
    tr.append(verdictCell(g));
    const act = document.createElement('td');
    if (g.key !== source.key) {
      const b = document.createElement('button');
      b.textContent = 'Compare';
      b.dataset.testid = 'timeline-compare';
      b.title = `Compare with ${source.key}`;
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        channel.post({ type: 'compare', key: g.key });
      });
      act.append(b);
    }
    tr.append(act);
    tr.addEventListener('click', () => reveal(g.key));
    return tr;
  }));
}

function draw(m: Extract<TimelineHostMessage, { type: 'show' }>): void {
  const { source, timeline: t } = m;
  title.textContent = `Prompt Timeline: ${source.name}`;
  title.title = source.target;
  if (!t) {
    facts.textContent = m.reading ? `reading\u2026 (group ${source.key} not read yet)` : `group ${source.key} is not in this source`;
    return;
  }
  const steps = new Set(t.groups.map((g) => g.step)).size;
  root.dataset.groups = String(t.groups.length);
  facts.textContent = [`${t.groups.length} group${t.groups.length === 1 ? '' : 's'}`, `${steps} step${steps === 1 ? '' : 's'}`, `rewards recomputed with \u201c${t.variant}\u201d`, m.reading ? 'reading\u2026' : 'following'].join(' \u00b7 ');
  prompt.textContent = t.prompt.text || '(no prompt text)';
  images.textContent = t.prompt.images.length ? `Images: ${t.prompt.images.join(', ')}` : '';
  ensureCharts(t);
  drawTable(source, t);
  frame ||= requestAnimationFrame(() => {
    frame = 0;
    for (const c of charts) c.draw(t.groups);
  });
}

followLayout(grid, () => charts);

channel.listen((m) => {
  if (m.type === 'error') {
    error.textContent = m.message;
    return;
  }
  error.textContent = '';
  channel.saveState({ target: m.source.target, key: m.source.key }); // the serializer reopens this timeline after a reload
  draw(m);
});
channel.post({ type: 'ready' });
