/**
 * GRPO group statistics: the advantage each completion got, recomputed the way TRL does
 * (sample std, like torch.std), and whether a group carried any learning signal.
 */

export interface GroupAdvantages {
  advantages: number[];
  mean: number;
  /** Sample standard deviation (divides by N − 1); 0 for a group of one. */
  std: number;
  /** All rewards equal: every advantage is 0 and the group teaches nothing. */
  zeroVariance: boolean;
}

export const ADVANTAGE_EPS = 1e-4;

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** Sample standard deviation; 0 when fewer than two values (torch.std would give NaN). */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

export function groupAdvantages(rewards: readonly number[]): GroupAdvantages {
  const m = mean(rewards);
  const std = sampleStd(rewards);
  const zeroVariance = rewards.every((r) => r === rewards[0]);
  const advantages = rewards.map((r) => (zeroVariance ? 0 : (r - m) / (std + ADVANTAGE_EPS)));
  return { advantages, mean: m, std, zeroVariance };
}

/** A logged value differs from the recomputed one beyond float noise (1e-6 absolute or 1e-4 relative). */
export function compareLogged(logged: number | undefined, recomputed: number): { mismatch: boolean } {
  if (logged === undefined) return { mismatch: false };
  const diff = Math.abs(logged - recomputed);
  return { mismatch: !(diff <= 1e-6 || diff <= 1e-4 * Math.max(Math.abs(logged), Math.abs(recomputed))) };
}

/** Mean and sample std of a stream of numbers without keeping them (Welford's update). */
export class RunningStats {
  n = 0;
  private m = 0;
  private m2 = 0;

  add(x: number): void {
    this.n++;
    const d = x - this.m;
    this.m += d / this.n;
    this.m2 += d * (x - this.m);
  }

  get mean(): number {
    return this.m;
  }

  /** Sample std (N − 1); 0 below two values. */
  get std(): number {
    return this.n < 2 ? 0 : Math.sqrt(this.m2 / (this.n - 1));
  }
}

/** What a trainer logged for one completion, beside what we recompute. */
export interface LoggedValues {
  rewards?: Record<string, number>;
  reward?: number;
  advantage?: number;
}

/**
 * Names of the logged values that disagree with the recomputed ones: each reward function we
 * also compute, then `reward` and `advantage`. One definition for the viewer and the CLI.
 */
export function loggedMismatches(
  logged: LoggedValues,
  recomputed: { rewards: Partial<Record<string, number>>; reward: number; advantage?: number },
): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(logged.rewards ?? {})) {
    const mine = Object.hasOwn(recomputed.rewards, name) ? recomputed.rewards[name] : undefined;
    if (mine !== undefined && compareLogged(value, mine).mismatch) out.push(name);
  }
  // A logged total sums the trainer's own reward functions; it is comparable with the recomputed
  // one only when the record logs every function recomputed (a verl `score` or TRL's
  // accuracy_reward/format_reward total measure something else, not a mismatch). The advantage
  // follows from the totals, so it is compared under the same condition.
  const names = Object.keys(recomputed.rewards).filter((n) => recomputed.rewards[n] !== undefined);
  if (!names.every((n) => logged.rewards !== undefined && Object.hasOwn(logged.rewards, n))) return out;
  if (compareLogged(logged.reward, recomputed.reward).mismatch) out.push('reward');
  if (recomputed.advantage !== undefined && compareLogged(logged.advantage, recomputed.advantage).mismatch) out.push('advantage');
  return out;
}
