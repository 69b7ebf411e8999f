import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emaSmooth, onSharedSteps, sharedSteps } from '../../src/core/overview/compareRuns';

test('sharedSteps: the union of the runs\' steps, ascending, once each', () => {
  assert.deepEqual(sharedSteps([[{ step: 3 }, { step: 1 }], [{ step: 2 }, { step: 3 }, { step: 10 }], []]), [1, 2, 3, 10]);
  assert.deepEqual(sharedSteps([]), []);
});

test('onSharedSteps: a gap (null) where a run lacks a step or its value is not finite', () => {
  const run = [{ step: 1, v: 0.5 }, { step: 3, v: Number.NaN }, { step: 4, v: 2 }];
  assert.deepEqual(onSharedSteps([1, 2, 3, 4], run, (s) => s.v), [0.5, null, null, 2]);
});

test('emaSmooth: debiased EMA against a direct computation, gaps kept, w = 0 is the identity', () => {
  const xs = [1, null, 3, 2, null, null, 5];
  const w = 0.6;
  // Direct: over the non-null values x_1..x_k, s_k = sum_i (1-w) w^(k-i) x_i / (1 - w^k).
  const present = xs.filter((x): x is number => x !== null);
  const direct = present.map((_, k) => {
    let num = 0;
    for (let i = 0; i <= k; i++) num += (1 - w) * w ** (k - i) * present[i]!;
    return num / (1 - w ** (k + 1));
  });
  const got = emaSmooth(xs, w);
  assert.deepEqual(got.map((v) => v === null), xs.map((v) => v === null));
  const values = got.filter((v): v is number => v !== null);
  values.forEach((v, i) => assert.ok(Math.abs(v - direct[i]!) < 1e-12, `point ${i}: ${v} vs ${direct[i]}`));
  assert.equal(values[0], 1, 'the first point is the first value (debiased)');
  assert.deepEqual(emaSmooth(xs, 0), xs);
  const flat = emaSmooth([2, 2, 2, 2], 0.9);
  flat.forEach((v) => assert.ok(Math.abs(v! - 2) < 1e-12, 'a constant stays constant'));
});
