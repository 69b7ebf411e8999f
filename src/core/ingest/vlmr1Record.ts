/**
 * One VLM-R1 / R1-V debug-log block → a canonical record (without step/group/index, which
 * vlmr1Steps.ts assigns). Upstream blocks give their fields exactly as written; the seed
 * spelling (`Image Path:`, `Problem:`, `Completion:`, `Possible Answers:`, `Golden: … Predicted:`)
 * is read as before. (docs/formats.md, "VLM-R1 debug log")
 */
import type { RolloutRecord } from '../schema/record';
import type { SourceLocation } from './types';
import { listOf, type FormName, type Key, type VlmHeader } from './vlmr1Fields';
import type { StepInput } from './vlmr1Steps';

/** How a block's parts were found: see meta.split_write in docs/formats.md. */
export type SplitWrite = 'rejoined' | 'ambiguous' | 'incomplete';

export interface BlockFields {
  header: VlmHeader;
  loc: SourceLocation;
  /** Field values in the order they appear, first occurrence of each key kept. */
  fields: Map<Key, string>;
  form: FormName | 'seed';
  split?: SplitWrite;
}

/** `<log>_repetition.txt` / `<log>_cosine.txt` (grpo_jsonl.py) hold those rewards under an "Accuracy reward" header. */
function rewardName(header: VlmHeader, file: string): string {
  const m = /_(repetition|cosine)\.txt$/.exec(file);
  return m ? m[1]! : header.name;
}

/** The record, or the reason the block is bad. */
export function blockRecord(b: BlockFields): StepInput | { bad: string } {
  const h = b.header;
  const get = (k: Key): string | undefined => b.fields.get(k);
  const content = get('content');
  if (content === undefined) {
    const why = b.split === 'incomplete' ? ' (its other writes never reached the file)' : '';
    return { bad: `block has no Content: / Completion: field${why}` };
  }
  let value = h.value;
  const glmReward = get('reward');
  if (value === undefined && glmReward !== undefined) value = Number(glmReward.trim());
  if (value !== undefined && !Number.isFinite(value)) return { bad: `reward in the block is not a finite number: ${JSON.stringify(glmReward ?? h.raw)}` };

  const rec: RolloutRecord = { v: 1, completion: content };
  const problem = get('problem');
  const imageText = get('image_path');
  const images = imageText === undefined ? undefined : listOf(imageText);
  if (problem !== undefined || (images && images.length)) {
    rec.prompt = {};
    if (problem !== undefined) rec.prompt.text = problem;
    if (images && images.length) rec.prompt.images = images;
  }
  const solution = get('solution');
  if (solution !== undefined) rec.solution = solution;
  const possible = get('possible_answers');
  if (possible !== undefined) rec.possible_answers = listOf(possible);
  if (value !== undefined) {
    // Names come from the file: a record keyed by them must not reach Object.prototype.
    rec.rewards = Object.create(null) as Record<string, number>;
    rec.rewards[rewardName(h, b.loc.file)] = value;
  }

  const meta: Record<string, unknown> = { timestamp: h.stamp, step_inferred: true };
  const method = get('accu_reward_method');
  if (method !== undefined) meta.accu_reward_method = method;
  const golden = get('golden');
  if (golden !== undefined) {
    const cut = golden.search(/\s+Predicted:/);
    meta.golden = (cut >= 0 ? golden.slice(0, cut) : golden).trim();
    if (cut >= 0) meta.predicted = golden.slice(cut).replace(/^\s+Predicted:\s?/, '').trim();
  }
  const predicted = get('predicted');
  if (predicted !== undefined) meta.predicted = predicted.trim();
  // glm_module.py iou_reward's extra lines.
  for (const [k, name] of [['predicted_bbox', 'predicted_bbox'], ['fail_to_recognize', 'fail_to_recognize'], ['input_size', 'input_size'], ['image_grid_thw', 'image_grid_thw']] as const) {
    const v = get(k);
    if (v !== undefined) meta[name] = v;
  }
  if (b.split) meta.split_write = b.split;
  rec.meta = meta;

  return {
    record: rec,
    loc: b.loc,
    time: h.time,
    stamp: h.stamp,
    // Blocks without a problem line take one timestamp per reward call: the call groups them.
    grouping: b.form === 'content' ? 'call' : 'problem',
    problem,
    images,
    solution: solution ?? (possible !== undefined ? `possible: ${possible}` : undefined),
    callFirstProblem: b.form === 'method' || b.form === 'problem',
  };
}
