/**
 * One benchmark's value over training steps as an SVG built node by node (never from markup):
 * the line, each point's 95% interval as a bar, the base checkpoint's value as a dashed line,
 * axes with percent and step ticks, a <title> per point for the tooltip.
 */
const SVG = 'http://www.w3.org/2000/svg';

export interface CurvePoint {
  step: number;
  label: string;
  value: number;
  lo: number;
  hi: number;
}

function node<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, cls?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (cls) e.setAttribute('class', cls);
  return e;
}

function text(x: number, y: number, s: string, anchor: 'start' | 'middle' | 'end', cls = 'tick'): SVGTextElement {
  const t = node('text', { x, y, 'text-anchor': anchor }, cls);
  t.textContent = s;
  return t;
}

const round = (v: number): number => Math.round(v * 10) / 10;

/** A chart of `points` (sorted by step); `base` draws the base checkpoint's value across it. */
export function curveSvg(title: string, points: readonly CurvePoint[], base?: number): SVGSVGElement {
  const W = 360;
  const H = 200;
  const L = 44;
  const R = 12;
  const T = 24;
  const B = 34;
  const svg = node('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img' }, 'curve');
  svg.setAttribute('aria-label', `${title} over training steps`);
  svg.append(text(L, 14, title, 'start', 'title'));
  const all = points.flatMap((p) => [p.lo, p.hi]).concat(base === undefined ? [] : [base]);
  let lo = Math.max(0, Math.floor(Math.min(...all) * 10) / 10);
  let hi = Math.min(1, Math.ceil(Math.max(...all) * 10) / 10);
  if (hi <= lo) [lo, hi] = [Math.max(0, lo - 0.1), Math.min(1, hi + 0.1)];
  const s0 = points[0]!.step;
  const s1 = points.length > 1 ? points[points.length - 1]!.step : s0 + 1;
  const x = (s: number): number => round(L + ((s - s0) / (s1 - s0 || 1)) * (W - L - R));
  const y = (v: number): number => round(T + (1 - (v - lo) / (hi - lo)) * (H - T - B));
  // Grid lines at round percentages: every 10 points, every 20 on a tall range.
  const tick = hi - lo > 0.6 ? 0.2 : 0.1;
  for (let k = Math.ceil(lo / tick - 1e-9); k * tick <= hi + 1e-9; k++) {
    const v = k * tick;
    svg.append(node('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }, 'grid'), text(L - 4, y(v) + 4, `${(100 * v).toFixed(0)}%`, 'end'));
  }
  svg.append(node('line', { x1: L, x2: W - R, y1: H - B, y2: H - B }, 'axis'), node('line', { x1: L, x2: L, y1: T, y2: H - B }, 'axis'));
  // At most ~6 step labels, always the first and the last.
  const every = Math.max(1, Math.ceil(points.length / 6));
  points.forEach((p, i) => {
    if (i % every === 0 || i === points.length - 1) svg.append(text(x(p.step), H - B + 14, String(p.step), 'middle'));
  });
  svg.append(text((L + W - R) / 2, H - 4, 'step', 'middle', 'axis-label'));
  if (base !== undefined) svg.append(node('line', { x1: L, x2: W - R, y1: y(base), y2: y(base) }, 'base'));
  svg.append(node('polyline', { points: points.map((p) => `${x(p.step)},${y(p.value)}`).join(' ') }, 'line'));
  for (const p of points) {
    const g = node('g', {}, 'point');
    g.dataset.step = String(p.step);
    const tip = node('title', {});
    tip.textContent = `${p.label} (step ${p.step}): ${(100 * p.value).toFixed(1)}% [${(100 * p.lo).toFixed(1)}, ${(100 * p.hi).toFixed(1)}]`;
    g.append(tip, node('line', { x1: x(p.step), x2: x(p.step), y1: y(p.lo), y2: y(p.hi) }, 'ci'), node('circle', { cx: x(p.step), cy: y(p.value), r: 3.5 }, 'dot'));
    svg.append(g);
  }
  return svg;
}
