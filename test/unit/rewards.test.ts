import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracyReward,
  bboxReward,
  formatReward,
  imageCountReward,
  pyStrip,
  scaleUpAccuracyReward,
  seedBoxes,
  seedLlamaAccuracyReward,
  seedLlamaFormatReward,
  upstreamIouReward,
} from '../../src/core/rewards/seed';
import { REWARD_VARIANTS, scoreRecord } from '../../src/core/rewards/variants';
import type { RolloutRecord } from '../../src/core/schema/record';

const close = (a: number | undefined, b: number, eps = 1e-12): void => assert.ok(a !== undefined && Math.abs(a - b) <= eps, `${a} != ${b}`);

test('accuracy: first <answer>, stripped, dot matches newline', () => {
  assert.equal(accuracyReward('<think>x</think><answer> D </answer>', '<answer>D</answer>'), 1);
  assert.equal(accuracyReward('<answer>\nD\n</answer>', '<think>\n</think>\n<answer>D</answer>'), 1);
  assert.equal(accuracyReward('<answer>D</answer> <answer>C</answer>', '<answer>C</answer>'), 0);
  assert.equal(accuracyReward('<answer>the red\ncar</answer>', '<answer>the red\ncar</answer>'), 1);
});

test('accuracy asymmetry: tagged text keeps its case, untagged text is lowercased', () => {
  // Tagged on both sides: case matters.
  assert.equal(accuracyReward('<answer>d</answer>', '<answer>D</answer>'), 0);
  // Tagged "D" vs an untagged solution "D" (becomes "d"): the seed says wrong.
  assert.equal(accuracyReward('<answer>D</answer>', 'D'), 0);
  // Untagged completion "  D " becomes "d", equal to a tagged lowercase "d".
  assert.equal(accuracyReward('  D ', '<answer>d</answer>'), 1);
  // Both untagged: both lowercased.
  assert.equal(accuracyReward('D\n', ' d'), 1);
});

test('scale-up accuracy: lowercased and stripped, equal to any possible answer', () => {
  assert.equal(scaleUpAccuracyReward('<answer> Red Car </answer>', ['blue', 'red car']), 1);
  assert.equal(scaleUpAccuracyReward(' RED CAR ', ['Red Car']), 1);
  assert.equal(scaleUpAccuracyReward('<answer>red</answer>', ['red car']), 0);
  assert.equal(scaleUpAccuracyReward('<answer>red</answer>', []), 0);
});

test('format: <think>…</think> then <answer>…</answer> at the very start, newlines allowed', () => {
  const ok = '<think>a\nb</think>\n\n<answer>x\ny</answer>';
  assert.equal(formatReward(ok, 0.5), 0.5);
  assert.equal(formatReward(ok, 1), 1);
  assert.equal(formatReward(ok + ' trailing text is fine (re.match, not fullmatch)'), 0.5);
  assert.equal(formatReward('Sure. ' + ok), 0, 'text before <think>');
  assert.equal(formatReward(' ' + ok), 0, 'even whitespace before <think>');
  assert.equal(formatReward('<think>a</think> the answer <answer>x</answer>'), 0, 'text between the tags');
  assert.equal(formatReward('<think>a</think>'), 0);
  assert.equal(formatReward('<answer>x</answer><think>a</think>'), 0);
});

test('SEED-LLaMA format: 1.0 strict, 0.5 punctuation around the tags, 0 with a newline inside', () => {
  assert.equal(seedLlamaFormatReward('  <think>a</think> <answer>b</answer>\n'), 1);
  assert.equal(seedLlamaFormatReward('"<think>a</think><answer>b</answer>."'), 0.5);
  assert.equal(seedLlamaFormatReward('<think>a</think><answer>b</answer> ok'), 0);
  assert.equal(seedLlamaFormatReward('<think>a\nb</think><answer>b</answer>'), 0, 'no DOTALL in the seed');
  assert.equal(seedLlamaFormatReward('<think>a\rb</think><answer>b</answer>'), 1, 'Python "." matches \\r');
});

test('SEED-LLaMA accuracy: only inside <answer>, non-alphanumerics dropped', () => {
  assert.equal(seedLlamaAccuracyReward('<answer>The cat!</answer>', 'thecat'), 1);
  assert.equal(seedLlamaAccuracyReward('The cat!', 'thecat'), 0);
});

test('seed boxes: first <think> only, labels stripped+lowercased, repeated label keeps the last box', () => {
  const c = 'Sure! <think>the [1,2,3,4 Cat] and [5,6,7,8  cat ] near [9,9,20,20 big\ndog]</think><answer>[0,0,1,1 cat]</answer>';
  assert.deepEqual(seedBoxes(c), [
    { label: 'cat', box: [5, 6, 7, 8] },
    { label: 'big\ndog', box: [9, 9, 20, 20] },
  ]);
  // Without think tags the whole text counts; spaces after commas do not match the seed regex.
  assert.deepEqual(seedBoxes('[1,2,3,4 Dog] and [1, 2, 3, 4 cat]'), [{ label: 'dog', box: [1, 2, 3, 4] }]);
  assert.deepEqual(seedBoxes('<think>no boxes</think>'), []);
});

test('bbox reward: mean over predicted boxes, label first, best-IoU fallback, 0 when none', () => {
  const gold = seedBoxes('<think>[0,0,10,10 cat] [5,5,15,15 dog]</think>');
  // cat exact (1); dog [0,0,10,10] vs gold dog [5,5,15,15] = 25/175 (although it overlaps gold cat fully).
  close(bboxReward(seedBoxes('<think>[0,0,10,10 cat] [0,0,10,10 dog]</think>'), gold).reward, (1 + 25 / 175) / 2);
  // Unknown label "bird" falls back to its best IoU (gold cat, 1).
  close(bboxReward(seedBoxes('<think>[0,0,10,10 bird]</think>'), gold).reward, 1);
  assert.equal(bboxReward([], gold).reward, 0);
  assert.equal(bboxReward(seedBoxes('<think>[0,0,10,10 cat]</think>'), []).reward, 0);
});

test('upstream VLM-R1 IoU: first answer box, rescaled from the smart_resize frame, pixel IoU', () => {
  // 1000x500 -> smart_resize 1008x504 (36 and 18 multiples of 28).
  const resize = { imageSize: [1000, 500] as [number, number], minPixels: 3136, maxPixels: 12845056 };
  const r = upstreamIouReward('<think>[1,1,2,2]</think><answer>box: [0, 0, 504,252] then [9,9,9,9]</answer>', [0, 0, 500, 250], resize);
  assert.deepEqual(r.pred, [0, 0, 500, 250]);
  assert.equal(r.reward, 1);
  // Gold half as wide: inter (249-0+1)*(249-0+1) = 62500; union 125000 + 62500 - 62500.
  close(upstreamIouReward('<answer>[0,0,504,252]</answer>', [0, 0, 250, 250], resize).reward, 0.5);
  // Without resize info the box is used as written.
  close(upstreamIouReward('<answer>[0,0,504,252]</answer>', [0, 0, 504, 252], null).reward, 1);
  assert.equal(upstreamIouReward('<answer>no box</answer>', [0, 0, 1, 1], null).reward, 0);
});

test('image count: 0 none/unbalanced, 1 for one, exp(-(n-1)) beyond', () => {
  const img = '<img>' + '<img_00001>'.repeat(32) + '</img>';
  assert.equal(imageCountReward('no image'), 0);
  assert.equal(imageCountReward(`a ${img} b`), 1);
  close(imageCountReward(img + img + img), Math.exp(-2));
  assert.equal(imageCountReward(img + '<img>'), 0);
  // Pairs are found case-insensitively, tags counted case-sensitively: <IMG>…</IMG> is one image.
  assert.equal(imageCountReward('<IMG>x</IMG>'), 1);
  assert.equal(imageCountReward('', 1), 1, 'one image segment');
});

test('pyStrip uses Python whitespace (\\x1c-\\x1f, \\x85) but not U+FEFF', () => {
  assert.equal(pyStrip('\x1c\x85 a \u3000'), 'a');
  assert.equal(pyStrip('\ufeffa'), '\ufeffa');
});

const rec = (r: Partial<RolloutRecord>): RolloutRecord => ({ v: 1, completion: '', ...r });
const SOL = '<think>[58,109,346,407 motorcyclist] [0,0,100,100 car]</think> <answer>D</answer>';

test('grounding variant: accuracy + format 0.5 + bbox, max 2.5', () => {
  const s = scoreRecord(rec({ completion: '<think>the [58,109,346,407 motorcyclist]</think> <answer>D</answer>', solution: SOL }));
  assert.deepEqual(s.rewards, { accuracy: 1, format: 0.5, bbox: 1 });
  assert.equal(s.reward, 2.5);
  assert.equal(REWARD_VARIANTS.grounding.maxReward, 2.5);
  assert.deepEqual(s.boxes.ious, [1]);
  assert.deepEqual(s.boxes.matched, [0]);
  assert.equal(s.boxes.gold.length, 2);
});

test('grounding variant without a solution uses gt_boxes (COCO xywh converted) and scores accuracy 0', () => {
  const s = scoreRecord(rec({
    completion: '<think>[58,109,346,407 Motorcyclist]</think><answer>D</answer>',
    gt_boxes: [{ label: 'motorcyclist', box: [58, 109, 288, 298], format: 'xywh' }],
  }));
  assert.deepEqual(s.boxes.gold, [{ label: 'motorcyclist', box: [58, 109, 346, 407] }]);
  assert.deepEqual(s.rewards, { accuracy: 0, format: 0.5, bbox: 1 });
});

test('matching option: optimal stops two predictions sharing one gold box', () => {
  const r = rec({ completion: '<think>[0,0,10,10 a] [0,0,10,12 b]</think>', solution: '<think>[0,0,10,10 x] [0,0,10,20 y]</think>' });
  close(scoreRecord(r).rewards.bbox, (1 + 100 / 120) / 2);
  close(scoreRecord(r, 'grounding', { matching: 'optimal' }).rewards.bbox, (1 + 120 / 200) / 2);
});

test('vsr: format worth 1.0 and no bbox', () => {
  const s = scoreRecord(rec({ completion: '<think>x</think><answer>yes</answer>', solution: 'Yes' }), 'vsr');
  assert.deepEqual(s.rewards, { accuracy: 1, format: 1 });
});

test('scaleup: possible answers, best IoU over gt_boxes ignoring labels', () => {
  const s = scoreRecord(rec({
    completion: '<think>[0,0,10,10 cat]</think><answer>Tabby</answer>',
    possible_answers: ['tabby', 'cat'],
    gt_boxes: [{ label: 'dog', box: [0, 0, 10, 10] }, { label: 'cat', box: [5, 5, 15, 15] }],
  }), 'scaleup');
  assert.deepEqual(s.rewards, { accuracy: 1, format: 0.5, bbox: 1 });
});

test('vlmr1: rescales unless box_frame says abs; gold from the solution answer JSON', () => {
  const base = { completion: '<think>x</think><answer>[0,0,504,252]</answer>', solution: '<answer>[0, 0, 500, 250]</answer>', image_size: [1000, 500] as [number, number] };
  assert.deepEqual(scoreRecord(rec(base), 'vlmr1').rewards, { accuracy: 0, format: 1, bbox: 1 });
  // Taken as original pixels: [0,0,504,252] vs [0,0,500,250] -> inter (499+1)*(249+1) over 504*252.
  close(scoreRecord(rec({ ...base, box_frame: 'abs' }), 'vlmr1').rewards.bbox, 125000 / (504 * 252));
});

test('seed-llama: SEED format + alphanumeric accuracy + image count, image segments counted', () => {
  const s = scoreRecord(rec({
    completion: [{ type: 'text', text: '<think>draw</think> <answer>A cat.</answer>' }, { type: 'image', path: 'gen/0.png' }],
    solution: '<answer>a cat</answer>',
  }), 'seed-llama');
  // The image segment reads as text after </answer> ("<image:gen/0.png>"), so the format fails.
  assert.deepEqual(s.rewards, { format: 0, accuracy: 1, image_count: 1 });
});
