/**
 * One prompt's timeline: the groups of a view that ask the same prompt as a given group
 * (samePrompt.ts), in step order, each summarised from its members read back and rescored under
 * the view's reward variant (the same scores the group view shows): the spread of the totals,
 * each reward's mean, the mean completion length, the mean IoU of the matched boxes (variants
 * with a bbox reward), the zero-variance flag and the judge's verdicts.
 */
import { REWARD_VARIANTS, type RewardName } from '../rewards/variants';
import { VERDICT_CODE } from '../index/rolloutIndex';
import { GROUP_FLAG_BITS } from '../index/score';
import { sampleStd } from '../rewards/group';
import type { RolloutView } from './rolloutView';
import { groupPrompt, samePromptGroups, type Prompt } from './samePrompt';
import type { TimelineGroup, VerdictName } from './timelineTypes';

export type { TimelineGroup, VerdictName } from './timelineTypes';

export interface PromptTimeline {
  prompt: Prompt;
  /** The reward variant the totals were recomputed under, and its reward names. */
  variant: string;
  rewardNames: RewardName[];
  /** The variant has a bbox reward (the IoU column means something). */
  hasIou: boolean;
  groups: TimelineGroup[];
}

/** The timeline of group `group`'s prompt; null when the group has no member. */
export async function promptTimeline(view: RolloutView, group: number): Promise<PromptTimeline | null> {
  const prompt = await groupPrompt(view, group);
  if (!prompt) return null;
  const ids = await samePromptGroups(view, group);
  const groups: TimelineGroup[] = [];
  let variant = '';
  for (const g of ids) {
    const t = await timelineGroup(view, g);
    if (!t) continue;
    groups.push(t.group);
    variant = t.variant;
  }
  const v = REWARD_VARIANTS[variant as keyof typeof REWARD_VARIANTS];
  const rewardNames = v ? [...v.rewards] : [...new Set(groups.flatMap((x) => Object.keys(x.rewards) as RewardName[]))];
  return { prompt, variant, rewardNames, hasIou: rewardNames.includes('bbox'), groups };
}

/** One group's summary (its members read back and rescored). */
export async function timelineGroup(view: RolloutView, g: number): Promise<{ group: TimelineGroup; variant: string } | null> {
  const index = view.index;
  const rows = index.groupRows(g);
  if (rows.length === 0) return null;
  const { scores } = await view.membersOf(g);
  const info = view.group(g);
  const totals = scores.map((s) => s.reward);
  const sums: Partial<Record<RewardName, number>> = {};
  const counts: Partial<Record<RewardName, number>> = {};
  let iouSum = 0;
  let iouN = 0;
  const variant = scores[0]?.variant ?? '';
  const hasBbox = (REWARD_VARIANTS[variant as keyof typeof REWARD_VARIANTS]?.rewards ?? []).includes('bbox');
  for (const s of scores) {
    for (const [name, value] of Object.entries(s.rewards) as [RewardName, number | undefined][]) {
      if (value === undefined) continue;
      sums[name] = (sums[name] ?? 0) + value;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    if (!hasBbox) continue;
    s.boxes.ious.forEach((iou, k) => {
      if (s.boxes.matched[k] === null) return;
      iouSum += iou;
      iouN++;
    });
  }
  const rewards: Partial<Record<RewardName, number>> = {};
  for (const name of Object.keys(sums) as RewardName[]) rewards[name] = sums[name]! / counts[name]!;
  let length = 0;
  const verdicts: Record<VerdictName, number> = { aligned: 0, misaligned: 0, uncertain: 0, failed: 0, unjudged: 0 };
  const byCode = new Map<number, VerdictName>(Object.entries(VERDICT_CODE).map(([n, c]) => [c, n as VerdictName]));
  for (const r of rows) {
    length += index.length.data[r]!;
    verdicts[byCode.get(index.verdict.get(r)) ?? 'unjudged']++;
  }
  const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
  return {
    variant,
    group: {
      key: info.key,
      step: info.step,
      size: rows.length,
      mean,
      min: Math.min(...totals),
      max: Math.max(...totals),
      std: sampleStd(totals),
      rewards,
      length: length / rows.length,
      iou: iouN ? iouSum / iouN : null,
      zeroVariance: (index.groups.flags.data[g]! & GROUP_FLAG_BITS.zero_variance) !== 0,
      verdicts,
    },
  };
}
