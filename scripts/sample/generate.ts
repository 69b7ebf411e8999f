/**
 * Generates the bundled sample: street-scene PNGs and a canonical v1 rollout file of an
 * "aokvqa-bbox" GRPO run (steps 10–40, 12 groups of 4), whose completions show every case the
 * viewer must handle. Deterministic: the same bytes on every run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SEED_MAX_PIXELS, SEED_MIN_PIXELS, smartResize } from '../../src/core/boxes/resize';
import { groupAdvantages } from '../../src/core/rewards/group';
import { scoreRecord } from '../../src/core/rewards/variants';
import { recordToJSON, type RolloutRecord } from '../../src/core/schema/record';
import type { Canvas } from './canvas';
import { writeCompletion, seedBox, type CompletionPlan } from './completions';
import { askQuestion, justify, promptText, type QuestionKind } from './questions';
import { SeededRandom } from './random';
import { layoutScene, paintScene, type Box, type ObjectLabel, type Scene, type SceneSpec } from './scene';

export const SAMPLE_RUN = 'aokvqa-bbox';
export const SAMPLE_FILE = 'sample.rollouts.jsonl';

export const SCENE_SPECS: readonly SceneSpec[] = [
  { width: 640, height: 480, labels: ['car', 'pedestrian', 'traffic light', 'dog'] },
  { width: 640, height: 480, labels: ['bus', 'bicycle', 'stop sign', 'pedestrian'] },
  { width: 1000, height: 750, labels: ['truck', 'car', 'pedestrian', 'traffic light', 'dog'] },
  { width: 640, height: 480, labels: ['car', 'bicycle', 'stop sign'] },
  { width: 640, height: 480, labels: ['bus', 'car', 'dog', 'pedestrian'] },
  { width: 640, height: 480, labels: ['truck', 'bicycle', 'traffic light', 'pedestrian'] },
  { width: 640, height: 480, labels: ['car', 'stop sign', 'dog', 'bus'] },
  { width: 300, height: 200, labels: ['car', 'pedestrian', 'bicycle'] },
];

interface GroupPlan {
  step: number;
  /** Group number within the step: the record's group is "<step>/<n>". */
  n: number;
  scene: number;
  question: QuestionKind;
  /** seed: `[x1,y1,x2,y2 label]` in original pixels; json: Qwen2.5-VL bbox_2d in the resized frame. */
  style: 'seed' | 'json';
  completions: [CompletionPlan, CompletionPlan, CompletionPlan, CompletionPlan];
}

const ok = (boxes: CompletionPlan['boxes'] = 'exact'): CompletionPlan => ({ boxes, concludes: 'right' });

const GROUPS: readonly GroupPlan[] = [
  { step: 10, n: 0, scene: 0, question: 'leftmost', style: 'seed', completions: [ok(), ok('margin'), ok('wrong-label'), { ...ok(), flaw: 'text-before' }] },
  { step: 10, n: 1, scene: 1, question: 'largest', style: 'seed', completions: [ok(), { ...ok(), flaw: 'no-close-answer' }, { ...ok('margin'), flaw: 'no-tags' }, { boxes: 'margin', concludes: 'wrong' }] },
  { step: 10, n: 2, scene: 2, question: 'rightmost', style: 'json', completions: [ok(), { boxes: 'exact', concludes: 'wrong' }, { ...ok(), flaw: 'text-before' }, { ...ok(), answers: 'wrong' }] },
  // Zero variance: four different chains, identical rewards, so every advantage is 0.
  { step: 20, n: 0, scene: 3, question: 'leftmost', style: 'seed', completions: [ok(), ok(), ok(), ok()] },
  // Index 1 reasons its way to a wrong option yet answers the right letter: accuracy 1, misaligned.
  { step: 20, n: 1, scene: 4, question: 'nearest', style: 'seed', completions: [ok(), { boxes: 'exact', concludes: 'wrong', answers: 'right' }, { boxes: 'margin', concludes: 'wrong' }, ok('wrong-label')] },
  { step: 20, n: 2, scene: 7, question: 'largest', style: 'json', completions: [ok(), ok(), { boxes: 'exact', concludes: 'wrong' }, { ...ok(), flaw: 'no-tags' }] },
  { step: 30, n: 0, scene: 5, question: 'rightmost', style: 'seed', completions: [ok(), ok('margin'), { boxes: 'margin', concludes: 'right', answers: 'wrong' }, { ...ok(), flaw: 'no-close-answer' }] },
  { step: 30, n: 1, scene: 6, question: 'largest', style: 'seed', completions: [{ ...ok(), extra: 'seed-llama' }, ok('margin'), { boxes: 'wrong-label', concludes: 'wrong' }, { ...ok(), flaw: 'text-before' }] },
  { step: 30, n: 2, scene: 0, question: 'nearest', style: 'seed', completions: [ok(), { ...ok(), extra: 'interleaved' }, ok('margin'), { boxes: 'exact', concludes: 'wrong' }] },
  { step: 40, n: 0, scene: 2, question: 'nearest', style: 'json', completions: [ok(), ok(), ok(), { ...ok(), answers: 'wrong' }] },
  { step: 40, n: 1, scene: 1, question: 'leftmost', style: 'seed', completions: [ok(), ok(), ok('margin'), ok('margin')] },
  { step: 40, n: 2, scene: 4, question: 'rightmost', style: 'seed', completions: [ok(), ok('margin'), { ...ok(), flaw: 'text-before' }, ok('wrong-label')] },
];

/**
 * The one completion whose logged bbox reward is deliberately wrong, standing for a trainer's
 * logging bug: the viewer must flag logged ≠ recomputed. Its `reward` and `advantage` are the
 * true ones, so only `rewards.bbox` disagrees.
 */
export const MISLOGGED = { group: '40/1', index: 2 } as const;

export interface SampleSummary {
  /** Absolute path of the rollout file. */
  file: string;
  scenes: Scene[];
  records: RolloutRecord[];
  /** Every file written, relative to the output folder. */
  files: string[];
}

export function generateSample(outDir: string): SampleSummary {
  const files: string[] = [];
  const write = (rel: string, data: Buffer | string): void => {
    const abs = join(outDir, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, data);
    files.push(rel);
  };

  const scenes: Scene[] = [];
  const canvases: Canvas[] = [];
  SCENE_SPECS.forEach((spec, i) => {
    // One generator per scene and purpose, so editing one scene leaves the others' bytes alone.
    const scene = layoutScene(`scene-${String(i + 1).padStart(2, '0')}`, spec, new SeededRandom(1000 + i));
    const canvas = paintScene(scene, new SeededRandom(2000 + i));
    write(scene.imagePath, canvas.toPNG());
    scenes.push(scene);
    canvases.push(canvas);
  });

  const records: RolloutRecord[] = [];
  for (const g of GROUPS) {
    const scene = scenes[g.scene]!;
    const rng = new SeededRandom(5000 + g.step * 10 + g.n);
    const question = askQuestion(scene, g.question, rng);
    const [rh, rw] = smartResize(scene.height, scene.width, SEED_MIN_PIXELS, SEED_MAX_PIXELS);
    const group = `${g.step}/${g.n}`;
    const batch = g.completions.map((plan, index): RolloutRecord => {
      const generatedPrefix = `generated/step${g.step}-g${g.n}-c${index}`;
      const written = writeCompletion({ scene, question, rng, resized: g.style === 'json' ? [rw, rh] : null, generatedPrefix, wording: g.step / 10 + g.n + index }, plan, g.style);
      for (const img of written.generated) write(img.path, zoomOn(canvases[g.scene]!, scene, img.box).toPNG());
      const rec: RolloutRecord = {
        v: 1,
        run: SAMPLE_RUN,
        step: g.step,
        group,
        index,
        prompt: { text: promptText(question, g.style), images: [scene.imagePath] },
        completion: written.completion,
        solution: solutionText(scene, question),
        gt_boxes: scene.objects.map((o) => ({ label: o.label, box: [...o.box] as Box })),
        box_frame: g.style === 'json' ? 'resized' : 'abs',
        image_size: [scene.width, scene.height],
      };
      const score = scoreRecord(rec, 'grounding');
      rec.rewards = { accuracy: score.rewards.accuracy ?? 0, format: score.rewards.format ?? 0, bbox: score.rewards.bbox ?? 0 };
      rec.reward = score.reward;
      const tokens = Math.round(JSON.stringify(rec.completion).length / 3.6);
      rec.meta = { rank: (g.n + index) % 4, temperature: 1.0, top_p: 1.0, completion_tokens: tokens };
      return rec;
    });
    const { advantages } = groupAdvantages(batch.map((r) => r.reward ?? 0));
    batch.forEach((r, i) => (r.advantage = advantages[i]));
    const bugged = batch.find((r) => r.group === MISLOGGED.group && r.index === MISLOGGED.index);
    // The deliberate logging bug (see MISLOGGED): a stale IoU from another completion.
    if (bugged?.rewards) bugged.rewards.bbox = bugged.rewards.bbox! > 0.5 ? 0.3125 : 0.9375;
    records.push(...batch);
  }

  write(SAMPLE_FILE, records.map((r) => JSON.stringify(orderedJSON(r))).join('\n') + '\n');
  write('README.md', [
    '# GRPO Studio sample',
    '',
    `A small rollout file (\`${SAMPLE_FILE}\`) of an imaginary "${SAMPLE_RUN}" GRPO run: 12 groups of 4 completions over steps 10–40,`,
    'with street-scene images, boxes in the reasoning (seed `[x1,y1,x2,y2 label]` and Qwen2.5-VL JSON in the resized frame),',
    'format errors, answers that contradict their reasoning, a zero-variance group and one mis-logged bbox reward.',
    'Everything here is generated by `scripts/make-sample.ts` (`npm run sample`); it is not real model output.',
    '',
  ].join('\n'));
  return { file: join(outDir, SAMPLE_FILE), scenes, records, files };
}

/** The canonical field order of docs/rollout-schema.md, so the sample reads like a trainer's file. */
function orderedJSON(rec: RolloutRecord): Record<string, unknown> {
  const keys = ['v', 'run', 'step', 'group', 'index', 'prompt', 'completion', 'solution', 'gt_boxes', 'box_frame', 'image_size', 'rewards', 'reward', 'advantage', 'meta'];
  const json = recordToJSON(rec);
  const out: Record<string, unknown> = {};
  for (const k of keys) if (json[k] !== undefined) out[k] = json[k];
  for (const [k, v] of Object.entries(json)) if (!(k in out)) out[k] = v;
  return out;
}

function solutionText(scene: Scene, q: ReturnType<typeof askQuestion>): string {
  const boxes = new Map<ObjectLabel, Box>(scene.objects.map((o) => [o.label, o.box]));
  const parts = scene.objects.map((o) => seedBox(o.box, o.label));
  const listed = `The image shows ${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}.`;
  return `<think>${listed} ${justify(q, q.answer, boxes)} So the answer is ${q.letter}.</think> <answer>${q.letter}</answer>`;
}

/** A "generated" image: the scene around `box`, enlarged to 160×120. */
function zoomOn(canvas: Canvas, scene: Scene, box: Box): Canvas {
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  const half = Math.max(box[2] - box[0], ((box[3] - box[1]) * 4) / 3) * 0.75;
  const x1 = Math.max(0, Math.min(scene.width - 2 * half, cx - half));
  const y1 = Math.max(0, Math.min(scene.height - 1.5 * half, cy - 0.75 * half));
  return canvas.zoom(x1, y1, x1 + 2 * half, y1 + 1.5 * half, 160, 120);
}
