/**
 * What the run overview knows about one training step: the numbers each chart draws. Plain
 * JSON (no NaN, no Infinity) so it crosses to the webview as is; the protocol re-exports it.
 * Rewards and totals are the index's columns (32-bit floats), as the viewer shows them.
 */

/** Mean and sample standard deviation (N − 1; 0 below two values) of `n` values. */
export interface Spread {
  n: number;
  mean: number;
  std: number;
}

/** Three quantiles (linear interpolation between order statistics, as numpy's default). */
export interface Quantiles {
  n: number;
  p10: number;
  p50: number;
  p90: number;
}

export interface StepSummary {
  step: number;
  completions: number;
  groups: number;
  /**
   * Groups the viewer flags `zero_variance` (no learning signal): ≥ 2 completions whose totals
   * are all equal, the logged totals when every member logged one (what the trainer learned
   * from), else the recomputed ones.
   */
  zeroVarianceGroups: number;
  /** Mean over groups of each group's sample std of the recomputed total (TRL logs this as `reward_std`). */
  groupStd: number;
  /** Recomputed total reward (the chosen variant), over the step's completions. */
  total: Spread;
  /** Recomputed reward per function of the variant. */
  rewards: Record<string, Spread>;
  /** What the trainer logged, over the completions that logged it: the total, and each function. */
  logged: { total: Spread | null; rewards: Record<string, Spread> };
  /** Completions whose recomputed format reward is 0 (0 when the variant has no format reward). */
  formatFailures: number;
  /** Completion length in UTF-8 bytes (as the query column `length`). */
  length: { mean: number; p90: number; max: number };
  /** IoU of each predicted box that was matched to a gold box; null when no box matched. */
  iou: Quantiles | null;
}

/** Linear-interpolation quantile of ascending `sorted` (non-empty). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  return lo === hi ? a : a + (sorted[hi]! - a) * (pos - lo);
}

/** Mean and sample std without keeping the values (Welford), with `n` exposed for JSON. */
export class SpreadAccumulator {
  n = 0;
  private m = 0;
  private m2 = 0;

  add(x: number): void {
    this.n++;
    const d = x - this.m;
    this.m += d / this.n;
    this.m2 += d * (x - this.m);
  }

  get std(): number {
    return this.n < 2 ? 0 : Math.sqrt(Math.max(0, this.m2) / (this.n - 1));
  }

  toSpread(): Spread {
    return { n: this.n, mean: this.m, std: this.std };
  }
}
