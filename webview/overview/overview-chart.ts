/**
 * One overview chart (uPlot): its series over steps, a translucent band between two of them,
 * colours from the editor's theme (`--vscode-charts-*`), read again when the theme changes.
 * A click on the plot reports the nearest step.
 */
import uPlot from 'uplot';
import type { StepSummary } from '../../src/protocol/overview';
import { themeVar } from '../runs/theme';
import { chartCard, formatNumber, onStepClick, STEP_INCRS, themedAxis } from '../charts/step-chart';
import type { ChartDef, Colour } from './chart-defs';

const HEIGHT = 160;

const FALLBACK: Record<Colour, string> = { blue: '#3794ff', orange: '#d18616', green: '#89d185', purple: '#b180d7', red: '#f14c4c', yellow: '#cca700' };

const colour = (c: Colour) => themeVar(`--vscode-charts-${c}`, FALLBACK[c]);

/** `#rgb`, `#rrggbb` or `rgb(…)` with an alpha; anything else as it is. */
export function withAlpha(css: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(css.trim());
  if (hex) {
    const h = hex[1]!.length === 3 ? [...hex[1]!].map((c) => c + c).join('') : hex[1]!;
    const n = parseInt(h, 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(css.trim());
  return rgb ? `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${alpha})` : css;
}

export class OverviewChart {
  readonly root: HTMLElement;
  private readonly latest: HTMLElement;
  private readonly plotBox: HTMLElement;
  private plot: uPlot | undefined;
  private steps: number[] = [];
  private data: uPlot.AlignedData = [[]];

  constructor(
    readonly def: ChartDef,
    private readonly onPick: (step: number) => void,
  ) {
    ({ root: this.root, latest: this.latest, plotBox: this.plotBox } = chartCard(def.title, 'Click a point to open that step\u2019s groups'));
    this.root.dataset.testid = 'overview-chart';
    this.root.dataset.chart = def.key;
    const legend = document.createElement('div');
    legend.className = 'legend';
    for (const s of def.series.filter((x) => !x.edge)) {
      const item = document.createElement('span');
      item.className = s.dashed ? 'key dashed' : 'key';
      item.style.setProperty('--key', `var(--vscode-charts-${s.colour}, ${FALLBACK[s.colour]})`);
      item.textContent = s.label;
      legend.append(item);
    }
    this.root.insertBefore(legend, this.plotBox);
  }

  /** Redraw from every step so far (ascending). */
  draw(steps: readonly StepSummary[]): void {
    this.steps = steps.map((s) => s.step);
    this.data = [this.steps, ...this.def.series.map((d) => steps.map((s) => finite(d.value(s))))];
    const main = this.data[1] as (number | null)[];
    this.root.dataset.points = String(main.filter((v) => v !== null).length);
    const last = [...main].reverse().find((v) => v !== null);
    this.latest.textContent = last === undefined || last === null ? '' : format(last, this.def.percent);
    if (!this.plot) this.plot = this.create();
    else this.plot.setData(this.data);
  }

  /** New theme: rebuild with its colours. */
  recolour(): void {
    this.plot?.destroy();
    this.plot = this.steps.length ? this.create() : undefined;
  }

  resize(width: number): void {
    this.plot?.setSize({ width: Math.max(160, width), height: HEIGHT });
  }

  private create(): uPlot {
    const axis = themedAxis();
    const percent = this.def.percent;
    const series: uPlot.Series[] = [
      { label: 'step' },
      ...this.def.series.map((s): uPlot.Series => ({
        label: s.label,
        stroke: s.edge ? 'transparent' : colour(s.colour),
        width: s.edge ? 0 : 1.5,
        dash: s.dashed ? [5, 4] : undefined,
        points: { show: s.edge ? false : () => this.steps.length <= 60 },
        value: percent ? (_u, v) => (v === null ? '' : format(v, true)) : undefined,
      })),
    ];
    const band = this.def.band;
    const plot = new uPlot(
      {
        width: Math.max(160, this.plotBox.clientWidth || 360),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        scales: { x: { time: false }, y: { range: yRange(percent) } },
        series,
        bands: band ? [{ series: [band[0] + 1, band[1] + 1], fill: withAlpha(colour(this.def.series[band[0]]!.colour), 0.18) }] : [],
        // Steps are whole numbers: ticks at whole-number increments only.
        axes: [{ ...axis, incrs: STEP_INCRS }, { ...axis, size: 56, values: percent ? (_u, vals) => vals.map((v) => format(v, true)) : undefined }],
      },
      this.data,
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

/**
 * The y range: a fraction (percent chart) from 0 up to a little above its largest value (at
 * most 100%); anything else padded around its values, and a flat series (all equal, often 0)
 * centred in a unit-sized window instead of uPlot's 0–100 guess.
 */
export function yRange(percent: boolean | undefined): uPlot.Range.Function {
  return (_u, min, max) => {
    if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return percent ? [0, 1] : [0, 1];
    if (percent) return [0, Math.min(1, Math.max(0.05, max * 1.15))];
    if (min === max) {
      const half = Math.max(0.5, Math.abs(min) * 0.1);
      return [min - half, max + half];
    }
    return uPlot.rangeNum(min, max, 0.1, true);
  };
}

const finite = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

export function format(v: number, percent = false): string {
  return percent ? `${Number((v * 100).toPrecision(3))}%` : formatNumber(v);
}
