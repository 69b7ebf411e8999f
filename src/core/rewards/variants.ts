/**
 * Named reward variants: which seed reward functions a run used and with which options, so a
 * researcher can recompute the rewards of a rollout file the way their trainer did.
 */
import { xywhToXyxy, type Box, type LabeledBox } from '../boxes/iou';
import { PROCESSOR_MAX_PIXELS, PROCESSOR_MIN_PIXELS } from '../boxes/resize';
import { completionText, type RolloutRecord } from '../schema/record';
import {
  accuracyReward,
  bboxReward,
  formatReward,
  imageCountReward,
  pyStrip,
  scaleUpAccuracyReward,
  seedAnswer,
  seedBoxes,
  seedLlamaAccuracyReward,
  seedLlamaFormatReward,
  upstreamIouReward,
  upstreamSolutionBox,
  type Matching,
} from './seed';

export type RewardName = 'accuracy' | 'format' | 'bbox' | 'image_count';
export type VariantName = 'grounding' | 'vsr' | 'vlmr1' | 'scaleup' | 'seed-llama';

export interface ScoreOptions {
  /** smart_resize bounds for the vlmr1 variant's rescaling; default: the processor's. */
  minPixels?: number;
  maxPixels?: number;
  /** How predicted boxes meet gold boxes in the bbox reward; default: the seed's rule. */
  matching?: Matching;
}

export interface ScoredBoxes {
  pred: LabeledBox[];
  gold: LabeledBox[];
  /** IoU each predicted box was scored at (same order as `pred`). */
  ious: number[];
  /** Index into `gold` each predicted box was scored against, null when none. */
  matched: (number | null)[];
}

export interface RecordScore {
  variant: VariantName;
  rewards: Partial<Record<RewardName, number>>;
  /** Unweighted sum of `rewards`, as the trainers add them. */
  reward: number;
  boxes: ScoredBoxes;
}

export interface RewardVariant {
  name: VariantName;
  description: string;
  rewards: readonly RewardName[];
  /** Highest total the variant can give. */
  maxReward: number;
}

export const REWARD_VARIANTS: Readonly<Record<VariantName, RewardVariant>> = {
  grounding: {
    name: 'grounding',
    description: 'accuracy (exact answer) + format 0.5 + bbox (continuous IoU, gold boxes from the solution reasoning)',
    rewards: ['accuracy', 'format', 'bbox'],
    maxReward: 2.5,
  },
  vsr: { name: 'vsr', description: 'accuracy (exact answer) + format 1.0', rewards: ['accuracy', 'format'], maxReward: 2 },
  vlmr1: {
    name: 'vlmr1',
    description: 'accuracy + format 1.0 + bbox = upstream VLM-R1 IoU (first box in <answer>, rescaled from the resized frame, pixel arithmetic)',
    rewards: ['accuracy', 'format', 'bbox'],
    maxReward: 3,
  },
  scaleup: {
    name: 'scaleup',
    description: 'accuracy (any of possible_answers, case-insensitive) + format 0.5 + bbox (best IoU over gt_boxes, COCO xywh converted)',
    rewards: ['accuracy', 'format', 'bbox'],
    maxReward: 2.5,
  },
  'seed-llama': {
    name: 'seed-llama',
    description: 'SEED-LLaMA: format (1.0 strict / 0.5 loose) + accuracy (alphanumerics only) + image_count penalty',
    rewards: ['format', 'accuracy', 'image_count'],
    maxReward: 3,
  },
};

export function isVariantName(s: string): s is VariantName {
  return Object.prototype.hasOwnProperty.call(REWARD_VARIANTS, s);
}

function goldFromBoxes(rec: RolloutRecord): LabeledBox[] {
  return (rec.gt_boxes ?? []).map((g) => ({
    label: pyStrip(g.label).toLowerCase(),
    box: g.format === 'xywh' ? xywhToXyxy(g.box) : ([...g.box] as Box),
  }));
}

/** The reference answer text: the solution, else the first possible answer; null when neither. */
function reference(rec: RolloutRecord): string | null {
  return rec.solution ?? rec.possible_answers?.[0] ?? null;
}

const NO_BOXES: ScoredBoxes = { pred: [], gold: [], ious: [], matched: [] };

export function scoreRecord(rec: RolloutRecord, variant: VariantName = 'grounding', opts: ScoreOptions = {}): RecordScore {
  const text = completionText(rec);
  const ref = reference(rec);
  const rewards: Partial<Record<RewardName, number>> = {};
  let boxes = NO_BOXES;

  if (variant === 'seed-llama') {
    rewards.format = seedLlamaFormatReward(text);
    // The seed compares with the dataset's bare answer; a tagged solution gives its answer.
    rewards.accuracy = ref === null ? 0 : seedLlamaAccuracyReward(text, /<answer>/.test(ref) ? seedAnswer(ref) : ref);
    const segments = typeof rec.completion === 'string' ? null : rec.completion;
    const textOnly = segments ? segments.map((s) => (s.type === 'text' ? s.text : '')).join('') : text;
    rewards.image_count = imageCountReward(textOnly, segments ? segments.filter((s) => s.type === 'image').length : 0);
  } else if (variant === 'scaleup') {
    rewards.accuracy = scaleUpAccuracyReward(text, rec.possible_answers ?? (rec.solution !== undefined ? [seedAnswer(rec.solution)] : []));
    rewards.format = formatReward(text, 0.5);
    // The scale-up seed reads gold boxes from the dataset (gt_boxes), never the solution.
    const gold = rec.gt_boxes ? goldFromBoxes(rec) : rec.solution !== undefined ? seedBoxes(rec.solution) : [];
    const pred = seedBoxes(text);
    const s = bboxReward(pred, gold, { matching: opts.matching ?? 'seed', sameLabelFirst: false });
    rewards.bbox = s.reward;
    boxes = { pred, gold, ious: s.matches.map((m) => m.iou), matched: s.matches.map((m) => m.gold) };
  } else {
    rewards.accuracy = ref === null ? 0 : accuracyReward(text, ref);
    rewards.format = formatReward(text, variant === 'grounding' ? 0.5 : 1);
    if (variant === 'grounding') {
      const gold = rec.solution !== undefined ? seedBoxes(rec.solution) : goldFromBoxes(rec);
      const pred = seedBoxes(text);
      const s = bboxReward(pred, gold, { matching: opts.matching ?? 'seed' });
      rewards.bbox = s.reward;
      boxes = { pred, gold, ious: s.matches.map((m) => m.iou), matched: s.matches.map((m) => m.gold) };
    } else if (variant === 'vlmr1') {
      const goldBox = (rec.solution !== undefined ? upstreamSolutionBox(rec.solution) : null) ?? goldFromBoxes(rec)[0]?.box ?? null;
      // Qwen2.5-VL answers in the resized input's pixels unless the record says otherwise.
      const resized = rec.image_size && (rec.box_frame === undefined || rec.box_frame === 'resized');
      const r = upstreamIouReward(text, goldBox, resized
        ? { imageSize: rec.image_size!, minPixels: opts.minPixels ?? PROCESSOR_MIN_PIXELS, maxPixels: opts.maxPixels ?? PROCESSOR_MAX_PIXELS }
        : null);
      rewards.bbox = r.reward;
      boxes = {
        pred: r.pred ? [{ label: null, box: r.pred }] : [],
        gold: goldBox ? [{ label: null, box: goldBox }] : [],
        ious: r.pred ? [r.reward] : [],
        matched: r.pred ? [goldBox ? 0 : null] : [],
      };
    }
  }
  const reward = Object.values(rewards).reduce((a, b) => a + b, 0);
  return { variant, rewards, reward, boxes };
}
