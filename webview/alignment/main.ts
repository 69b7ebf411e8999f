/**
 * Entry of the Alignment dashboard (dist/webview/alignment.js): a header with the file and its
 * counts, a table per run / checkpoint and one per step. Speaks first (`ready`), then draws
 * what the host sends. Run names come from rollout files: every text goes in through textContent.
 */
import '../panel.css';
import './alignment.css';
import {
  isAlignmentHostMessage,
  MISALIGNMENT_TYPE_NAMES,
  type AlignmentHostMessage,
  type AlignmentRowView,
  type AlignmentView,
  type AlignmentWebviewMessage,
} from '../../src/protocol/alignment';
import { HostChannel } from '../shared/host-channel';

const channel = new HostChannel<AlignmentHostMessage, AlignmentWebviewMessage>(isAlignmentHostMessage);
const post = (m: AlignmentWebviewMessage): void => channel.post(m);

const root = document.getElementById('alignment') ?? document.body;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

const header = el('header');
const title = el('h1', 'Alignment');
const summary = el('span', '', 'summary');
summary.dataset.testid = 'alignment-summary';
const exportButton = el('button', 'Export as Markdown');
exportButton.dataset.testid = 'alignment-export';
exportButton.addEventListener('click', () => post({ type: 'exportMarkdown' }));
header.append(title, summary, exportButton);
const status = el('p', 'Reading…', 'note');
const body = el('div');
root.append(header, status, body);

const pct = (n: number | null): string => (n === null ? '–' : `${n.toFixed(1)}%`);
const TYPE_HEADINGS: Record<(typeof MISALIGNMENT_TYPE_NAMES)[number], string> = {
  contradiction: 'contradiction',
  missing_detail: 'missing detail',
  irrelevant: 'irrelevant',
  other: 'other',
};

function agreementText(r: AlignmentRowView): string {
  return r.agreement.map((a) => `${a.a}–${a.b} ${a.agree}/${a.both}`).join(', ') || '–';
}

function table(rows: readonly AlignmentRowView[], first: string, testid: string): HTMLTableElement {
  const t = el('table');
  t.dataset.testid = testid;
  const head = el('tr');
  for (const h of [first, 'completions', 'accuracy', 'judged', 'aligned', 'misaligned', 'unparseable', 'alignment', '', ...MISALIGNMENT_TYPE_NAMES.map((k) => TYPE_HEADINGS[k]), 'tier agreement']) head.append(el('th', h));
  t.append(el('thead'), el('tbody'));
  t.tHead!.append(head);
  for (const r of rows) {
    const tr = el('tr');
    tr.dataset.label = r.label;
    const name = r.scope === 'checkpoint' ? `${r.run} ${r.label}` : r.label;
    const cells = [name, String(r.completions), pct(r.accuracy), String(r.judged), String(r.aligned), String(r.misaligned), String(r.unparseable), pct(r.alignment)];
    cells.forEach((c, i) => {
      const td = el('td', c);
      td.dataset.col = ['name', 'completions', 'accuracy', 'judged', 'aligned', 'misaligned', 'unparseable', 'alignment'][i]!;
      tr.append(td);
    });
    const bar = el('td', undefined, 'bar');
    const fill = el('span');
    fill.style.width = `${Math.max(0, Math.min(100, r.alignment ?? 0))}px`;
    bar.append(fill);
    tr.append(bar);
    for (const k of MISALIGNMENT_TYPE_NAMES) {
      const td = el('td', String(r.types[k]));
      td.dataset.col = k;
      tr.append(td);
    }
    const agree = el('td', agreementText(r));
    agree.dataset.col = 'agreement';
    tr.append(agree);
    t.tBodies[0]!.append(tr);
  }
  return t;
}

function show(v: AlignmentView): void {
  const name = v.target.split(/[\\/]/).pop() ?? v.target;
  title.textContent = `Alignment: ${name}`;
  title.title = v.target;
  summary.textContent = `${v.files} file${v.files === 1 ? '' : 's'} · ${v.completions} completions · ${v.verdicts} verdicts`;
  status.textContent = v.verdicts === 0 ? 'No verdicts yet: run “Judge Rollouts File…” (or grpo-studio judge) on these rollouts.' : 'Alignment = 100 − misaligned % of the judged completions; accuracy is the seeds’ accuracy reward.';
  status.className = 'note';
  body.replaceChildren();
  const models = v.rows.filter((r) => r.scope !== 'step');
  const steps = v.rows.filter((r) => r.scope === 'step');
  body.append(el('h2', 'Per run and checkpoint'), table(models, 'model', 'alignment-models'));
  if (steps.length > 0) body.append(el('h2', 'Per step'), table(steps, 'step', 'alignment-steps'));
  if (v.problems.length > 0) {
    body.append(el('h2', 'Lines skipped'));
    const ul = el('ul', undefined, 'problems');
    for (const p of v.problems) ul.append(el('li', p));
    body.append(ul);
  }
}

function handle(m: AlignmentHostMessage): void {
  switch (m.type) {
    case 'loading':
      if (!body.firstChild) status.textContent = 'Reading…';
      return;
    case 'error':
      status.textContent = `Cannot read ${m.target}: ${m.message}`;
      status.className = 'error';
      return;
    case 'show':
      show(m.view);
      return;
  }
}

channel.listen(handle);
post({ type: 'ready' });
