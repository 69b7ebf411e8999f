/**
 * Fills the index's `mismatch` flag: every group's records are read back, scored under a reward
 * variant, and compared with what the trainer logged (rewards, total, group advantage) by the
 * same rule the viewer and `score` use. Runs after indexing, in the background: it reads and
 * scores every record, which the index build deliberately does not.
 */
import { groupAdvantages, loggedMismatches } from '../rewards/group';
import { scoreRecord, type ScoreOptions, type VariantName } from '../rewards/variants';
import { FLAG } from './columns';
import { RowReadError, type RolloutIndex } from './rolloutIndex';

export interface ScoreIndexOptions extends ScoreOptions {
  variant: VariantName;
  signal?: AbortSignal;
  onProgress?: (scoredRows: number) => void;
}

/** Scores groups `[0, groups.count)` as they stand now; returns the rows scored. */
export async function scoreIndex(index: RolloutIndex, opts: ScoreIndexOptions): Promise<number> {
  let scored = 0;
  const groups = index.groups.count;
  for (let g = 0; g < groups; g++) {
    if (opts.signal?.aborted) break;
    const rows = index.groupRows(g);
    let located;
    try {
      located = await index.readGroup(g);
    } catch (e) {
      if (e instanceof RowReadError) continue; // its line is bad: nothing to compare
      throw e;
    }
    const scores = located.map((l) => scoreRecord(l.record, opts.variant, opts));
    const adv = groupAdvantages(scores.map((s) => s.reward));
    rows.forEach((row, k) => {
      const s = scores[k]!;
      const bad = loggedMismatches(located[k]!.record, { rewards: s.rewards, reward: s.reward, advantage: adv.advantages[k] }).length > 0;
      index.flags.data[row] = (index.flags.data[row]! & ~FLAG.mismatch) | FLAG.scored | (bad ? FLAG.mismatch : 0);
    });
    scored += rows.length;
    if (g % 256 === 0) opts.onProgress?.(scored);
  }
  opts.onProgress?.(scored);
  return scored;
}
