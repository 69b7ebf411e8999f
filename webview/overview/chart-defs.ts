/**
 * Which charts the overview draws and how each reads a step: one chart per quantity, a line per
 * series, and optionally a band between two series (mean ± std, p10–p90). Pure data, no DOM.
 */
import type { OverviewSource, OverviewStatus, StepSummary } from '../../src/protocol/overview';

export type Colour = 'blue' | 'orange' | 'green' | 'purple' | 'red' | 'yellow';

export interface SeriesDef {
  label: string;
  colour: Colour;
  value: (s: StepSummary) => number | null;
  /** Drawn only as a band edge, not as a line. */
  edge?: boolean;
  dashed?: boolean;
}

export interface ChartDef {
  key: string;
  title: string;
  series: SeriesDef[];
  /** Indices into `series` of the band's upper and lower edges. */
  band?: [number, number];
  percent?: boolean;
}

/** Mean line, a ±std band around it, and the logged mean (dashed) when the trainer logged it. */
function meanStd(key: string, title: string, colour: Colour, pick: (s: StepSummary) => { mean: number; std: number; n: number } | undefined, logged?: (s: StepSummary) => { mean: number } | null | undefined): ChartDef {
  const series: SeriesDef[] = [
    { label: 'mean', colour, value: (s) => pick(s)?.mean ?? null },
    { label: '+std', colour, edge: true, value: (s) => { const p = pick(s); return p ? p.mean + p.std : null; } },
    { label: '\u2212std', colour, edge: true, value: (s) => { const p = pick(s); return p ? p.mean - p.std : null; } },
  ];
  if (logged) series.push({ label: 'logged mean', colour: 'orange', dashed: true, value: (s) => logged(s)?.mean ?? null });
  return { key, title, series, band: [1, 2] };
}

export function chartDefs(source: OverviewSource, status: OverviewStatus): ChartDef[] {
  const logged = new Set(status.loggedNames);
  const defs: ChartDef[] = [
    meanStd('total', `reward total (${source.variant}), mean \u00b1 std`, 'blue', (s) => s.total, (s) => s.logged.total),
  ];
  for (const name of source.rewards) {
    defs.push(meanStd(`reward:${name}`, `reward: ${name}, mean \u00b1 std`, 'green', (s) => s.rewards[name], logged.has(name) ? (s) => s.logged.rewards[name] : undefined));
  }
  defs.push(
    { key: 'zero_variance', title: 'zero-variance groups', percent: true, series: [{ label: 'fraction of groups', colour: 'red', value: (s) => (s.groups ? s.zeroVarianceGroups / s.groups : null) }] },
    { key: 'group_std', title: 'reward std within groups (mean over groups)', series: [{ label: 'std', colour: 'purple', value: (s) => s.groupStd }] },
  );
  if (source.rewards.includes('format')) {
    defs.push({ key: 'format_failures', title: 'format failure rate', percent: true, series: [{ label: 'fraction of completions', colour: 'red', value: (s) => (s.completions ? s.formatFailures / s.completions : null) }] });
  }
  defs.push({
    key: 'length',
    title: 'completion length (UTF-8 bytes)',
    series: [
      { label: 'mean', colour: 'blue', value: (s) => s.length.mean },
      { label: 'p90', colour: 'purple', dashed: true, value: (s) => s.length.p90 },
    ],
  });
  if (source.rewards.includes('bbox')) {
    defs.push({
      key: 'iou',
      title: 'IoU of matched boxes, median and p10\u2013p90',
      band: [1, 2],
      series: [
        { label: 'median', colour: 'yellow', value: (s) => s.iou?.p50 ?? null },
        { label: 'p90', colour: 'yellow', edge: true, value: (s) => s.iou?.p90 ?? null },
        { label: 'p10', colour: 'yellow', edge: true, value: (s) => s.iou?.p10 ?? null },
      ],
    });
  }
  return defs;
}
