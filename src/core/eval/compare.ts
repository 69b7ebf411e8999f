/**
 * Two checkpoints on the same questions: the paired difference of a metric and whether it is
 * noise (docs/eval.md "Paired tests"). Rows are paired by question id; ids only one side scored
 * are counted and left out. Binary metrics get the exact McNemar test, the others (VQA, pass@k,
 * letter F1) a seeded paired bootstrap.
 */
import { headline, type MetricName, type MetricResult, type Row } from './metrics';
import { mcnemarExact, pairedBootstrap, type Bootstrap, type Interval, type McNemar } from './stats';

export interface Comparison {
  metric: MetricName;
  /** Questions both sides scored. */
  n: number;
  first: number;
  second: number;
  /** second − first on the paired questions. */
  delta: number;
  /** 95% interval of the delta: the bootstrap's percentile interval (also given for McNemar). */
  delta_ci95: Interval;
  only_first: number;
  only_second: number;
  test: McNemar | Bootstrap;
  /** p < 0.05: the difference is unlikely to be noise. */
  significant: boolean;
}

export function comparePaired(a: MetricResult, b: MetricResult, resamples = 2000): Comparison {
  if (a.metric !== b.metric) throw new Error(`cannot pair ${a.metric} with ${b.metric}`);
  const byId = new Map(b.rows.map((r) => [r.id, r]));
  const first: Row[] = [];
  const second: Row[] = [];
  for (const r of a.rows) {
    const o = byId.get(r.id);
    if (!o) continue;
    first.push(r);
    second.push(o);
  }
  const n = first.length;
  const sides = [first, second] as const;
  const boot = pairedBootstrap(n, (idx, which) => headline(a.metric, sides[which], idx), resamples);
  const va = headline(a.metric, first);
  const vb = headline(b.metric, second);
  let test: McNemar | Bootstrap = boot;
  if (a.binary && b.binary && a.metric !== 'letter-f1') {
    let bc = 0;
    let cb = 0;
    for (let i = 0; i < n; i++) {
      if (first[i]!.score === 1 && second[i]!.score === 0) bc++;
      else if (first[i]!.score === 0 && second[i]!.score === 1) cb++;
    }
    test = mcnemarExact(bc, cb);
  }
  return {
    metric: a.metric,
    n,
    first: va,
    second: vb,
    delta: vb - va,
    delta_ci95: boot.ci95,
    only_first: a.rows.length - n,
    only_second: b.rows.length - n,
    test,
    significant: test.p_value < 0.05,
  };
}
