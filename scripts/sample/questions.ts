/**
 * Multiple-choice questions about a scene (A–D), answered from the objects' true geometry, and
 * the sentence a reasoning chain uses to justify a conclusion from the boxes it names.
 */
import { OBJECT_LABELS, type Box, type ObjectLabel, type Scene } from './scene';
import type { SeededRandom } from './random';

export type QuestionKind = 'leftmost' | 'rightmost' | 'largest' | 'nearest';
export const LETTERS = ['A', 'B', 'C', 'D'] as const;
export type Letter = (typeof LETTERS)[number];

export interface Question {
  kind: QuestionKind;
  /** The object "nearest" asks about. */
  reference: ObjectLabel | null;
  text: string;
  options: ObjectLabel[];
  answer: ObjectLabel;
  letter: Letter;
}

const centre = (b: Box): [number, number] => [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
const area = (b: Box): number => (b[2] - b[0]) * (b[3] - b[1]);
const distance = (a: Box, b: Box): number => Math.hypot(centre(a)[0] - centre(b)[0], centre(a)[1] - centre(b)[1]);

function best<T>(items: readonly T[], score: (t: T) => number): T {
  let top = items[0] as T;
  for (const t of items) if (score(t) > score(top)) top = t;
  return top;
}

export function askQuestion(scene: Scene, kind: QuestionKind, rng: SeededRandom): Question {
  const objs = scene.objects;
  let reference: ObjectLabel | null = null;
  let answer: ObjectLabel;
  let text: string;
  switch (kind) {
    case 'leftmost':
      answer = best(objs, (o) => -o.box[0]).label;
      text = 'Which object is furthest to the left in the image?';
      break;
    case 'rightmost':
      answer = best(objs, (o) => o.box[2]).label;
      text = 'Which object reaches furthest to the right in the image?';
      break;
    case 'largest':
      answer = best(objs, (o) => area(o.box)).label;
      text = 'Which object covers the largest area of the image?';
      break;
    case 'nearest': {
      const ref = objs[objs.length - 1]!;
      reference = ref.label;
      answer = best(objs.filter((o) => o !== ref), (o) => -distance(o.box, ref.box)).label;
      text = `Which object is closest to the ${ref.label}?`;
      break;
    }
  }
  const inScene = objs.map((o) => o.label).filter((l) => l !== answer && l !== reference);
  const elsewhere = OBJECT_LABELS.filter((l) => l !== answer && l !== reference && !inScene.includes(l));
  const distractors = [...rng.shuffle(inScene), ...rng.shuffle(elsewhere)].slice(0, 3);
  const options = rng.shuffle([answer, ...distractors]);
  return { kind, reference, text, options, answer, letter: LETTERS[options.indexOf(answer)]! };
}

export const letterOf = (q: Question, label: ObjectLabel): Letter => LETTERS[q.options.indexOf(label)]!;

export function promptText(q: Question, boxStyle: 'seed' | 'json'): string {
  const options = q.options.map((o, i) => `${LETTERS[i]}. ${o}`).join('\n');
  const how = boxStyle === 'seed'
    ? 'First output the thinking process in <think> </think> tags, citing every object you use as [x1,y1,x2,y2 label], then output the letter of the correct option in <answer> </answer> tags.'
    : 'First output the thinking process in <think> </think> tags, locating every object you use and giving its bbox_2d coordinates in JSON format, then output the letter of the correct option in <answer> </answer> tags.';
  return `Question: ${q.text}\nOptions:\n${options}\n${how}`;
}

/**
 * The sentence that justifies `concluded` from the named boxes (which may be wrong), so a chain
 * can reason soundly from bad boxes or unsoundly from good ones.
 */
export function justify(q: Question, concluded: ObjectLabel, named: ReadonlyMap<ObjectLabel, Box>): string {
  const b = named.get(concluded);
  switch (q.kind) {
    case 'leftmost':
      return b ? `Comparing left edges, the ${concluded} starts at x=${b[0]}, further left than anything else.` : `The ${concluded} looks furthest to the left.`;
    case 'rightmost':
      return b ? `Comparing right edges, the ${concluded} ends at x=${b[2]}, the furthest right.` : `The ${concluded} seems to reach furthest right.`;
    case 'largest':
      return b ? `The ${concluded} box is ${b[2] - b[0]}x${b[3] - b[1]} pixels, the biggest of them.` : `The ${concluded} is clearly the biggest object.`;
    case 'nearest':
      return `Of the objects around the ${q.reference}, the ${concluded} is the closest one.`;
  }
}
