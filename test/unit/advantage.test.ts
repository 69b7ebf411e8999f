import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareLogged, groupAdvantages, RunningStats, sampleStd } from '../../src/core/rewards/group';

const close = (a: number, b: number, eps = 1e-12): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('[1,0,0,0]: mean 0.25, sample std 0.5, advantages 0.75/0.5001 and -0.25/0.5001', () => {
  const g = groupAdvantages([1, 0, 0, 0]);
  close(g.mean, 0.25);
  close(g.std, 0.5); // sqrt((0.5625 + 3 * 0.0625) / 3); population std would be 0.4330
  assert.equal(g.zeroVariance, false);
  close(g.advantages[0]!, 0.75 / 0.5001);
  for (const a of g.advantages.slice(1)) close(a, -0.25 / 0.5001);
  close(g.advantages[0]!, 1.4997000599880024);
});

test('two completions [0.5, 1.5]: std sqrt(0.5), advantages +-0.5/(0.70710678 + 1e-4)', () => {
  const g = groupAdvantages([0.5, 1.5]);
  close(g.std, Math.SQRT1_2);
  close(g.advantages[1]!, 0.5 / (Math.SQRT1_2 + 1e-4));
  close(g.advantages[0]!, -0.5 / (Math.SQRT1_2 + 1e-4));
});

test('all-equal group: zero variance, every advantage 0', () => {
  const g = groupAdvantages([2.5, 2.5, 2.5, 2.5]);
  assert.equal(g.zeroVariance, true);
  assert.equal(g.std, 0);
  assert.deepEqual(g.advantages, [0, 0, 0, 0]);
});

test('a group of one has std 0 (not NaN) and advantage 0; an empty group is harmless', () => {
  const g = groupAdvantages([1.7]);
  assert.equal(g.std, 0);
  assert.deepEqual(g.advantages, [0]);
  assert.equal(g.zeroVariance, true);
  const e = groupAdvantages([]);
  assert.deepEqual(e.advantages, []);
  assert.equal(e.mean, 0);
});

test('compareLogged: absolute 1e-6 or relative 1e-4 tolerance; nothing logged is no mismatch', () => {
  assert.equal(compareLogged(undefined, 3).mismatch, false);
  assert.equal(compareLogged(1, 1 + 5e-7).mismatch, false);
  assert.equal(compareLogged(1, 1.001).mismatch, true);
  assert.equal(compareLogged(1000, 1000.05).mismatch, false); // 5e-5 relative
  assert.equal(compareLogged(1000, 1000.5).mismatch, true);
  assert.equal(compareLogged(0, 1e-5).mismatch, true);
});

test('RunningStats agrees with the two-pass sample std', () => {
  const xs = [2.12, 0.5, 1.62, 2.5, 0, 0.98];
  const s = new RunningStats();
  xs.forEach((x) => s.add(x));
  close(s.mean, xs.reduce((a, b) => a + b) / xs.length, 1e-12);
  close(s.std, sampleStd(xs), 1e-12);
  const one = new RunningStats();
  one.add(4);
  assert.equal(one.std, 0);
});
