import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffChains, tokens } from '../../src/core/view/chainDiff';

/** Length of an LCS of two word lists, by the textbook DP (independent of the module's). */
function lcsLength(a: string[], b: string[]): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i]![j] = a[i - 1] === b[j - 1] ? d[i - 1]![j - 1]! + 1 : Math.max(d[i - 1]![j]!, d[i]![j - 1]!);
  return d[a.length]![b.length]!;
}
const wordsOf = (s: string) => s.split(/\s+/).filter(Boolean);
const unchangedWords = (segs: { text: string; changed: boolean }[]) => segs.filter((s) => !s.changed).flatMap((s) => wordsOf(s.text));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test('diffChains: each side joins back to its text; the unmarked words are a longest common subsequence, the same on both sides', () => {
  const r = rng(7);
  const vocab = ['the', 'cup', 'is', 'on', 'left', 'right', '<answer>', '</answer>', '[12,', '40]', 'so', 'A', 'B'];
  for (let n = 0; n < 300; n++) {
    const gen = () => Array.from({ length: Math.floor(r() * 25) }, () => vocab[Math.floor(r() * vocab.length)]).join(r() < 0.3 ? '\n' : ' ');
    const a = (r() < 0.2 ? '  ' : '') + gen();
    const b = gen() + (r() < 0.2 ? ' \n' : '');
    const d = diffChains(a, b);
    assert.equal(d.left.map((s) => s.text).join(''), a);
    assert.equal(d.right.map((s) => s.text).join(''), b);
    const ua = unchangedWords(d.left);
    const ub = unchangedWords(d.right);
    assert.deepEqual(ua, ub, 'the same common words on both sides');
    assert.equal(ua.length, lcsLength(wordsOf(a), wordsOf(b)), `an LCS for ${JSON.stringify([a, b])}`);
    assert.equal(d.approximate, false);
  }
});

test('diffChains: identical texts have nothing marked; a changed answer is marked on both sides', () => {
  const same = diffChains('<think>left</think> <answer>A</answer>', '<think>left</think> <answer>A</answer>');
  assert.ok(same.left.every((s) => !s.changed) && same.right.every((s) => !s.changed));
  const d = diffChains('the cup is on the left so A', 'the cup is on the right so B');
  assert.deepEqual(d.left.filter((s) => s.changed).map((s) => s.text.trim()), ['left', 'A']);
  assert.deepEqual(d.right.filter((s) => s.changed).map((s) => s.text.trim()), ['right', 'B']);
});

test('diffChains: past the cell budget only the common prefix and suffix stay unmarked', () => {
  const a = 'start ' + Array.from({ length: 300 }, (_, i) => `a${i}`).join(' ') + ' end';
  const b = 'start ' + Array.from({ length: 300 }, (_, i) => `b${i}`).join(' ') + ' end';
  const d = diffChains(a, b, 1000);
  assert.equal(d.approximate, true);
  assert.deepEqual(unchangedWords(d.left), ['start', 'end']);
  assert.equal(d.left.map((s) => s.text).join(''), a);
  assert.equal(tokens('').length, 0);
});
