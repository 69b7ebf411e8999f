/**
 * The statistics behind every evaluation number (docs/eval.md "Intervals and paired tests"):
 * Wilson score intervals, the exact McNemar test, a seeded paired bootstrap, and the unbiased
 * pass@k estimator. Pure functions, no I/O.
 */

/** The 97.5% quantile of the standard normal: a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

export type Interval = [number, number];

/**
 * Wilson score interval for a proportion: `successes` out of `n` (successes may be fractional,
 * a mean of scores in [0, 1] times n). n = 0 gives [0, 1]: nothing is known.
 */
export function wilson(successes: number, n: number, z = Z95): Interval {
  if (!(n > 0)) return [0, 1];
  const p = Math.min(1, Math.max(0, successes / n));
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Clamp rounding noise only: the exact interval already lies in [0, 1].
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** log(n!) exactly summed for small n, by Stirling's series beyond (error < 1e-12 relative). */
const LOG_FACT: number[] = [0];
export function logFactorial(n: number): number {
  if (n < 0 || !Number.isInteger(n)) throw new RangeError(`logFactorial(${n})`);
  if (n < 4096) {
    for (let i = LOG_FACT.length; i <= n; i++) LOG_FACT[i] = LOG_FACT[i - 1]! + Math.log(i);
    return LOG_FACT[n]!;
  }
  const x = n + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3) + 1 / (1260 * x ** 5);
}

export const logChoose = (n: number, k: number): number => logFactorial(n) - logFactorial(k) - logFactorial(n - k);

export interface McNemar {
  test: 'mcnemar-exact';
  /** Questions the first set gets right and the second wrong. */
  b: number;
  /** Questions the first set gets wrong and the second right. */
  c: number;
  /** Two-sided exact p: 2 · P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), capped at 1. */
  p_value: number;
}

/** Exact (binomial) McNemar test on the discordant pairs b and c. */
export function mcnemarExact(b: number, c: number): McNemar {
  const m = b + c;
  if (m === 0) return { test: 'mcnemar-exact', b, c, p_value: 1 };
  const lo = Math.min(b, c);
  // log-sum-exp of log C(m, i) - m log 2 over i = 0..lo: no underflow for large m.
  const terms: number[] = [];
  for (let i = 0; i <= lo; i++) terms.push(logChoose(m, i) - m * Math.LN2);
  const top = Math.max(...terms);
  const tail = Math.exp(top) * terms.reduce((s, t) => s + Math.exp(t - top), 0);
  return { test: 'mcnemar-exact', b, c, p_value: Math.min(1, 2 * tail) };
}

/** mulberry32: a small seeded generator, so a report's bootstrap is the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Bootstrap {
  test: 'paired-bootstrap';
  resamples: number;
  seed: number;
  /** Percentile 95% interval of the resampled difference (second − first). */
  ci95: Interval;
  /** Two-sided: twice the smaller share of resampled differences at or beyond 0, capped at 1. */
  p_value: number;
}

/**
 * Paired bootstrap of `stat(second) − stat(first)`: questions are resampled with replacement,
 * the same indices for both sets. `stat` receives the resampled indices (so F1-like statistics
 * that are not means work too).
 */
export function pairedBootstrap(
  n: number,
  stat: (indices: Int32Array, which: 0 | 1) => number,
  resamples = 2000,
  seed = 20251202,
): Bootstrap {
  if (n === 0) return { test: 'paired-bootstrap', resamples, seed, ci95: [0, 0], p_value: 1 };
  const rnd = seededRandom(seed);
  const deltas = new Float64Array(resamples);
  const idx = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rnd() * n);
    deltas[r] = stat(idx, 1) - stat(idx, 0);
  }
  deltas.sort();
  const q = (f: number): number => deltas[Math.min(resamples - 1, Math.max(0, Math.round(f * (resamples - 1))))]!;
  let le = 0;
  let ge = 0;
  for (const d of deltas) {
    if (d <= 0) le++;
    if (d >= 0) ge++;
  }
  return { test: 'paired-bootstrap', resamples, seed, ci95: [q(0.025), q(0.975)], p_value: Math.min(1, (2 * Math.min(le, ge)) / resamples) };
}

/** The mean of selected entries of `values` (all when `indices` is omitted). */
export function meanAt(values: ArrayLike<number>, indices?: Int32Array): number {
  const m = indices ? indices.length : values.length;
  if (!m) return 0;
  let s = 0;
  for (let i = 0; i < m; i++) s += values[indices ? indices[i]! : i]!;
  return s / m;
}

/**
 * The unbiased pass@k estimator of Chen et al. (2021): 1 − C(n−c, k) / C(n, k), the chance that
 * k of the n generations drawn without replacement hold at least one correct one. Computed as
 * 1 − ∏_{i=n−c+1..n} (1 − k/i), which never forms a large binomial. c = 0 is 0 whatever n is (the
 * reference code's early `n − c < k → 1` would give 1 for n < k); n < k with c > 0 has no
 * unbiased estimate and throws.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || k < 1 || c < 0 || c > n) {
    throw new RangeError(`pass@k needs integers 0 ≤ c ≤ n and k ≥ 1, got n=${n} c=${c} k=${k}`);
  }
  if (c === 0) return 0;
  if (n < k) throw new RangeError(`pass@${k} needs at least ${k} generations, this question has ${n}`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}
