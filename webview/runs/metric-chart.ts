/**
 * One live chart (uPlot) of one metric over steps. Points are kept by step, so a value logged
 * again for a step (trainer_state.json re-read, reattach) replaces the old one. A click on the
 * plot reports the nearest step.
 */
import uPlot from 'uplot';
import type { ChartSlot } from './chart-slots';
import { chartColours } from './theme';
import { chartCard, formatNumber, onStepClick, STEP_INCRS, themedAxis } from '../charts/step-chart';

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
    ({ root: this.root, latest: this.latest, plotBox: this.plotBox } = chartCard(slot.title, 'Click a point to open this run\u2019s rollouts'));
    this.root.dataset.testid = 'chart';
    this.root.dataset.metric = slot.key;
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
    this.latest.textContent = last === null ? 'nan' : last === undefined ? '' : formatNumber(last);
    const data: uPlot.AlignedData = [this.steps, ys];
    if (!this.plot) this.plot = this.create(data);
    else this.plot.setData(data);
  }

  resize(width: number): void {
    this.plot?.setSize({ width: Math.max(120, width), height: HEIGHT });
  }

  private create(data: uPlot.AlignedData): uPlot {
    const axis = themedAxis();
    const plot = new uPlot(
      {
        width: Math.max(120, this.plotBox.clientWidth || 360),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        scales: { x: { time: false } },
        series: [{ label: 'step' }, { label: this.slot.title, stroke: chartColours().line, width: 1.5, points: { show: () => this.steps.length <= 60 } }],
        axes: [{ ...axis, incrs: STEP_INCRS }, { ...axis, size: 56 }],
      },
      data,
      this.plotBox,
    );
    onStepClick(plot, () => this.steps, this.onPick);
    return plot;
  }

  destroy(): void {
    this.plot?.destroy();
    this.root.remove();
  }
}
