import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxOutsideImage, detectFrame, resizedSize, toImagePixels } from '../../src/core/boxes/frames';
import { SEED_MAX_PIXELS, SEED_MIN_PIXELS, PROCESSOR_MAX_PIXELS, PROCESSOR_MIN_PIXELS } from '../../src/core/boxes/resize';
import { parseChain } from '../../src/core/chain/parse';
import type { BoxSyntax, ParsedBox } from '../../src/core/chain/types';

const closeBox = (a: readonly number[], b: readonly number[]): void => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-9, `${JSON.stringify(a)} != ${JSON.stringify(b)}`));
};

const IMG = { width: 640, height: 480 };
const SEED = { minPixels: SEED_MIN_PIXELS, maxPixels: SEED_MAX_PIXELS };

function box(coords: [number, number, number, number], syntax: BoxSyntax, id = 0): ParsedBox {
  return { id, label: 'x', coords, point: false, syntax, region: 'think', start: 0, end: 1 };
}

test('resizedSize of 640x480 with the seed limits: 480/28=17.14 -> 476, 640/28=22.86 -> 644', () => {
  assert.deepEqual(resizedSize(640, 480, SEED_MIN_PIXELS, SEED_MAX_PIXELS), { width: 644, height: 476 });
  // Processor defaults give the same here (area far below both maxima).
  assert.deepEqual(resizedSize(640, 480), { width: 644, height: 476 });
});

test('smart_resize rounds half to even: 42 -> 1.5 -> 2 -> 56, 70 -> 2.5 -> 2 -> 56, 98 -> 3.5 -> 4 -> 112', () => {
  assert.deepEqual(resizedSize(280, 42, SEED_MIN_PIXELS, SEED_MAX_PIXELS), { width: 280, height: 56 });
  assert.deepEqual(resizedSize(280, 70, SEED_MIN_PIXELS, SEED_MAX_PIXELS), { width: 280, height: 56 });
  assert.deepEqual(resizedSize(280, 98, SEED_MIN_PIXELS, SEED_MAX_PIXELS), { width: 280, height: 112 });
});

test('smart_resize max_pixels downscale: 4000x3000 with the seed max 3686400 -> 2212x1652', () => {
  // Rounded 4004x2996 = 11,995,984 > 3,686,400; beta = sqrt(12e6 / 3686400) = 1.80422;
  // 3000/beta/28 = 59.38 -> 59*28 = 1652; 4000/beta/28 = 79.18 -> 79*28 = 2212; 2212*1652 = 3,654,224 <= max.
  assert.deepEqual(resizedSize(4000, 3000, SEED_MIN_PIXELS, SEED_MAX_PIXELS), { width: 2212, height: 1652 });
  // With the processor's max (12,845,056) the rounded size is kept.
  assert.deepEqual(resizedSize(4000, 3000, PROCESSOR_MIN_PIXELS, PROCESSOR_MAX_PIXELS), { width: 4004, height: 2996 });
});

test('smart_resize min_pixels upscale: 50x30 -> 84x56, tiny 10x10 -> 56x56', () => {
  // 50x30 rounds to 56x28 = 1568 < 3136; beta = sqrt(3136/1500) = 1.4459; ceil(30*beta/28)=2 -> 56, ceil(50*beta/28)=3 -> 84.
  assert.deepEqual(resizedSize(50, 30, SEED_MIN_PIXELS, SEED_MAX_PIXELS), { width: 84, height: 56 });
  // 10x10 rounds to 0 -> clamped to 28x28 = 784 < 3136; beta = 5.6; ceil(10*5.6/28) = 2 -> 56.
  assert.deepEqual(resizedSize(10, 10, SEED_MIN_PIXELS, SEED_MAX_PIXELS), { width: 56, height: 56 });
});

test('resizedSize never throws: an image the processor refuses keeps its own size', () => {
  assert.deepEqual(resizedSize(10000, 10), { width: 10000, height: 10 }); // aspect 1000 > 200
  assert.deepEqual(resizedSize(0, 10), { width: 0, height: 10 });
});

test('toImagePixels: resized frame maps x*W/W_resized (322 in 644 -> 320 in 640, 238 in 476 -> 240 in 480)', () => {
  const resized = resizedSize(640, 480, SEED_MIN_PIXELS, SEED_MAX_PIXELS);
  closeBox(toImagePixels([322, 238, 644, 476], 'resized', IMG, resized), [320, 240, 640, 480]);
  // Without an explicit resized size the processor defaults are used (same 644x476 here).
  closeBox(toImagePixels([322, 238, 644, 476], 'resized', IMG), [320, 240, 640, 480]);
  // A downscaled image: 1106 in 2212 is the middle of a 4000-wide original.
  closeBox(toImagePixels([1106, 826, 2212, 1652], 'resized', { width: 4000, height: 3000 }, { width: 2212, height: 1652 }), [2000, 1500, 4000, 3000]);
});

test('toImagePixels: abs as is, rel1000 x*W/1000, rel1 x*W, swapped corners sorted', () => {
  assert.deepEqual(toImagePixels([58, 109, 346, 407], 'abs', IMG), [58, 109, 346, 407]);
  closeBox(toImagePixels([500, 250, 1000, 1000], 'rel1000', IMG), [320, 120, 640, 480]);
  closeBox(toImagePixels([0.5, 0.25, 1, 1], 'rel1', IMG), [320, 120, 640, 480]);
  assert.deepEqual(toImagePixels([100, 200, 10, 20], 'abs', IMG), [10, 20, 100, 200]);
  closeBox(toImagePixels([1000, 1000, 500, 250], 'rel1000', IMG), [320, 120, 640, 480]);
});

test('boxOutsideImage allows 1 px of overshoot, flags more and non-numbers', () => {
  assert.equal(boxOutsideImage([0, 0, 640, 480], IMG), false);
  assert.equal(boxOutsideImage([0, 0, 641, 481], IMG), false);
  assert.equal(boxOutsideImage([0, 0, 642, 480], IMG), true);
  assert.equal(boxOutsideImage([-2, 0, 10, 10], IMG), true);
  assert.equal(boxOutsideImage([0, 0, 10, 482], IMG), true);
  assert.equal(boxOutsideImage([NaN, 0, 10, 10], IMG), true);
});

test('detectFrame: a declared frame wins and is never ambiguous', () => {
  const d = detectFrame([box([58, 109, 346, 407], 'seed')], IMG, { ...SEED, declared: 'rel1000' });
  assert.equal(d.detected, 'rel1000');
  assert.equal(d.ambiguous, false);
  assert.deepEqual(d.candidates, ['abs', 'resized', 'rel1000']);
});

test('detectFrame: seed syntax -> abs, documented so: other fitting frames do not make it ambiguous', () => {
  // resized: 346*640/644 = 343.9, 407*480/476 = 410.4; rel1000: 407*0.48 = 195.4; rel1: 58*640 is far out.
  const d = detectFrame(parseChain('<think>[58,109,346,407 motorcyclist]</think>').boxes, IMG, SEED);
  assert.deepEqual(d, { detected: 'abs', ambiguous: false, candidates: ['abs', 'resized', 'rel1000'] });
});

test('detectFrame: bbox_2d that fits both abs and resized in different places is ambiguous', () => {
  // resized 644x476 vs 640x480: x2 = 600 maps to 596.3 and y2 = 470 to 473.9, more than 1 px apart.
  const d = detectFrame(parseChain('{"bbox_2d": [10, 10, 600, 470], "label": "bus"}').boxes, IMG, SEED);
  assert.equal(d.detected, 'resized');
  assert.equal(d.ambiguous, true);
  // The same box on an image whose resized frame equals the original (a multiple of 28) is not.
  const same = detectFrame(parseChain('{"bbox_2d": [10, 10, 600, 470], "label": "bus"}').boxes, { width: 644, height: 476 }, SEED);
  assert.equal(same.ambiguous, true, 'rel1000 still places it elsewhere');
  assert.ok(same.candidates.includes('abs'));
});

test('detectFrame: bbox_2d reaching 644 fits resized and rel1000 but not abs', () => {
  const d = detectFrame(parseChain('{"bbox_2d": [600, 400, 644, 476], "label": "cup"}').boxes, IMG, SEED);
  assert.deepEqual(d, { detected: 'resized', ambiguous: true, candidates: ['resized', 'rel1000'] });
});

test('detectFrame: Qwen-VL ref box near 1000 fits only rel1000, not ambiguous', () => {
  const d = detectFrame(parseChain('<ref>a</ref><box>(100,200),(999,1000)</box>').boxes, IMG, SEED);
  assert.deepEqual(d, { detected: 'rel1000', ambiguous: false, candidates: ['rel1000'] });
  const q2 = detectFrame(parseChain('<|box_start|>(100,200),(999,1000)<|box_end|>').boxes, IMG, SEED);
  assert.equal(q2.detected, 'rel1000');
});

test('detectFrame: coordinates within [0, 1] mean rel1 whatever the syntax', () => {
  const d = detectFrame(parseChain('[0.1, 0.2, 0.5, 0.6]').boxes, IMG, SEED);
  assert.equal(d.detected, 'rel1');
  assert.deepEqual(d.candidates, ['abs', 'resized', 'rel1000', 'rel1']);
  assert.equal(d.ambiguous, true);
  // Whole numbers 0 and 1 are a 1 px box, not the whole image.
  assert.equal(detectFrame([box([0, 0, 1, 1], 'seed')], IMG, SEED).detected, 'abs');
});

test('detectFrame: when the syntax frame does not fit but another does, it stays but is flagged', () => {
  const d = detectFrame([box([100, 100, 900, 900], 'seed')], IMG, SEED);
  assert.deepEqual(d, { detected: 'abs', ambiguous: true, candidates: ['rel1000'] });
});

test('detectFrame: mixed syntaxes follow the majority; no boxes is abs and not ambiguous', () => {
  const mixed = [box([1, 1, 2, 2], 'qwen-ref', 0), box([1, 1, 2, 2], 'seed', 1), box([3, 3, 4, 4], 'seed', 2)];
  assert.equal(detectFrame(mixed, IMG, SEED).detected, 'abs');
  assert.deepEqual(detectFrame([], IMG, SEED), { detected: 'abs', ambiguous: false, candidates: ['abs', 'resized', 'rel1000', 'rel1'] });
});
