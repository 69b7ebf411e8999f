/**
 * Entry of the Compare Completions webview (dist/webview/compare.js): one prompt's group in two
 * places side by side. The prompt, the image once with the gold boxes and both groups' predicted
 * boxes (left blue, right orange), a summary per side (run, step, recomputed reward means,
 * verdicts), then each pair of completions with the same index: reward, advantage, format,
 * verdict and the chain with the words only it has marked. Speaks first (`ready`); every `show`
 * replaces what is drawn. Model output is hostile: every string goes in through textContent, and
 * boxes are SVG elements made with createElementNS.
 */
import '../panel.css';
import './compare.css';
import { isCompareHostMessage, type ChainDiff, type CompareHostMessage, type CompareSide, type CompareWebviewMessage, type CompletionView, type DiffSegment, type DrawBox, type GroupDetail } from '../../src/protocol/compare';
import { HostChannel } from '../shared/host-channel';
import { formatNumber } from '../charts/step-chart';

const channel = new HostChannel<CompareHostMessage, CompareWebviewMessage>(isCompareHostMessage);
const root = document.getElementById('compare-completions') ?? document.body;
const SVG = 'http://www.w3.org/2000/svg';
const SIDE_NAMES = ['left', 'right'] as const;

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

function sideTitle(s: CompareSide): string {
  const step = s.detail?.step;
  return `${s.label} \u00b7 ${step === null || step === undefined ? 'no step' : `step ${step}`} \u00b7 group ${s.key}`;
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const num = (v: number | null | undefined): string => (v === null || v === undefined ? '\u2014' : formatNumber(v));

/** Recomputed reward means of a group: total first, then each reward function in order. */
function rewardMeans(d: GroupDetail): [string, number | null][] {
  const names = d.completions[0]?.rewards.map((r) => r.name) ?? [];
  return [
    ['total', mean(d.completions.map((c) => c.reward.recomputed).filter((v): v is number => v !== null))],
    ...names.map((n): [string, number | null] => [n, mean(d.completions.map((c) => c.rewards.find((r) => r.name === n)?.recomputed ?? null).filter((v): v is number => v !== null))]),
  ];
}

function verdictCounts(d: GroupDetail): string {
  let aligned = 0;
  let misaligned = 0;
  let unjudged = 0;
  for (const c of d.completions) {
    if (!c.verdict || c.verdict.aligns === null) unjudged++;
    else if (c.verdict.aligns) aligned++;
    else misaligned++;
  }
  return [aligned && `${aligned} aligned`, misaligned && `${misaligned} misaligned`, unjudged && `${unjudged} unjudged`].filter(Boolean).join(', ');
}

function summary(sides: CompareSide[]): HTMLTableElement {
  const table = el('table', 'summary');
  table.dataset.testid = 'compare-summary';
  const details = sides.map((s) => s.detail);
  const names = details.find((d) => d)?.completions[0]?.rewards.map((r) => r.name) ?? [];
  const head = table.createTHead().insertRow();
  for (const h of ['', 'run', 'step', 'group', 'completions', 'reward total', ...names, 'verdicts', '']) head.append(el('th', undefined, h));
  const body = table.createTBody();
  sides.forEach((s, i) => {
    const tr = body.insertRow();
    tr.dataset.side = SIDE_NAMES[i];
    const swatch = el('td', `swatch side-${i}`);
    swatch.setAttribute('aria-label', SIDE_NAMES[i]!);
    tr.append(swatch, el('td', undefined, s.label), el('td', undefined, s.detail?.step === null || s.detail?.step === undefined ? '\u2014' : String(s.detail.step)), el('td', undefined, s.key));
    if (!s.detail) {
      const td = el('td', 'problem', s.problem ?? 'reading\u2026');
      td.colSpan = 3 + names.length;
      tr.append(td);
    } else {
      const means = new Map(rewardMeans(s.detail));
      tr.append(el('td', undefined, String(s.detail.completions.length)));
      for (const n of ['total', ...names]) {
        const td = el('td', undefined, num(means.get(n)));
        td.dataset.reward = n;
        tr.append(td);
      }
      tr.append(el('td', 'verdicts', verdictCounts(s.detail)));
    }
    const open = el('td');
    const b = el('button', undefined, 'Open in Viewer');
    b.title = `Select group ${s.key} in the viewer of ${s.target}`;
    b.addEventListener('click', () => channel.post({ type: 'reveal', side: i as 0 | 1 }));
    open.append(b);
    tr.append(open);
  });
  return table;
}

/** The image once, with the gold boxes (dashed) and each side's predicted boxes in its colour. */
function figure(sides: CompareSide[]): HTMLElement | null {
  const d = sides.find((s) => s.detail?.image?.src)?.detail;
  const image = d?.image;
  if (!d || !image?.src) return null;
  const fig = el('figure', 'image');
  fig.dataset.testid = 'compare-image';
  const box = el('div', 'frame');
  const img = el('img');
  img.alt = image.path;
  img.src = image.src;
  const svg = document.createElementNS(SVG, 'svg');
  const draw = (w: number, h: number): void => {
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    svg.replaceChildren();
    const add = (b: DrawBox, cls: string, title: string): void => {
      const [x1, y1, x2, y2] = b.box;
      const r = document.createElementNS(SVG, 'rect');
      r.setAttribute('x', String(Math.min(x1, x2)));
      r.setAttribute('y', String(Math.min(y1, y2)));
      r.setAttribute('width', String(Math.max(1, Math.abs(x2 - x1))));
      r.setAttribute('height', String(Math.max(1, Math.abs(y2 - y1))));
      r.setAttribute('class', cls);
      r.setAttribute('vector-effect', 'non-scaling-stroke');
      const t = document.createElementNS(SVG, 'title');
      t.textContent = title;
      r.append(t);
      svg.append(r);
    };
    for (const g of d.gold) add(g, 'gold', `gold${g.label ? `: ${g.label}` : ''}`);
    sides.forEach((s, i) => {
      for (const c of s.detail?.completions ?? []) {
        for (const b of c.boxes) add(b, `pred side-${i}`, `${SIDE_NAMES[i]} #${c.index}${b.label ? ` ${b.label}` : ''}${b.iou === null ? '' : ` IoU ${formatNumber(b.iou)}`}`);
      }
    });
    fig.dataset.boxes = String(svg.querySelectorAll('rect.pred').length);
  };
  if (image.width && image.height) draw(image.width, image.height);
  else img.addEventListener('load', () => draw(img.naturalWidth, img.naturalHeight), { once: true });
  box.append(img, svg);
  const caption = el('figcaption');
  for (const [cls, text] of [['gold', 'gold'], ['side-0', sides[0]!.label + ' (left)'], ['side-1', sides[1]!.label + ' (right)']] as const) {
    const k = el('span', `key ${cls}`, text);
    caption.append(k);
  }
  fig.append(box, caption);
  return fig;
}

function chain(segments: DiffSegment[] | null, text: string): HTMLElement {
  const pre = el('pre', 'chain');
  if (!segments) {
    pre.textContent = text;
    return pre;
  }
  for (const s of segments) {
    if (s.changed) {
      const m = el('mark', undefined, s.text);
      pre.append(m);
    } else pre.append(document.createTextNode(s.text));
  }
  return pre;
}

function card(c: CompletionView | undefined, segments: DiffSegment[] | null, side: number): HTMLElement {
  const div = el('article', `card side-${side}`);
  div.dataset.testid = 'compare-card';
  div.dataset.side = SIDE_NAMES[side];
  if (!c) {
    div.append(el('p', 'missing', 'No completion with this index.'));
    return div;
  }
  div.dataset.index = String(c.index);
  const head = el('header');
  head.append(el('strong', undefined, `#${c.index}`));
  const reward = el('span', 'reward', `reward ${num(c.reward.recomputed)}`);
  reward.dataset.testid = 'compare-reward';
  head.append(reward);
  for (const r of c.rewards) head.append(el('span', 'part', `${r.name} ${num(r.recomputed)}`));
  head.append(el('span', 'part', `adv ${num(c.advantage.recomputed)}`));
  if (!c.formatOk) head.append(el('span', 'bad', 'format \u2717'));
  if (c.verdict) {
    const v = el('span', `verdict ${c.verdict.aligns === null ? 'uncertain' : c.verdict.aligns ? 'aligned' : 'misaligned'}`, c.verdict.failed ? 'judge failed' : c.verdict.aligns === null ? 'uncertain' : c.verdict.aligns ? 'aligned' : `misaligned${c.verdict.type ? ` (${c.verdict.type})` : ''}`);
    v.title = c.verdict.failed ?? c.verdict.why;
    head.append(v);
  }
  div.append(head, chain(segments, c.text));
  return div;
}

function draw(m: CompareHostMessage): void {
  const [a, b] = m.sides;
  const title = el('h1', undefined, 'Compare Completions');
  const facts = el('span', 'facts', [`${sideTitle(a)} \u2194 ${sideTitle(b)}`, m.reading ? 'reading\u2026' : ''].filter(Boolean).join(' \u00b7 '));
  facts.dataset.testid = 'compare-facts';
  const header = el('header', 'source');
  header.append(title, facts);
  const parts: HTMLElement[] = [header];
  if (!m.samePrompt) parts.push(el('p', 'problem', 'The two groups ask different prompts: differences in the chains may come from the prompt.'));
  const prompt = el('div', 'prompt', a.detail?.promptText ?? b.detail?.promptText ?? '');
  prompt.dataset.testid = 'compare-prompt';
  const fig = figure(m.sides);
  const top = el('div', fig ? 'top' : 'top no-image');
  const facts2 = el('div');
  const scroll = el('div', 'scroll');
  scroll.append(summary(m.sides));
  facts2.append(prompt, scroll);
  if (fig) top.append(fig);
  top.append(facts2);
  parts.push(top);
  const left = a.detail?.completions ?? [];
  const right = b.detail?.completions ?? [];
  const changed = m.diffs.filter((d: ChainDiff) => d.left.some((s) => s.changed) || d.right.some((s) => s.changed)).length;
  const note = el('p', 'note', `${Math.max(left.length, right.length)} pairs by completion index; ${changed} of ${m.diffs.length} differ. Marked: the words only that side has.${m.diffs.some((d) => d.approximate) ? ' Long chains: only their common start and end are matched.' : ''}`);
  note.dataset.testid = 'compare-note';
  parts.push(note);
  const pairs = el('div', 'pairs');
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const d = m.diffs[i] ?? null;
    const row = el('div', 'pair');
    row.dataset.testid = 'compare-pair';
    row.append(card(left[i], d?.left ?? null, 0), card(right[i], d?.right ?? null, 1));
    pairs.append(row);
  }
  parts.push(pairs);
  root.replaceChildren(...parts);
}

channel.listen((m) => {
  channel.saveState({ sides: m.sides.map((s) => ({ target: s.target, key: s.key })) }); // the serializer reopens this comparison after a reload
  draw(m);
});
channel.post({ type: 'ready' });
