import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iou, xywhToXyxy, type Box } from '../../src/core/boxes/iou';

const close = (a: number, b: number, eps = 1e-12): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('continuous IoU: half-overlapping squares give 25 / 175', () => {
  close(iou([0, 0, 10, 10], [5, 5, 15, 15], 'continuous'), 25 / 175);
});

test('identical boxes give 1 and disjoint boxes 0 in both modes', () => {
  for (const mode of ['continuous', 'pixel'] as const) {
    assert.equal(iou([3, 4, 30, 40], [3, 4, 30, 40], mode), 1);
    assert.equal(iou([0, 0, 10, 10], [20, 20, 30, 30], mode), 0);
  }
});

test('pixel (upstream VLM-R1) arithmetic: the -1/+1 cancel, so a wide overlap equals continuous', () => {
  // inter_x2 = min(9, 14) = 9, inter = (9-5+1)*(9-5+1) = 25; union uses plain areas 100 + 100 - 25.
  close(iou([0, 0, 10, 10], [5, 5, 15, 15], 'pixel'), 25 / 175);
  // Overlap of 2 px wide: (9-8+1)*(9-0+1) = 20 over 100 + 120 - 20.
  close(iou([0, 0, 10, 10], [8, 0, 20, 10], 'pixel'), 20 / 200);
  close(iou([0, 0, 10, 10], [8, 0, 20, 10], 'continuous'), 20 / 200);
});

test('pixel and continuous differ when the overlap is 1 px or less: upstream counts it as none', () => {
  // Continuous: 1 x 10 = 10 over 100 + 110 - 10 = 200 -> 0.05. Upstream: inter_x1 = 9, inter_x2 = 9, not 9 < 9.
  close(iou([0, 0, 10, 10], [9, 0, 20, 10], 'continuous'), 0.05);
  assert.equal(iou([0, 0, 10, 10], [9, 0, 20, 10], 'pixel'), 0);
});

test('continuous works on fractional coordinates (rescaled boxes)', () => {
  // inter 0.5 x 0.5 = 0.25; areas 1 and 1 -> 0.25 / 1.75
  close(iou([0, 0, 1, 1], [0.5, 0.5, 1.5, 1.5]), 0.25 / 1.75);
});

test('degenerate boxes give 0, never NaN', () => {
  const bad: Box[] = [
    [5, 5, 5, 10], // zero width
    [5, 5, 10, 5], // zero height
    [10, 10, 0, 0], // inverted on both axes (area would be positive)
    [Number.NaN, 0, 10, 10],
    [0, 0, Infinity, 10],
  ];
  for (const b of bad) {
    for (const mode of ['continuous', 'pixel'] as const) {
      assert.equal(iou(b, [0, 0, 10, 10], mode), 0, `${JSON.stringify(b)} ${mode}`);
      assert.equal(iou([0, 0, 10, 10], b, mode), 0);
      assert.equal(iou(b, b, mode), 0);
    }
  }
});

test('COCO xywh converts to xyxy', () => {
  assert.deepEqual(xywhToXyxy([58, 109, 288, 298]), [58, 109, 346, 407]);
});
