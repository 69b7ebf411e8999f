/**
 * Scoring in the index: each record's rewards recomputed under a reward variant (`scoreRow`, the
 * record in hand), then each group's advantages, mismatch flags and summary from the columns
 * (`settleGroup`). The viewer scores as records arrive; `scoreIndex` reads a scanned file's
 * bodies back and does the same, so the viewer, `query`, `stats` and the bench agree by
 * construction: one rule, one place.
 */
import { compareLogged, groupAdvantages, loggedMismatches } from '../rewards/group';
import { scoreRecord, type RecordScore, type ScoreOptions, type VariantName } from '../rewards/variants';
import type { RolloutRecord } from '../schema/record';
import { FLAG } from './columns';
import { forEachRecord } from './bodyScan';
import { VERDICT_CODE, type RolloutIndex } from './rolloutIndex';

/** Bits of a group's `flags` summary, in the order the viewer lists them. */
export const GROUP_FLAG_BITS = { zero_variance: 1, format_failure: 2, reward_mismatch: 4, bad_boxes: 8, misaligned: 16 } as const;

export interface RowScoreOptions extends ScoreOptions {
  variant: VariantName;
}

/** Scores one record into row `row`: recomputed rewards and total, box and logged-value bits. Returns the full score (boxes included). */
export function scoreRow(index: RolloutIndex, row: number, rec: RolloutRecord, opts: RowScoreOptions): RecordScore {
  const s = scoreRecord(rec, opts.variant, opts);
  index.setScore(row, s);
  let f = index.flags.data[row]! & ~(FLAG.badBoxes | FLAG.partOff | FLAG.loggedAll | FLAG.mismatch);
  if (outsideImage(rec, s)) f |= FLAG.badBoxes;
  if (loggedMismatches(rec, { rewards: s.rewards, reward: s.reward }).length > 0) f |= FLAG.partOff;
  if (logsEveryFunction(rec, s)) f |= FLAG.loggedAll;
  index.flags.data[row] = f;
  index.groups.notePrompt(index.group.data[row]!, row, rec.prompt);
  return s;
}

/** The record logs every function recomputed: its total and advantage compare with ours (loggedMismatches' rule). */
function logsEveryFunction(rec: RolloutRecord, s: RecordScore): boolean {
  return Object.keys(s.rewards).every((n) => s.rewards[n as keyof RecordScore['rewards']] === undefined || (rec.rewards !== undefined && Object.hasOwn(rec.rewards, n)));
}

function outsideImage(rec: RolloutRecord, s: RecordScore): boolean {
  const size = rec.image_size;
  if (!size) return false;
  return s.boxes.pred.some(({ box: [x1, y1, x2, y2] }) => x1 < 0 || y1 < 0 || x2 > size[0] || y2 > size[1]);
}

/**
 * Group `g` from its members' columns: recomputed advantages, each member's mismatch bit, and the
 * group's summary (spread of the totals zero variance looks at, flags). Members must be scored.
 */
export function settleGroup(index: RolloutIndex, g: number): void {
  const rows = index.groupRows(g);
  const gt = index.groups;
  if (rows.length === 0) {
    gt.flags.data[g] = 0;
    gt.lo.data[g] = gt.hi.data[g] = gt.mean.data[g] = NaN;
    return;
  }
  const scored = Array.from(rows, (r) => index.scoredTotal.data[r]!);
  const adv = groupAdvantages(scored);
  const flags = index.flags.data;
  const format = index.scored.get('format')?.data;
  let bits = 0;
  let allLogged = true;
  rows.forEach((r, k) => {
    const a = adv.advantages[k]!;
    index.scoredAdvantage.data[r] = a;
    const logged = index.advantage.data[r]!;
    const advOff = (flags[r]! & FLAG.loggedAll) !== 0 && compareLogged(Number.isNaN(logged) ? undefined : logged, a).mismatch;
    const off = (flags[r]! & FLAG.partOff) !== 0 || advOff;
    flags[r] = off ? flags[r]! | FLAG.mismatch : flags[r]! & ~FLAG.mismatch;
    if (off) bits |= GROUP_FLAG_BITS.reward_mismatch;
    if (flags[r]! & FLAG.badBoxes) bits |= GROUP_FLAG_BITS.bad_boxes;
    if (format && format[r] === 0) bits |= GROUP_FLAG_BITS.format_failure;
    if (index.verdict.get(r) === VERDICT_CODE.misaligned) bits |= GROUP_FLAG_BITS.misaligned;
    if (Number.isNaN(index.total.data[r]!)) allLogged = false;
  });
  // What the trainer learned from: its logged totals when every member has one (a verl or TRL
  // run whose reward functions we do not recompute), else the recomputed ones.
  if (rows.length > 1 && (allLogged ? gt.zeroVariance(g) : adv.zeroVariance)) bits |= GROUP_FLAG_BITS.zero_variance;
  gt.flags.data[g] = bits;
  const totals = allLogged ? Array.from(rows, (r) => index.total.data[r]!) : scored;
  let lo = Infinity;
  let hi = -Infinity;
  let sum = 0;
  for (const t of totals) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
    sum += t;
  }
  gt.lo.data[g] = lo;
  gt.hi.data[g] = hi;
  gt.mean.data[g] = sum / totals.length;
}

export interface ScoreIndexOptions extends RowScoreOptions {
  signal?: AbortSignal;
  onProgress?: (scoredRows: number) => void;
}

/** Scores every row of a scanned index by reading the bodies back, then settles every group; returns the rows scored. */
export async function scoreIndex(index: RolloutIndex, opts: ScoreIndexOptions): Promise<number> {
  let scored = 0;
  const n = index.count;
  await forEachRecord(index, n, (row, { record }) => {
    scoreRow(index, row, record, opts);
    if (++scored % 4096 === 0) opts.onProgress?.(scored);
  }, { signal: opts.signal });
  for (let g = 0; g < index.groups.count; g++) settleGroup(index, g);
  opts.onProgress?.(scored);
  return scored;
}
