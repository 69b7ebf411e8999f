/**
 * Two checkpoints on the same questions: the paired difference of a metric and whether it is
 * noise (docs/eval.md "Paired tests"). Rows are paired by question id; ids only one side scored
 * are counted and left out. Binary metrics get the exact McNemar test, the others (VQA, pass@k,
 * letter F1) a seeded paired bootstrap.
 */
import { f1Of, headline, type MetricName, type MetricResult, type Row } from './metrics';
import { mcnemarExact, meanAt, pairedBootstrap, type Bootstrap, type Interval, type McNemar } from './stats';

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

/**
 * The headline statistic of each side over resampled indices, from arrays built once (the
 * bootstrap calls it 2 × resamples times).
 */
function resampledStat(metric: MetricName, first: Row[], second: Row[]): (idx: Int32Array, which: 0 | 1) => number {
  if (metric === 'letter-f1') {
    const cols = [first, second].map((rows) => ({ tp: Int32Array.from(rows, (r) => r.tp), fp: Int32Array.from(rows, (r) => r.fp), fn: Int32Array.from(rows, (r) => r.fn) }));
    return (idx, which) => {
      const c = cols[which]!;
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let i = 0; i < idx.length; i++) {
        const j = idx[i]!;
        tp += c.tp[j]!;
        fp += c.fp[j]!;
        fn += c.fn[j]!;
      }
      return f1Of(tp, fp, fn);
    };
  }
  const scores = [Float64Array.from(first, (r) => r.score), Float64Array.from(second, (r) => r.score)];
  return (idx, which) => meanAt(scores[which]!, idx);
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
  const boot = pairedBootstrap(n, resampledStat(a.metric, first, second), resamples);
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
