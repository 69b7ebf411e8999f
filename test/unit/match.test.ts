import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box, LabeledBox } from '../../src/core/boxes/iou';
import { iou } from '../../src/core/boxes/iou';
import { matchOptimal, matchSeed } from '../../src/core/boxes/match';

const lb = (label: string | null, box: Box): LabeledBox => ({ label, box });
const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test('seed rule: a same-label gold box wins even when another overlaps more', () => {
  const gold = [lb('dog', [0, 0, 10, 10]), lb('cat', [5, 5, 15, 15])];
  const [m] = matchSeed([lb('cat', [0, 0, 10, 10])], gold);
  assert.equal(m!.gold, 1);
  close(m!.iou, 25 / 175);
});

test('seed rule: an unknown label falls back to the best IoU over all gold boxes', () => {
  const gold = [lb('dog', [0, 0, 10, 10]), lb('cat', [5, 5, 15, 15])];
  assert.deepEqual(matchSeed([lb('bird', [0, 0, 10, 10])], gold), [{ gold: 0, iou: 1 }]);
  // No overlap at all: nothing matched.
  assert.deepEqual(matchSeed([lb('bird', [50, 50, 60, 60])], gold), [{ gold: null, iou: 0 }]);
  assert.deepEqual(matchSeed([lb('bird', [0, 0, 1, 1])], []), [{ gold: null, iou: 0 }]);
});

test('seed rule: a repeated gold label uses the last box with it (dict semantics)', () => {
  const gold = [lb('cat', [0, 0, 10, 10]), lb('cat', [100, 100, 110, 110])];
  assert.deepEqual(matchSeed([lb('cat', [0, 0, 10, 10])], gold), [{ gold: 1, iou: 0 }]);
});

test('scale-up rule (sameLabelFirst false) ignores labels', () => {
  const gold = [lb('dog', [0, 0, 10, 10]), lb('cat', [5, 5, 15, 15])];
  assert.deepEqual(matchSeed([lb('cat', [0, 0, 10, 10])], gold, 'continuous', { sameLabelFirst: false }), [{ gold: 0, iou: 1 }]);
});

test('optimal differs from seed: two predictions cannot share one gold box', () => {
  const pred = [lb('a', [0, 0, 10, 10]), lb('b', [0, 0, 10, 12])];
  const gold = [lb('x', [0, 0, 10, 10]), lb('y', [0, 0, 10, 20])];
  // Seed: both take gold 0 (IoU 1 and 100/120). Optimal: 1 + 120/200 = 1.6 beats 50/100 + 100/120 = 1.33.
  const seed = matchSeed(pred, gold);
  assert.deepEqual(seed.map((m) => m.gold), [0, 0]);
  close(seed[1]!.iou, 100 / 120);
  const opt = matchOptimal(pred, gold);
  assert.deepEqual(opt.map((m) => m.gold), [0, 1]);
  close(opt[0]!.iou, 1);
  close(opt[1]!.iou, 120 / 200);
});

test('optimal with more predictions than gold leaves the surplus unmatched', () => {
  const pred = [lb(null, [50, 50, 60, 60]), lb(null, [0, 0, 10, 10]), lb(null, [1, 1, 10, 10])];
  const opt = matchOptimal(pred, [lb(null, [0, 0, 10, 10])]);
  assert.deepEqual(opt, [{ gold: null, iou: 0 }, { gold: 0, iou: 1 }, { gold: null, iou: 0 }]);
  assert.deepEqual(matchOptimal([], [lb(null, [0, 0, 1, 1])]), []);
  assert.deepEqual(matchOptimal([lb(null, [0, 0, 1, 1])], []), [{ gold: null, iou: 0 }]);
});

/** Best total IoU by trying every injective assignment (small n only). */
function bruteBest(pred: LabeledBox[], gold: LabeledBox[]): number {
  let best = 0;
  const used = new Array<boolean>(gold.length).fill(false);
  const go = (i: number, sum: number): void => {
    if (i === pred.length) {
      best = Math.max(best, sum);
      return;
    }
    go(i + 1, sum); // leave pred i unassigned
    for (let j = 0; j < gold.length; j++) {
      if (used[j]) continue;
      used[j] = true;
      go(i + 1, sum + iou(pred[i]!.box, gold[j]!.box));
      used[j] = false;
    }
  };
  go(0, 0);
  return best;
}

test('optimal total equals brute force on seeded random layouts (n = m, n < m, n > m)', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const box = (): LabeledBox => {
    const x = rnd(50);
    const y = rnd(50);
    return lb(null, [x, y, x + 5 + rnd(30), y + 5 + rnd(30)]);
  };
  for (const [n, m] of [[4, 4], [3, 5], [5, 3], [6, 6]] as const) {
    for (let t = 0; t < 5; t++) {
      const pred = Array.from({ length: n }, box);
      const gold = Array.from({ length: m }, box);
      const opt = matchOptimal(pred, gold);
      const golds = opt.map((o) => o.gold).filter((g) => g !== null);
      assert.equal(new Set(golds).size, golds.length, 'one-to-one');
      const total = opt.reduce((s, o) => s + o.iou, 0);
      assert.ok(Math.abs(total - bruteBest(pred, gold)) < 1e-9, `n=${n} m=${m}: ${total} vs brute force`);
    }
  }
});
