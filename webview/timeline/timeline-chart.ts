/**
 * One timeline chart (uPlot): a quantity over the prompt's groups in step order, optionally a
 * band between two series (the totals' min–max around their mean). A click picks the nearest
 * group. Colours from the editor's theme, read again when it changes.
 */
import uPlot from 'uplot';
import type { TimelineGroup } from '../../src/protocol/timeline';
import { themeVar } from '../runs/theme';
import { chartCard, formatNumber, STEP_INCRS, themedAxis } from '../charts/step-chart';
import { withAlpha } from '../overview/overview-chart';

const HEIGHT = 150;
const FALLBACK = { blue: '#3794ff', orange: '#d18616', green: '#89d185', red: '#f14c4c', purple: '#b180d7' } as const;
type Colour = keyof typeof FALLBACK;
const colour = (c: Colour): string => themeVar(`--vscode-charts-${c}`, FALLBACK[c]);

export interface TimelineSeries {
  label: string;
  colour: Colour;
  value: (g: TimelineGroup) => number | null;
  edge?: boolean;
}

export interface TimelineChartDef {
  key: string;
  title: string;
  series: TimelineSeries[];
  band?: [number, number];
  /** Counts: the axis starts at 0 and a flat series sits at the bottom, not mid-chart. */
  counts?: boolean;
}

export class TimelineChart {
  readonly root: HTMLElement;
  private readonly latest: HTMLElement;
  private readonly plotBox: HTMLElement;
  private plot: uPlot | undefined;
  private groups: readonly TimelineGroup[] = [];
  private data: uPlot.AlignedData = [[]];

  constructor(readonly def: TimelineChartDef, private readonly onPick: (key: string) => void) {
    ({ root: this.root, latest: this.latest, plotBox: this.plotBox } = chartCard(def.title, 'Click a point to select that group in the viewer'));
    this.root.dataset.testid = 'timeline-chart';
    this.root.dataset.chart = def.key;
    const legend = document.createElement('div');
    legend.className = 'legend';
    for (const s of def.series.filter((x) => !x.edge)) {
      const item = document.createElement('span');
      item.className = 'key';
      item.style.setProperty('--key', `var(--vscode-charts-${s.colour}, ${FALLBACK[s.colour]})`);
      item.textContent = s.label;
      legend.append(item);
    }
    this.root.insertBefore(legend, this.plotBox);
  }

  /** Groups with a step, ascending (a group without a step cannot be placed on the axis). */
  draw(groups: readonly TimelineGroup[]): void {
    this.groups = groups.filter((g) => g.step !== null);
    this.data = [this.groups.map((g) => g.step!), ...this.def.series.map((s) => this.groups.map((g) => finite(s.value(g))))];
    const main = this.data[1] as (number | null)[];
    this.root.dataset.points = String(main.filter((v) => v !== null).length);
    const last = [...main].reverse().find((v) => v !== null);
    this.latest.textContent = last === undefined || last === null ? '' : formatNumber(last);
    if (!this.plot) this.plot = this.create();
    else this.plot.setData(this.data);
  }

  recolour(): void {
    this.plot?.destroy();
    this.plot = this.groups.length ? this.create() : undefined;
  }

  resize(width: number): void {
    this.plot?.setSize({ width: Math.max(160, width), height: HEIGHT });
  }

  private create(): uPlot {
    const axis = themedAxis();
    const band = this.def.band;
    const plot = new uPlot(
      {
        width: Math.max(160, this.plotBox.clientWidth || 360),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        scales: { x: { time: false }, y: { range: (_u, min, max) => (min === null || max === null || !Number.isFinite(min) ? [0, 1] : this.def.counts ? [0, Math.max(1, max * 1.15)] : min === max ? [min - 0.5, max + 0.5] : uPlot.rangeNum(min, max, 0.1, true)) } },
        series: [
          { label: 'step' },
          ...this.def.series.map((s): uPlot.Series => ({
            label: s.label,
            stroke: s.edge ? 'transparent' : colour(s.colour),
            width: s.edge ? 0 : 1.5,
            points: { show: !s.edge },
          })),
        ],
        bands: band ? [{ series: [band[0] + 1, band[1] + 1], fill: withAlpha(colour(this.def.series[band[0]]!.colour), 0.18) }] : [],
        axes: [{ ...axis, incrs: STEP_INCRS }, { ...axis, size: 56 }],
      },
      this.data,
      this.plotBox,
    );
    plot.over.addEventListener('click', () => {
      const idx = plot.cursor.idx;
      const g = idx === null || idx === undefined ? undefined : this.groups[idx];
      if (g) this.onPick(g.key);
    });
    return plot;
  }

  destroy(): void {
    this.plot?.destroy();
    this.root.remove();
  }
}

const finite = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);
