/**
 * What the per-step charts (Run Metrics, Run Overview) share: a card with a title, the latest
 * value and a plot box; axes in the editor's theme with the step axis ticking whole numbers; a
 * click that reports the step nearest the cursor; the number format of their labels.
 */
import type uPlot from 'uplot';
import { chartColours } from '../runs/theme';

/** Training steps are whole numbers: a step axis ticks at these increments only (uPlot `incrs`). */
export const STEP_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 50_000, 100_000];

export interface ChartCard {
  root: HTMLElement;
  latest: HTMLElement;
  plotBox: HTMLElement;
}

/** `<section class="chart">`: a header (title, latest value) and the plot box, whose tooltip says what a click does. */
export function chartCard(title: string, clickHint: string): ChartCard {
  const root = document.createElement('section');
  root.className = 'chart';
  root.dataset.points = '0';
  const head = document.createElement('header');
  const h = document.createElement('h3');
  h.textContent = title;
  const latest = document.createElement('span');
  latest.className = 'latest';
  head.append(h, latest);
  const plotBox = document.createElement('div');
  plotBox.className = 'plot';
  plotBox.title = clickHint;
  root.append(head, plotBox);
  return { root, latest, plotBox };
}

/** An axis in the theme's colours and font (read now: rebuild the plot when the theme changes). */
export function themedAxis(): uPlot.Axis {
  const c = chartColours();
  return { stroke: c.text, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 }, font: `11px ${c.font}` };
}

/** Reports the step under the cursor when the plot is clicked. */
export function onStepClick(plot: uPlot, steps: () => readonly number[], onPick: (step: number) => void): void {
  plot.over.addEventListener('click', () => {
    const idx = plot.cursor.idx;
    const step = idx === null || idx === undefined ? undefined : steps()[idx];
    if (step !== undefined) onPick(step);
  });
}

/** Four significant digits; exponent form for the very small and the very large. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** What `followLayout` needs of a chart: its card, a new width, new theme colours. */
export interface LaidOutChart {
  readonly root: HTMLElement;
  resize(width: number): void;
  recolour(): void;
}

/**
 * Keeps the charts of `grid` sized to their cards and coloured by the theme: VS Code swaps the
 * body's theme class (vscode-light / vscode-dark / high contrast). `charts()` is read each time,
 * so a page that rebuilds its charts passes a getter.
 */
export function followLayout(grid: HTMLElement, charts: () => readonly LaidOutChart[]): void {
  new ResizeObserver(() => {
    for (const c of charts()) c.resize(c.root.clientWidth - 18);
  }).observe(grid);
  new MutationObserver(() => {
    for (const c of charts()) c.recolour();
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
