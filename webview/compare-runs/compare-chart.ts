/**
 * One Compare Runs chart (uPlot): one line per run over the shared steps, smoothed (EMA) when
 * asked, with the raw values as a faint line behind; colours from the theme. A click picks the
 * step under the cursor and, of the runs with a value there, the one whose line is nearest the
 * cursor; it reports (run, step).
 */
import uPlot from 'uplot';
import { emaSmooth, onSharedSteps, type StepSummary } from '../../src/protocol/compareRuns';
import { chartCard, STEP_INCRS, themedAxis } from '../charts/step-chart';
import { format, withAlpha, yRange } from '../overview/overview-chart';
import { themeVar } from '../runs/theme';

const HEIGHT = 170;

/** Run colours, in order (the theme's chart colours). */
export const RUN_COLOURS: readonly [string, string][] = [['blue', '#3794ff'], ['orange', '#d18616'], ['green', '#89d185'], ['purple', '#b180d7']];
export const runColour = (i: number): string => themeVar(`--vscode-charts-${RUN_COLOURS[i % 4]![0]}`, RUN_COLOURS[i % 4]![1]);

export interface CompareChartDef {
  key: string;
  title: string;
  value: (s: StepSummary) => number | null;
  percent?: boolean;
}

export class CompareChart {
  readonly root: HTMLElement;
  private readonly latest: HTMLElement;
  private readonly plotBox: HTMLElement;
  private plot: uPlot | undefined;
  private steps: number[] = [];
  private raw: (number | null)[][] = [];
  private data: uPlot.AlignedData = [[]];
  private shape = '';

  constructor(readonly def: CompareChartDef, private readonly onPick: (run: number, step: number) => void) {
    ({ root: this.root, latest: this.latest, plotBox: this.plotBox } = chartCard(def.title, 'Click a line to open that run\u2019s step in the viewer'));
    this.root.dataset.testid = 'compare-chart';
    this.root.dataset.chart = def.key;
  }

  /** Redraw: `runs[i]` is run i's steps (ascending), `steps` the shared axis, `smoothing` the EMA weight. */
  draw(steps: number[], runs: readonly (readonly StepSummary[])[], smoothing: number): void {
    this.steps = steps;
    this.raw = runs.map((r) => onSharedSteps(steps, r, this.def.value));
    const smoothed = this.raw.map((r) => emaSmooth(r, smoothing));
    this.data = [steps, ...smoothed, ...(smoothing > 0 ? this.raw : [])];
    this.root.dataset.points = this.raw.map((r) => r.filter((v) => v !== null).length).join(',');
    this.latest.textContent = smoothed.map((r) => { const v = [...r].reverse().find((x) => x !== null); return v === undefined || v === null ? '\u2014' : format(v, this.def.percent); }).join(' / ');
    const shape = `${runs.length}:${smoothing > 0}`;
    if (!this.plot || shape !== this.shape) {
      this.shape = shape;
      this.plot?.destroy();
      this.plot = this.create(runs.length, smoothing > 0);
    } else this.plot.setData(this.data);
    this.exposeScale();
  }

  recolour(): void {
    if (!this.plot) return;
    const runs = this.raw.length;
    this.plot.destroy();
    this.plot = this.create(runs, this.shape.endsWith('true'));
    this.exposeScale();
  }

  resize(width: number): void {
    this.plot?.setSize({ width: Math.max(160, width), height: HEIGHT });
    this.exposeScale();
  }

  /** The y scale in use, for a script or test that needs a value's place on the plot. */
  private exposeScale(): void {
    for (const axis of ['x', 'y'] as const) {
      const sc = this.plot?.scales[axis];
      if (sc && typeof sc.min === 'number' && typeof sc.max === 'number') this.root.dataset[`${axis}range`] = `${sc.min},${sc.max}`;
    }
  }

  private create(runs: number, withRaw: boolean): uPlot {
    const axis = themedAxis();
    const percent = this.def.percent;
    const line = (i: number, faint: boolean): uPlot.Series => ({
      label: `run ${i + 1}${faint ? ' raw' : ''}`,
      stroke: faint ? withAlpha(runColour(i), 0.3) : runColour(i),
      width: faint ? 1 : 2,
      spanGaps: true,
      points: { show: faint ? false : () => this.steps.length <= 60 },
    });
    const series: uPlot.Series[] = [{ label: 'step' }, ...Array.from({ length: runs }, (_, i) => line(i, false)), ...(withRaw ? Array.from({ length: runs }, (_, i) => line(i, true)) : [])];
    const plot = new uPlot(
      {
        width: Math.max(160, this.plotBox.clientWidth || 360),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        scales: { x: { time: false }, y: { range: yRange(percent) } },
        series,
        axes: [{ ...axis, incrs: STEP_INCRS }, { ...axis, size: 56, values: percent ? (_u, vals) => vals.map((v) => format(v, true)) : undefined }],
      },
      this.data,
      this.plotBox,
    );
    plot.over.addEventListener('click', () => {
      const idx = plot.cursor.idx;
      const top = plot.cursor.top;
      if (idx === null || idx === undefined || top === undefined || top < 0) return;
      let best = -1;
      let bestDist = Infinity;
      for (let r = 0; r < runs; r++) {
        const v = (this.data[r + 1] as (number | null)[])[idx];
        if (v === null || v === undefined || (this.raw[r]?.[idx] ?? null) === null) continue;
        const d = Math.abs(plot.valToPos(v, 'y') - top);
        if (d < bestDist) {
          bestDist = d;
          best = r;
        }
      }
      const step = this.steps[idx];
      if (best >= 0 && step !== undefined) this.onPick(best, step);
    });
    return plot;
  }

  destroy(): void {
    this.plot?.destroy();
    this.root.remove();
  }
}
