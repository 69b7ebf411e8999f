/**
 * Which chart a metric goes to. Trainers name the same quantity differently (TRL, HF Trainer,
 * verl, EasyR1); each chart takes every spelling. Metrics not listed here are not charted.
 */
export interface ChartSlot {
  key: string;
  title: string;
  /** Charts sort by this, then by first appearance (reward functions). */
  order: number;
}

const FIXED: { slot: ChartSlot; names: string[] }[] = [
  { slot: { key: 'reward', title: 'reward (total)', order: 0 }, names: ['reward', 'reward/mean', 'critic/score/mean', 'critic/rewards/mean'] },
  { slot: { key: 'reward_std', title: 'reward_std', order: 2 }, names: ['reward_std', 'reward/std', 'critic/score/std'] },
  { slot: { key: 'kl', title: 'kl', order: 3 }, names: ['kl', 'objective/kl', 'actor/kl_loss'] },
  { slot: { key: 'completion_length', title: 'completion_length', order: 4 }, names: ['completion_length', 'completions/mean_length', 'response_length/mean'] },
  { slot: { key: 'loss', title: 'loss', order: 5 }, names: ['loss', 'actor/pg_loss'] },
  { slot: { key: 'learning_rate', title: 'learning rate', order: 6 }, names: ['learning_rate', 'actor/lr', 'lr'] },
];

const BY_NAME = new Map(FIXED.flatMap((f) => f.names.map((n) => [n, f.slot] as const)));

/** `rewards/accuracy_reward` or `rewards/accuracy_reward/mean` -> one chart per reward function. */
const REWARD_FN = /^rewards\/([^/]+)(?:\/mean)?$/;

export function chartSlot(name: string): ChartSlot | undefined {
  const fixed = BY_NAME.get(name);
  if (fixed) return fixed;
  const m = REWARD_FN.exec(name);
  if (m) return { key: `reward:${m[1]}`, title: `reward: ${m[1]}`, order: 1 };
  return undefined;
}
