/**
 * The run overview's numbers, built incrementally: records go in as the follower delivers them
 * (a group's completions may come in different batches), each is scored once under the chosen
 * reward variant, and per-step accumulators grow. Only the steps touched since the last `take`
 * are summarised again, so following a live run costs work proportional to what was appended.
 *
 * Records are grouped exactly as the viewer groups them (`GroupKeys`, in arrival order) and a
 * group counts toward the step of its first completion, as in the viewer's list. Records with no
 * step are not charted: they are counted in `unstepped`.
 */
import type { RolloutRecord } from '../schema/record';
import { completionText } from '../schema/record';
import { GroupKeys } from '../rollouts/groups';
import { isVariantName, scoreRecord, type VariantName } from '../rewards/variants';
import { loggedTotal } from '../index/recordTerms';
import { quantileSorted, SpreadAccumulator, type StepSummary } from './stepSummary';

export interface OverviewScoreOptions {
  variant: string;
  matching: 'seed' | 'optimal';
  minPixels: number;
  maxPixels: number;
}

interface GroupState {
  step: number | null;
  totals: SpreadAccumulator;
  min: number;
  max: number;
}

class StepState {
  completions = 0;
  readonly groups: GroupState[] = [];
  readonly total = new SpreadAccumulator();
  readonly rewards = new Map<string, SpreadAccumulator>();
  readonly loggedTotal = new SpreadAccumulator();
  readonly loggedRewards = new Map<string, SpreadAccumulator>();
  formatFailures = 0;
  lengths = new Float64Array(16);
  lengthSum = 0;
  lengthMax = 0;
  ious: number[] = [];

  constructor(readonly step: number) {}

  addLength(n: number): void {
    if (this.completions > this.lengths.length) {
      const grown = new Float64Array(this.lengths.length * 2);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    this.lengths[this.completions - 1] = n;
    this.lengthSum += n;
    if (n > this.lengthMax) this.lengthMax = n;
  }

  summary(): StepSummary {
    const lengths = this.lengths.slice(0, this.completions).sort();
    const ious = Float64Array.from(this.ious).sort();
    let zero = 0;
    let stdSum = 0;
    for (const g of this.groups) {
      if (g.totals.n > 1 && g.min === g.max) zero++;
      stdSum += g.totals.std;
    }
    return {
      step: this.step,
      completions: this.completions,
      groups: this.groups.length,
      zeroVarianceGroups: zero,
      groupStd: this.groups.length ? stdSum / this.groups.length : 0,
      total: this.total.toSpread(),
      rewards: spreads(this.rewards),
      logged: { total: this.loggedTotal.n ? this.loggedTotal.toSpread() : null, rewards: spreads(this.loggedRewards) },
      formatFailures: this.formatFailures,
      length: {
        mean: this.completions ? this.lengthSum / this.completions : 0,
        p90: lengths.length ? quantileSorted(lengths, 0.9) : 0,
        max: this.lengthMax,
      },
      iou: ious.length
        ? { n: ious.length, p10: quantileSorted(ious, 0.1), p50: quantileSorted(ious, 0.5), p90: quantileSorted(ious, 0.9) }
        : null,
    };
  }
}

function spreads(m: Map<string, SpreadAccumulator>): StepSummary['rewards'] {
  // Reward names come from the file: no prototype, so `__proto__` is kept as a name.
  const out = Object.create(null) as StepSummary['rewards'];
  for (const [name, acc] of [...m].sort(([a], [b]) => a.localeCompare(b))) out[name] = acc.toSpread();
  return out;
}

function accumulator(m: Map<string, SpreadAccumulator>, name: string): SpreadAccumulator {
  let acc = m.get(name);
  if (!acc) m.set(name, (acc = new SpreadAccumulator()));
  return acc;
}

export class RunOverview {
  readonly variant: VariantName;
  /** Completions with no step (not charted). */
  unstepped = 0;
  /** Reward functions the trainer logged, in first-seen order. */
  readonly loggedNames = new Set<string>();
  private readonly keys = new GroupKeys();
  private readonly groups = new Map<string, GroupState>();
  private readonly steps = new Map<number, StepState>();
  private readonly dirty = new Set<number>();
  private readonly summaries = new Map<number, StepSummary>();

  constructor(private readonly options: OverviewScoreOptions) {
    this.variant = isVariantName(options.variant) ? options.variant : 'grounding';
  }

  /** Adds records in arrival order. */
  add(records: Iterable<RolloutRecord>): void {
    for (const rec of records) this.addOne(rec);
  }

  private addOne(rec: RolloutRecord): void {
    const key = this.keys.keyOf(rec);
    let group = this.groups.get(key);
    if (!group) {
      group = { step: rec.step ?? null, totals: new SpreadAccumulator(), min: Infinity, max: -Infinity };
      this.groups.set(key, group);
      if (group.step !== null) this.stepState(group.step).groups.push(group);
    }
    const score = scoreRecord(rec, this.variant, { minPixels: this.options.minPixels, maxPixels: this.options.maxPixels, matching: this.options.matching });
    group.totals.add(score.reward);
    group.min = Math.min(group.min, score.reward);
    group.max = Math.max(group.max, score.reward);
    if (group.step === null) {
      this.unstepped++;
      return;
    }
    const s = this.stepState(group.step);
    this.dirty.add(group.step);
    s.completions++;
    s.total.add(score.reward);
    for (const [name, value] of Object.entries(score.rewards)) accumulator(s.rewards, name).add(value!);
    if (score.rewards.format === 0) s.formatFailures++;
    const logged = loggedTotal(rec);
    if (logged !== undefined) s.loggedTotal.add(logged);
    for (const [name, value] of Object.entries(rec.rewards ?? {})) {
      this.loggedNames.add(name);
      accumulator(s.loggedRewards, name).add(value);
    }
    s.addLength(Buffer.byteLength(completionText(rec)));
    score.boxes.ious.forEach((iou, k) => {
      if (score.boxes.matched[k] !== null) s.ious.push(iou);
    });
  }

  private stepState(step: number): StepState {
    let s = this.steps.get(step);
    if (!s) this.steps.set(step, (s = new StepState(step)));
    return s;
  }

  /** Summaries of the steps changed since the last call, ascending by step. */
  take(): StepSummary[] {
    const changed = [...this.dirty].sort((a, b) => a - b).map((step) => {
      const summary = this.steps.get(step)!.summary();
      this.summaries.set(step, summary);
      return summary;
    });
    this.dirty.clear();
    return changed;
  }

  /** Every step's summary, ascending (brings the changed ones up to date first). */
  all(): StepSummary[] {
    this.take();
    return [...this.summaries.values()].sort((a, b) => a.step - b.step);
  }

  get stepCount(): number {
    return this.steps.size;
  }

  get hasChanges(): boolean {
    return this.dirty.size > 0;
  }
}
