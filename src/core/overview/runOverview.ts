/**
 * The Run Overview's numbers, read from the one rollout model (the RolloutView and its index, the
 * viewer's own): per step, the columns of its groups' rows (recomputed and logged rewards,
 * length) and each group's summary as the viewer shows it (zero variance is the group's
 * `zero_variance` flag: logged totals when every member logged one, else recomputed). Nothing is
 * scored here. Only the steps whose groups a settle touched are summarised again, so following a
 * live run costs work proportional to what was appended. The one number that is not a column,
 * each matched box's IoU, is kept beside the index (StepIous).
 *
 * A group counts toward the step of its first completion, as in the viewer's list. Records with
 * no step are not charted: they are counted in `unstepped`.
 */
import { FLAG } from '../index/columns';
import type { RolloutRecord } from '../schema/record';
import type { RolloutIndex } from '../index/rolloutIndex';
import { forEachRecord } from '../index/bodyScan';
import { GROUP_FLAG_BITS } from '../index/score';
import type { Column } from '../index/columns';
import { isVariantName, REWARD_VARIANTS, scoreRecord, type VariantName } from '../rewards/variants';
import { RolloutView, type ScoreOptions } from '../view/rolloutView';
import { SpreadAccumulator, quantileSorted, type StepSummary } from './stepSummary';
import { StepIous } from './stepIous';

export type OverviewScoreOptions = ScoreOptions;

const variantOf = (o: ScoreOptions): VariantName => (isVariantName(o.variant) ? o.variant : 'grounding');

export class RunOverview {
  readonly view: RolloutView;
  private index: RolloutIndex;
  /** Group ids per step (ascending), and those without a step; groups registered so far. */
  private stepGroups = new Map<number, number[]>();
  private unsteppedGroups: number[] = [];
  private known = 0;
  private readonly dirty = new Set<number>();
  private readonly summaries = new Map<number, StepSummary>();
  private readonly ious = new StepIous();
  private readonly stopScored: () => void;
  private readonly ownView: boolean;
  private earlier: AbortController | null = null;
  private added = 0;
  /** What reading earlier rows' boxes back met, if anything. */
  problem: string | null = null;

  /**
   * Over `view` (rows scored from now on bring their IoUs; `readEarlierBoxes` fetches those of
   * rows already there), or, without one, over a view of its own fed by `add` (tests, scripts).
   */
  constructor(private options: ScoreOptions, view?: RolloutView) {
    this.ownView = !view;
    this.view = view ?? new RolloutView(options);
    this.index = this.view.index;
    this.stopScored = this.view.onScored((row, _record, score) => {
      this.sync();
      this.ious.add(this.index, row, score);
    });
    this.recount();
  }

  get variant(): VariantName {
    return variantOf(this.options);
  }

  /** Reward functions the trainer logged, in first-seen order. */
  get loggedNames(): ReadonlySet<string> {
    return this.view.rewardNames;
  }

  /** Records in hand (tests, scripts; only over a view of its own): appended, settled, summarised at the next `take`. */
  add(records: Iterable<RolloutRecord>): void {
    if (!this.ownView) throw new Error('RunOverview.add: this overview reads a shared view; append to the view');
    const items = [...records].map((record) => ({ record, loc: { file: '', line: ++this.added } }));
    this.view.append(items);
    this.touched(this.view.settle().touched);
  }

  /** Groups a settle scored (new or grown): their steps are summarised at the next `take`. */
  touched(groups: Iterable<number>): void {
    if (this.sync()) return;
    this.register();
    const step = this.index.groups.step.data;
    for (const g of groups) {
      const s = step[g]!;
      if (s >= 0) this.dirty.add(s);
    }
  }

  /** Every step again (a file truncated and read again, a rescore): steps left empty disappear. */
  recount(): void {
    this.sync();
    this.register();
    this.summaries.clear();
    for (const s of this.stepGroups.keys()) this.dirty.add(s);
  }

  /** Every row is about to be scored again under `options`: their IoUs come anew through `onScored`. */
  rescoring(options: ScoreOptions): void {
    this.options = options;
    this.earlier?.abort();
    this.earlier = null;
    this.ious.clear();
  }

  /**
   * Reads back the bodies of the rows scored before this overview attached, for their box IoUs
   * (only under a variant that matches boxes); resolves true when their steps changed.
   */
  async readEarlierBoxes(): Promise<boolean> {
    const index = this.index;
    const n = index.count;
    const variant = this.variant;
    if (n === 0 || !(REWARD_VARIANTS[variant].rewards as readonly string[]).includes('bbox')) return false;
    // Only rows already scored: a scanned file's rows not scored yet bring theirs through onScored.
    const scored: number[] = [];
    for (let r = 0; r < n; r++) if (index.flags.data[r]! & FLAG.scored) scored.push(r);
    if (scored.length === 0) return false;
    this.earlier?.abort();
    const run = (this.earlier = new AbortController());
    const opts = this.options;
    try {
      await forEachRecord(index, n, (row, r) => {
        if (!run.signal.aborted) this.ious.add(index, row, scoreRecord(r.record, variant, opts));
      }, { signal: run.signal, only: scored });
    } catch (e) {
      if (!run.signal.aborted) this.problem = `cannot read the box IoUs back: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (this.earlier === run) this.earlier = null;
    if (run.signal.aborted) return false;
    for (const s of this.stepGroups.keys()) this.dirty.add(s);
    return true;
  }

  /** True while earlier rows' boxes are being read back. */
  get readingBoxes(): boolean {
    return this.earlier !== null;
  }

  /** The view started over on a new index (its only file was truncated): everything is forgotten. True when it did. */
  private sync(): boolean {
    if (this.view.index === this.index) return false;
    this.index = this.view.index;
    this.earlier?.abort();
    this.earlier = null;
    this.ious.clear();
    this.stepGroups = new Map();
    this.unsteppedGroups = [];
    this.known = 0;
    this.summaries.clear();
    this.dirty.clear();
    this.register();
    for (const s of this.stepGroups.keys()) this.dirty.add(s);
    return true;
  }

  /** Files groups created since the last look under their step (a group's step never changes). */
  private register(): void {
    const gt = this.index.groups;
    for (let g = this.known; g < gt.count; g++) {
      const step = gt.step.data[g]!;
      if (step < 0) this.unsteppedGroups.push(g);
      else {
        let list = this.stepGroups.get(step);
        if (!list) this.stepGroups.set(step, (list = []));
        list.push(g);
      }
    }
    this.known = gt.count;
  }

  /** Completions with no step (not charted). */
  get unstepped(): number {
    this.sync();
    this.register();
    const size = this.index.groups.size.data;
    let n = 0;
    for (const g of this.unsteppedGroups) n += size[g]!;
    return n;
  }

  /** Summaries of the steps changed since the last call, ascending by step (a step left empty is dropped, not sent). */
  take(): StepSummary[] {
    this.sync();
    this.register();
    const out: StepSummary[] = [];
    for (const step of [...this.dirty].sort((a, b) => a - b)) {
      const s = this.summarise(step);
      if (s.completions === 0) this.summaries.delete(step);
      else {
        this.summaries.set(step, s);
        out.push(s);
      }
    }
    this.dirty.clear();
    return out;
  }

  /** Every step's summary, ascending (brings the changed ones up to date first). */
  all(): StepSummary[] {
    this.take();
    return [...this.summaries.values()].sort((a, b) => a.step - b.step);
  }

  get hasChanges(): boolean {
    return this.dirty.size > 0 || this.view.index !== this.index || this.known !== this.index.groups.count;
  }

  /** One step from the columns of its groups' rows. */
  private summarise(step: number): StepSummary {
    const index = this.index;
    const gt = index.groups;
    const total = new SpreadAccumulator();
    const loggedTotal = new SpreadAccumulator();
    const scored = accumulators(index.scored);
    const logged = accumulators(index.rewards);
    const format = index.scored.get('format')?.data;
    const groups = (this.stepGroups.get(step) ?? []).filter((g) => gt.size.data[g]! > 0);
    const lengths = new Float64Array(groups.reduce((n, g) => n + gt.size.data[g]!, 0));
    let completions = 0;
    let zero = 0;
    let stdSum = 0;
    let formatFailures = 0;
    let lengthSum = 0;
    let lengthMax = 0;
    for (const g of groups) {
      if (gt.flags.data[g]! & GROUP_FLAG_BITS.zero_variance) zero++;
      const spread = new SpreadAccumulator();
      for (const r of index.groupRows(g)) {
        const t = index.scoredTotal.data[r]!;
        if (!Number.isNaN(t)) {
          total.add(t);
          spread.add(t);
        }
        const lt = index.total.data[r]!;
        if (!Number.isNaN(lt)) loggedTotal.add(lt);
        for (const a of scored) a.take(r);
        for (const a of logged) a.take(r);
        if (format && format[r] === 0) formatFailures++;
        const len = index.length.data[r]!;
        lengths[completions++] = len;
        lengthSum += len;
        if (len > lengthMax) lengthMax = len;
      }
      stdSum += spread.std;
    }
    const sorted = lengths.subarray(0, completions).sort();
    return {
      step,
      completions,
      groups: groups.length,
      zeroVarianceGroups: zero,
      groupStd: groups.length ? stdSum / groups.length : 0,
      total: total.toSpread(),
      rewards: spreads(scored),
      logged: { total: loggedTotal.n ? loggedTotal.toSpread() : null, rewards: spreads(logged) },
      formatFailures,
      length: { mean: completions ? lengthSum / completions : 0, p90: completions ? quantileSorted(sorted, 0.9) : 0, max: lengthMax },
      iou: this.ious.quantiles(index, step),
    };
  }

  async close(): Promise<void> {
    this.stopScored();
    this.earlier?.abort();
    if (this.ownView) await this.view.close();
  }
}

/** A spread per reward column over the rows it has a value for. */
class ColumnSpread extends SpreadAccumulator {
  constructor(readonly name: string, private readonly col: Column<Float32Array>) {
    super();
  }

  take(r: number): void {
    const v = this.col.data[r];
    if (v !== undefined && !Number.isNaN(v)) this.add(v);
  }
}

function accumulators(cols: ReadonlyMap<string, Column<Float32Array>>): ColumnSpread[] {
  return [...cols].map(([name, col]) => new ColumnSpread(name, col));
}

/** The functions with a value in the step, by name; reward names come from the file: no prototype, so `__proto__` is kept as a name. */
function spreads(acc: readonly ColumnSpread[]): StepSummary['rewards'] {
  const out = Object.create(null) as StepSummary['rewards'];
  for (const a of [...acc].sort((x, y) => x.name.localeCompare(y.name))) if (a.n > 0) out[a.name] = a.toSpread();
  return out;
}
