/**
 * Completions in the seeds' styles, written from a plan: which boxes the chain names (exact,
 * off by a margin, one mislabelled), what it concludes, what it answers (a contradiction when
 * the two differ), how its format breaks, and which box syntax it uses.
 */
import type { CompletionSegmentInput } from '../../src/core/schema/record';
import { justify, letterOf, type Question } from './questions';
import type { SeededRandom } from './random';
import type { Box, ObjectLabel, Scene, SceneObject } from './scene';

export type BoxQuality = 'exact' | 'margin' | 'wrong-label';
export type FormatFlaw = 'text-before' | 'no-close-answer' | 'no-tags';

export interface CompletionPlan {
  boxes: BoxQuality;
  concludes: 'right' | 'wrong';
  /** Defaults to what the reasoning concluded; set otherwise for an answer that contradicts it. */
  answers?: 'right' | 'wrong';
  flaw?: FormatFlaw;
  /** A SEED-LLaMA `<img>…</img>` code block, or a segment list with generated images. */
  extra?: 'seed-llama' | 'interleaved';
}

/** A generated image the chain shows: a zoom on `box` of the scene, to be drawn at `path`. */
export interface GeneratedImage {
  path: string;
  box: Box;
}

export interface WrittenCompletion {
  completion: string | CompletionSegmentInput[];
  generated: GeneratedImage[];
}

/** Labels a model plausibly confuses each object with. */
const CONFUSED: Record<ObjectLabel, string> = {
  car: 'truck',
  truck: 'bus',
  bus: 'truck',
  pedestrian: 'cyclist',
  bicycle: 'motorcycle',
  dog: 'cat',
  'traffic light': 'street lamp',
  'stop sign': 'traffic sign',
};

const OPENERS = [
  'Let me locate the objects in the street scene.',
  'I will find each object first.',
  'Looking at the image carefully.',
  'The picture shows a street with several objects.',
];

export const seedBox = (b: Box, label: string): string => `[${b[0]},${b[1]},${b[2]},${b[3]} ${label}]`;

interface Named {
  label: string;
  /** The true object this box stands for. */
  object: SceneObject;
  box: Box;
}

export interface ChainContext {
  scene: Scene;
  question: Question;
  rng: SeededRandom;
  /** Box coordinates are written in this frame: [width, height] of the resized model input, or null for original pixels. */
  resized: [number, number] | null;
  /** Path prefix for generated images of this completion, e.g. "generated/step30-g2-c1". */
  generatedPrefix: string;
  /** Picks the opening sentence; consecutive values differ, so no two chains of a group read the same. */
  wording: number;
}

function nameBoxes(ctx: ChainContext, plan: CompletionPlan, concluded: ObjectLabel): Named[] {
  const { scene, question, rng } = ctx;
  const keep = new Set<ObjectLabel>([question.answer, concluded, ...(question.reference ? [question.reference] : [])]);
  // Chains often skip an object that does not matter for the question.
  const droppable = scene.objects.filter((o) => !keep.has(o.label));
  const drop = droppable.length > 0 && scene.objects.length > 3 && rng.next() < 0.4 ? rng.pick(droppable) : null;
  const named = scene.objects.filter((o) => o !== drop).map((object): Named => ({ label: object.label, object, box: [...object.box] }));
  if (plan.boxes === 'margin') {
    // Off by 5–15% of the object's size on each side: close, but well short of IoU 1.
    for (const n of named) {
      const [x1, y1, x2, y2] = n.box;
      const j = (size: number): number => Math.max(1, Math.round((size * rng.int(5, 15)) / 100)) * (rng.next() < 0.5 ? -1 : 1);
      const w = x2 - x1;
      const h = y2 - y1;
      const nx1 = clamp(x1 + j(w), 0, scene.width - 2);
      const ny1 = clamp(y1 + j(h), 0, scene.height - 2);
      n.box = [nx1, ny1, clamp(x2 + j(w), nx1 + 1, scene.width), clamp(y2 + j(h), ny1 + 1, scene.height)];
    }
  } else if (plan.boxes === 'wrong-label') {
    const victims = named.filter((n) => n.label !== concluded);
    const v = victims.length ? rng.pick(victims) : named[0]!;
    v.label = CONFUSED[v.object.label];
  }
  if (ctx.resized) {
    const [rw, rh] = ctx.resized;
    const sx = rw / scene.width;
    const sy = rh / scene.height;
    for (const n of named) n.box = [Math.round(n.box[0] * sx), Math.round(n.box[1] * sy), Math.round(n.box[2] * sx), Math.round(n.box[3] * sy)];
  }
  return named;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

function listSeed(named: readonly Named[]): string {
  const parts = named.map((n) => seedBox(n.box, n.label));
  return `I can see ${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}.`;
}

function listJson(named: readonly Named[]): string {
  const rows = named.map((n) => `\t{"bbox_2d": [${n.box.join(', ')}], "label": "${n.label}"}`);
  return '```json\n[\n' + rows.join(',\n') + '\n]\n```';
}

/** The option the chain wrongly settles on: another option, preferably one in the picture. */
function wrongChoice(ctx: ChainContext): ObjectLabel {
  const q = ctx.question;
  const present = new Set(ctx.scene.objects.map((o) => o.label));
  const others = q.options.filter((o) => o !== q.answer);
  const seen = others.filter((o) => present.has(o));
  return ctx.rng.pick(seen.length ? seen : others);
}

export function writeCompletion(ctx: ChainContext, plan: CompletionPlan, style: 'seed' | 'json'): WrittenCompletion {
  const q = ctx.question;
  const wrong = wrongChoice(ctx);
  const concluded = plan.concludes === 'right' ? q.answer : wrong;
  const answered = (plan.answers ?? plan.concludes) === 'right' ? q.answer : wrong;
  const named = nameBoxes(ctx, plan, concluded);
  const byLabel = new Map<ObjectLabel, Box>();
  for (const n of named) if (n.label === n.object.label) byLabel.set(n.object.label, n.box);
  const opener = OPENERS[ctx.wording % OPENERS.length]!;
  const reason = `${justify(q, concluded, byLabel)} So the answer is ${letterOf(q, concluded)}.`;
  const letter = letterOf(q, answered);

  if (plan.extra === 'interleaved') return interleaved(ctx, named, concluded, opener, reason, letter);

  const boxes = style === 'seed' ? listSeed(named) : `\n${listJson(named)}\n`;
  const sketch = plan.extra === 'seed-llama' ? ` Let me sketch the layout from above: ${seedLlamaImage(ctx.rng)} ` : ' ';
  const think = `${opener} ${boxes}${sketch}${reason}`;
  let text: string;
  switch (plan.flaw) {
    case undefined:
      text = `<think>${think}</think> <answer>${letter}</answer>`;
      break;
    case 'text-before':
      text = `Sure, let me look at the image.\n<think>${think}</think> <answer>${letter}</answer>`;
      break;
    case 'no-close-answer':
      text = `<think>${think}</think> <answer>${letter}`;
      break;
    case 'no-tags':
      text = `${think} Final answer: ${letter}.`;
      break;
  }
  return { completion: text, generated: [] };
}

/** SEED-LLaMA writes an image as `<img>` + 32 codebook tokens + `</img>`. */
function seedLlamaImage(rng: SeededRandom): string {
  const codes = [12, ...Array.from({ length: 31 }, () => rng.int(0, 8191))];
  return `<img>${codes.map((c) => `<img_${String(c).padStart(5, '0')}>`).join('')}</img>`;
}

function interleaved(ctx: ChainContext, named: readonly Named[], concluded: ObjectLabel, opener: string, reason: string, letter: string): WrittenCompletion {
  const first = named.find((n) => n.object.label === concluded) ?? named[0]!;
  const second = named.find((n) => n !== first) ?? first;
  const generated: GeneratedImage[] = [first, second].map((n, i) => ({ path: `${ctx.generatedPrefix}-${i}.png`, box: n.object.box }));
  const completion: CompletionSegmentInput[] = [
    { type: 'text', text: `<think>${opener} I zoom in on the ${first.object.label} first: ` },
    { type: 'image', path: generated[0]!.path },
    { type: 'text', text: ` The zoomed view shows it at ${seedBox(first.box, first.label)}. Next, the ${second.object.label}: ` },
    { type: 'image', path: generated[1]!.path },
    { type: 'text', text: ` It sits at ${seedBox(second.box, second.label)}. ${reason}</think> <answer>${letter}</answer>` },
  ];
  return { completion, generated };
}
