/**
 * The lines VLM-R1 / R1-V reward functions write in DEBUG_MODE, and the field orders their
 * upstream versions use (docs/formats.md, "VLM-R1 debug log"). Each block is one
 * `with open(LOG_PATH, "a") as f:` of `f.write(f"<Key>: {value}\n")` calls after a dashed header.
 */

const HEADER = /^-{3,}\s*(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{6})\s+(.*?)\s*-{3,}\s*$/;

export interface VlmHeader {
  stamp: string;
  /** Microseconds since the start of the month named by the day field. */
  time: number;
  /** "Accuracy reward: 1.0" → accuracy; "Accuracy reward of IoU: x" → iou; "Format reward" → format. */
  name: string;
  value?: number;
  raw: string;
  /** Bytes of the header line with its newline: the first `f.write` of the block. */
  bytes: number;
}

export function parseHeader(text: string): VlmHeader | null {
  const m = HEADER.exec(text);
  if (!m) return null;
  const [d, h, mi, s, us] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const time = (((d * 24 + h) * 60 + mi) * 60 + s) * 1e6 + us;
  const label = m[6]!;
  const colon = label.lastIndexOf(':');
  const title = (colon >= 0 ? label.slice(0, colon) : label).trim();
  // "Accuracy reward", "Accuracy reward of IoU", and GLM's "IOU Accuracy reward" (no value).
  const sub = /^(?:\w+ )?(\w+) reward(?: of (\w+))?$/i.exec(title);
  const name = (sub ? (sub[2] ?? sub[1]!) : title.replace(/\W+/g, '_')).toLowerCase();
  const header: VlmHeader = { stamp: `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`, time, name, raw: label, bytes: Buffer.byteLength(text) + 1 };
  const value = colon >= 0 ? label.slice(colon + 1).trim() : '';
  if (value !== '') header.value = Number(value);
  return header;
}

export type Key =
  | 'accu_reward_method' | 'image_path' | 'problem' | 'content' | 'solution' | 'has_format'
  | 'possible_answers' | 'golden' | 'predicted' | 'predicted_bbox' | 'fail_to_recognize'
  | 'input_size' | 'image_grid_thw' | 'reward' | 'match';

const FIELD =
  /^(accu_reward_method|image[ _]path|problem|content|completion|solution|possible[ _]answers|golden|predicted bbox|predicted|has[ _]format|fail to recognize|input size|image grid thw|reward|match):\s?(.*)$/i;

/** How upstream spells each key it writes (glm_module.py for the GLM ones). */
const UPSTREAM: Partial<Record<Key, string>> = {
  accu_reward_method: 'accu_reward_method', image_path: 'image_path', problem: 'problem', content: 'Content',
  solution: 'Solution', has_format: 'Has format', predicted_bbox: 'Predicted bbox', fail_to_recognize: 'Fail to recognize',
  input_size: 'Input size', image_grid_thw: 'Image grid thw', reward: 'Reward', match: 'match',
};

/** Keys only the seed spelling writes. */
const SEED_ONLY = new Set<Key>(['possible_answers', 'golden', 'predicted']);

export interface FieldStart {
  key: Key;
  rest: string;
  /** Spelled exactly as upstream writes it. */
  upstream: boolean;
}

export function fieldStart(text: string): FieldStart | null {
  const m = FIELD.exec(text);
  if (!m) return null;
  const spelled = m[1]!;
  let key = spelled.toLowerCase().replace(/ /g, '_') as Key | 'completion';
  if (key === 'completion') key = 'content';
  return { key, rest: m[2]!, upstream: UPSTREAM[key] === spelled && !SEED_ONLY.has(key) };
}

/** Field orders of the upstream reward functions that write one block per completion. */
export type FormName = 'content' | 'problem' | 'method' | 'glm';
export const FORMS: Record<FormName, readonly Key[]> = {
  // R1-V grpo.py; VLM-R1 grpo.py, grpo_jsonl.py before 2025-02-25, grpo_rec.py / qwen_module.py before 2025-04-16: one timestamp per call.
  content: ['content', 'solution'],
  // qwen_module.py / internvl_module.py iou_reward, grpo_jsonl.py before accu_reward_method, repetition/cosine.
  problem: ['image_path', 'problem', 'content', 'solution'],
  // grpo_jsonl.py accuracy_reward since 2025-02-25.
  method: ['accu_reward_method', 'image_path', 'problem', 'content', 'solution'],
  // glm_module.py iou_reward (`<log>_iou.txt`, header "IOU Accuracy reward:" without a value).
  glm: ['image_path', 'problem', 'content', 'solution', 'predicted_bbox', 'fail_to_recognize', 'input_size', 'image_grid_thw', 'reward'],
};

/** The form a block that starts with `key` has (its header tells GLM's apart). */
export function formStartingWith(key: Key, header: VlmHeader): FormName | null {
  if (key === 'accu_reward_method') return 'method';
  if (key === 'content') return 'content';
  if (key === 'image_path') return header.value === undefined ? 'glm' : 'problem';
  return null;
}

/** A Python list repr (`['a.jpg', "b"]`) or JSON list → its strings; `None` → []; any other text → [text]. */
export function listOf(text: string): string[] {
  const t = text.trim();
  if (t === 'None' || t === '') return [];
  if (!(t.startsWith('[') && t.endsWith(']'))) return [t];
  const out: string[] = [];
  for (const m of t.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)) out.push((m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1'));
  return out;
}
