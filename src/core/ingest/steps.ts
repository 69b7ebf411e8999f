/**
 * Per-step summaries of a growing run (`grpo-studio stats --follow`): records are tallied by
 * step, and a step is summarised once a later step shows up (trainers write steps in order), or
 * when following stops. Records that arrive for a step already summarised are tallied again and
 * summarised again, marked `update`.
 */
import { RunningStats } from '../rewards/group';
import { scoreRecord, type VariantName } from '../rewards/variants';
import { GroupKeys } from '../rollouts/groups';
import type { BadLine, RolloutRecord } from '../schema/record';
import { followRollouts, type FollowOptions, type RolloutFollower } from './follow';

export interface StepSummary {
  step: number | null;
  completions: number;
  groups: number;
  /** Mean and sample std of each LOGGED reward function. */
  rewards: Record<string, { mean: number; std: number }>;
  /** The LOGGED total ("reward", else the sum of "rewards"), or null when nothing is logged. */
  reward: { mean: number; std: number } | null;
  /** Groups whose RECOMPUTED totals are all equal (no learning signal). */
  zero_variance_groups: number;
  /** Completions whose RECOMPUTED format reward is 0. */
  format_failures: number;
  /** Present when this step had been summarised before and more records came. */
  update?: true;
}

class StepAcc {
  completions = 0;
  readonly keys = new GroupKeys();
  readonly groups = new Map<string, { first: number; equal: boolean }>();
  readonly perName = new Map<string, RunningStats>();
  readonly total = new RunningStats();
  formatFailures = 0;
  constructor(readonly update: boolean) {}
}

export class StepTally {
  private readonly open = new Map<number | null, StepAcc>();
  private readonly done = new Set<number | null>();

  constructor(
    private readonly variant: VariantName,
    private readonly onStep: (s: StepSummary) => void,
  ) {}

  add(rec: RolloutRecord): void {
    const step = rec.step ?? null;
    if (step !== null) for (const t of [...this.open.keys()].filter((k): k is number => k !== null && k < step).sort((a, b) => a - b)) this.emit(t);
    let acc = this.open.get(step);
    if (!acc) this.open.set(step, (acc = new StepAcc(this.done.has(step))));
    acc.completions++;
    for (const [k, v] of Object.entries(rec.rewards ?? {})) {
      let s = acc.perName.get(k);
      if (!s) acc.perName.set(k, (s = new RunningStats()));
      s.add(v);
    }
    const logged = rec.reward ?? (rec.rewards ? Object.values(rec.rewards).reduce((a, b) => a + b, 0) : undefined);
    if (logged !== undefined) acc.total.add(logged);
    const score = scoreRecord(rec, this.variant);
    if (score.rewards.format === 0) acc.formatFailures++;
    const key = acc.keys.keyOf(rec);
    const g = acc.groups.get(key);
    if (!g) acc.groups.set(key, { first: score.reward, equal: true });
    else if (score.reward !== g.first) g.equal = false;
  }

  /** Summarises every step still open, in step order (records without a step last). */
  finish(): void {
    const keys = [...this.open.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));
    for (const k of keys) this.emit(k);
  }

  private emit(step: number | null): void {
    const acc = this.open.get(step);
    if (!acc) return;
    this.open.delete(step);
    this.done.add(step);
    const s: StepSummary = {
      step,
      completions: acc.completions,
      groups: acc.groups.size,
      rewards: Object.fromEntries([...acc.perName].map(([k, r]) => [k, { mean: r.mean, std: r.std }])),
      reward: acc.total.n ? { mean: acc.total.mean, std: acc.total.std } : null,
      zero_variance_groups: [...acc.groups.values()].filter((g) => g.equal).length,
      format_failures: acc.formatFailures,
    };
    if (acc.update) s.update = true;
    this.onStep(s);
  }
}

/** Follows `path` and summarises each step as it completes; `stop()` summarises the rest. */
export async function followSteps(
  path: string,
  opts: FollowOptions,
  variant: VariantName,
  onStep: (s: StepSummary) => void,
  onBad: (b: BadLine) => void,
  onError?: (e: unknown) => void,
): Promise<{ follower: RolloutFollower; stop(): Promise<void> }> {
  const tally = new StepTally(variant, onStep);
  const follower = await followRollouts(
    path,
    (b) => {
      for (const r of b.records) tally.add(r.record);
      for (const x of b.badLines) onBad(x);
    },
    opts,
    onError,
  );
  return {
    follower,
    async stop() {
      await follower.close();
      tally.finish();
    },
  };
}
