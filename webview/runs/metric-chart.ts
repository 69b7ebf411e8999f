/**
 * One live chart (uPlot) of one metric over steps. Points are kept by step, so a value logged
 * again for a step (trainer_state.json re-read, reattach) replaces the old one. A click on the
 * plot reports the nearest step.
 */
import uPlot from 'uplot';
import type { ChartSlot } from './chart-slots';
import { chartColours } from './theme';
import { STEP_INCRS } from '../charts/step-axis';

const HEIGHT = 150;

export class MetricChart {
  readonly root: HTMLElement;
  private readonly latest: HTMLElement;
  private readonly plotBox: HTMLElement;
  private readonly values = new Map<number, number | null>();
  private plot: uPlot | undefined;
  private steps: number[] = [];

  constructor(
    readonly slot: ChartSlot,
    private readonly onPick: (step: number) => void,
  ) {
    this.root = document.createElement('section');
    this.root.className = 'chart';
    this.root.dataset.testid = 'chart';
    this.root.dataset.metric = slot.key;
    this.root.dataset.points = '0';
    const head = document.createElement('header');
    const title = document.createElement('h3');
    title.textContent = slot.title;
    this.latest = document.createElement('span');
    this.latest.className = 'latest';
    head.append(title, this.latest);
    this.plotBox = document.createElement('div');
    this.plotBox.className = 'plot';
    this.plotBox.title = 'Click a point to open this run\u2019s rollouts';
    this.root.append(head, this.plotBox);
  }

  add(step: number, value: number | null): void {
    this.values.set(step, value);
  }

  /** Redraw with every point added so far. */
  draw(): void {
    this.steps = [...this.values.keys()].sort((a, b) => a - b);
    const ys = this.steps.map((s) => this.values.get(s) ?? null);
    const shown = ys.filter((v) => v !== null).length;
    this.root.dataset.points = String(shown);
    const last = [...ys].reverse().find((v) => v !== undefined);
    this.latest.textContent = last === null ? 'nan' : last === undefined ? '' : formatValue(last);
    const data: uPlot.AlignedData = [this.steps, ys];
    if (!this.plot) this.plot = this.create(data);
    else this.plot.setData(data);
  }

  resize(width: number): void {
    this.plot?.setSize({ width: Math.max(120, width), height: HEIGHT });
  }

  private create(data: uPlot.AlignedData): uPlot {
    const c = chartColours();
    const axis: uPlot.Axis = { stroke: c.text, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1 }, font: `11px ${c.font}` };
    const plot = new uPlot(
      {
        width: Math.max(120, this.plotBox.clientWidth || 360),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        scales: { x: { time: false } },
        series: [{ label: 'step' }, { label: this.slot.title, stroke: c.line, width: 1.5, points: { show: () => this.steps.length <= 60 } }],
        axes: [{ ...axis, incrs: STEP_INCRS }, { ...axis, size: 56 }],
      },
      data,
      this.plotBox,
    );
    plot.over.addEventListener('click', () => {
      const idx = plot.cursor.idx;
      const step = idx === null || idx === undefined ? undefined : this.steps[idx];
      if (step !== undefined) this.onPick(step);
    });
    return plot;
  }

  destroy(): void {
    this.plot?.destroy();
    this.root.remove();
  }
}

function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}
