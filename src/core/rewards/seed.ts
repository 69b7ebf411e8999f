/**
 * The seed repositories' reward functions, reproduced on plain text (docs/rewards.md). These use
 * the seeds' own regexes on purpose, not the general chain parser: a recomputed reward must
 * equal the logged one, quirks included. Python semantics are kept where JS differs: `\s` and
 * str.strip() use Python's whitespace set, and `.` without DOTALL excludes only "\n".
 */
import { iou, type Box, type IouMode, type LabeledBox } from '../boxes/iou';
import { matchOptimal, matchSeed, type BoxMatch } from '../boxes/match';
import { smartResize } from '../boxes/resize';

/** Python's str.isspace() set (also what `\s` matches in a Python str pattern). */
const WS = '\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** Python's str.isspace() for one UTF-16 code unit (the set WS spells out). */
function pySpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || (c >= 0x1c && c <= 0x1f) || c === 0x85 || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Python's str.strip() (a scan from both ends: the equivalent regex walked every position of a long think). */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && pySpace(s.charCodeAt(a))) a++;
  while (b > a && pySpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

const THINK = /<think>([\s\S]*?)<\/think>/;
const ANSWER = /<answer>([\s\S]*?)<\/answer>/;

/**
 * The seeds' extraction: inside the first tag pair, stripped; a text without the tags is its
 * whole text stripped AND lowercased. The asymmetry (tagged text keeps its case) is the seed's.
 */
function tagOrWhole(text: string, tag: RegExp): string {
  const m = tag.exec(text);
  return m ? pyStrip(m[1]!) : pyStrip(text).toLowerCase();
}

export const seedAnswer = (text: string): string => tagOrWhole(text, ANSWER);
export const seedThink = (text: string): string => tagOrWhole(text, THINK);

/** Grounding / VSR seeds: exact string equality of the two extracted answers. */
export function accuracyReward(completion: string, solution: string): number {
  return seedAnswer(completion) === seedAnswer(solution) ? 1 : 0;
}

/**
 * Scale-up seed: the extracted answer (same asymmetric extraction) lowercased and stripped again,
 * equal to any possible answer lowercased and stripped. Unlike the grounding seed, the case of
 * a tagged answer no longer matters here.
 */
export function scaleUpAccuracyReward(completion: string, possibleAnswers: readonly string[]): number {
  const norm = (s: string): string => pyStrip(s.toLowerCase());
  const predicted = norm(seedAnswer(completion));
  return possibleAnswers.some((a) => norm(a) === predicted) ? 1 : 0;
}

// re.match(r"<think>.*?</think>\s*<answer>.*?</answer>", c, re.DOTALL): anchored at the start
// only; anything may follow </answer>.
const FORMAT = new RegExp(`^<think>[\\s\\S]*?</think>[${WS}]*<answer>[\\s\\S]*?</answer>`);

/** Grounding and scale-up seeds pay 0.5 for the format, the VSR seed (and VLM-R1) 1.0. */
export function formatReward(completion: string, score: 0.5 | 1 = 0.5): number {
  return FORMAT.test(completion) ? score : 0;
}

// SEED-LLaMA: no DOTALL, so a newline inside a tag pair fails both patterns; matched against
// the stripped completion.
const DOT = '[^\\n]';
const SEED_STRICT = new RegExp(`^[${WS}]*<think>${DOT}*?</think>[${WS}]*<answer>${DOT}*?</answer>[${WS}]*$`);
const PUNCT = `[${WS}.,;:!?"'()\\-]`;
const SEED_LOOSE = new RegExp(`^${PUNCT}*<think>${DOT}*?</think>[${WS}]*<answer>${DOT}*?</answer>${PUNCT}*$`);

/** SEED-LLaMA format: 1.0 strict, 0.5 when only punctuation surrounds the tags, else 0. */
export function seedLlamaFormatReward(completion: string): number {
  const c = pyStrip(completion);
  if (SEED_STRICT.test(c)) return 1;
  if (SEED_LOOSE.test(c)) return 0.5;
  return 0;
}

/**
 * SEED-LLaMA accuracy: the first <answer> only (no fallback to the whole text), compared after
 * dropping every character outside [a-zA-Z0-9] and lowercasing, on both sides.
 */
export function seedLlamaAccuracyReward(completion: string, answer: string): number {
  const m = ANSWER.exec(completion);
  const norm = (s: string): string => s.replace(/[^a-zA-Z0-9]/g, '').toLowerCase();
  return m && norm(m[1]!) === norm(answer) ? 1 : 0;
}

const SEED_BOX = new RegExp(`\\[(\\d+),(\\d+),(\\d+),(\\d+)[${WS}]+([^\\[\\]]+?)\\]`, 'g');

/**
 * The seeds' extract_bounding_boxes over the first <think> (or the whole text, lowercased):
 * a dict label → box, so a repeated label keeps its first position and its last box.
 */
export function seedBoxes(text: string): LabeledBox[] {
  const byLabel = new Map<string, Box>();
  for (const m of seedThink(text).matchAll(SEED_BOX)) {
    byLabel.set(pyStrip(m[5]!).toLowerCase(), [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]);
  }
  return [...byLabel].map(([label, box]) => ({ label, box }));
}

export type Matching = 'seed' | 'optimal';

export interface BoxScore {
  reward: number;
  matches: BoxMatch[];
}

/**
 * Mean over predicted boxes of the IoU each is scored at; 0 when none is predicted. The
 * grounding seed matches by label first; the scale-up seed (sameLabelFirst false) takes the best
 * IoU over all gold boxes. `optimal` swaps in a one-to-one assignment.
 */
export function bboxReward(
  pred: LabeledBox[],
  gold: LabeledBox[],
  opts: { mode?: IouMode; matching?: Matching; sameLabelFirst?: boolean } = {},
): BoxScore {
  const mode = opts.mode ?? 'continuous';
  const matches = opts.matching === 'optimal'
    ? matchOptimal(pred, gold, mode)
    : matchSeed(pred, gold, mode, { sameLabelFirst: opts.sameLabelFirst ?? true });
  const reward = matches.length ? matches.reduce((s, m) => s + m.iou, 0) / matches.length : 0;
  return { reward, matches };
}

const UPSTREAM_BOX = new RegExp(`\\[(\\d+),[${WS}]*(\\d+),[${WS}]*(\\d+),[${WS}]*(\\d+)\\]`);

/** The first `[x1, y1, x2, y2]` inside the first <answer>, as upstream VLM-R1 reads it. */
export function upstreamAnswerBox(completion: string): Box | null {
  const a = ANSWER.exec(completion);
  const m = a ? UPSTREAM_BOX.exec(pyStrip(a[1]!)) : null;
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] : null;
}

/** Upstream's gold: JSON `[x1,y1,x2,y2]` inside the LAST <answer> of the solution. */
export function upstreamSolutionBox(solution: string): Box | null {
  const all = [...solution.matchAll(/<answer>([\s\S]*?)<\/answer>/g)];
  const last = all[all.length - 1];
  if (!last) return null;
  let v: unknown;
  try {
    v = JSON.parse(pyStrip(last[1]!));
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length < 4 || !v.slice(0, 4).every((x) => typeof x === 'number')) return null;
  return [v[0], v[1], v[2], v[3]] as Box;
}

export interface ResizeInfo {
  /** Original image [width, height]. */
  imageSize: [number, number];
  minPixels: number;
  maxPixels: number;
}

/**
 * Upstream VLM-R1 IoU reward: the answer's first box, mapped from the resized model input
 * (smart_resize of the original) back to original pixels, then pixel-arithmetic IoU with the
 * gold box. Without `resize` the box is taken as already in the gold's frame. Differs from the
 * seed bbox reward in: box source (answer, not think), one box, no label, and the IoU arithmetic.
 */
export function upstreamIouReward(completion: string, gold: Box | null, resize: ResizeInfo | null): { reward: number; pred: Box | null } {
  let pred = upstreamAnswerBox(completion);
  if (!pred || !gold) return { reward: 0, pred };
  if (resize) {
    const [w, h] = resize.imageSize;
    let hBar: number;
    let wBar: number;
    try {
      [hBar, wBar] = smartResize(h, w, resize.minPixels, resize.maxPixels);
    } catch {
      return { reward: 0, pred };
    }
    pred = [(pred[0] / wBar) * w, (pred[1] / hBar) * h, (pred[2] / wBar) * w, (pred[3] / hBar) * h];
  }
  return { reward: iou(pred, gold, 'pixel'), pred };
}

const IMG_PAIR = /<img>[^\n]*?<\/img>/gi;

const countOf = (s: string, sub: string): number => s.split(sub).length - 1;

/**
 * SEED-LLaMA image-count penalty: 0 without an image or with unbalanced `<img>`/`</img>`
 * (counted case-sensitively, while pairs are found case-insensitively, as in the seed),
 * 1 for one image, exp(−(n−1)) for n. `extraImages` counts image segments of a segmented
 * completion, each a well-formed image.
 */
export function imageCountReward(text: string, extraImages = 0): number {
  const n = (text.match(IMG_PAIR)?.length ?? 0) + extraImages;
  if (n === 0 || countOf(text, '<img>') !== countOf(text, '</img>')) return 0;
  return n === 1 ? 1 : Math.exp(-(n - 1));
}
