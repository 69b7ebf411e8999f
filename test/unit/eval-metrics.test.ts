/**
 * Every metric against an independent computation: verdicts known by construction (exam letters,
 * POPE), the official VQA script's own code and POPE's reading rule run in a real python3 child
 * process, exact-integer pass@k and McNemar in Python, Wilson against published values.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { comparePaired } from '../../src/core/eval/compare';
import { evaluate, goldLetters, predictedLetters, popeSaysYes, answerText } from '../../src/core/eval/metrics';
import { mcnemarExact, pairedBootstrap, passAtK, wilson } from '../../src/core/eval/stats';
import type { PredictionItem } from '../../src/core/eval/types';
import { processPunctuation, vqaAccuracy } from '../../src/core/eval/vqa';
import { examCases, passCases, popeCases, vqaCases } from '../fixtures/eval/cases';

const REFERENCE = join(__dirname, '../fixtures/eval/reference.py');

function reference(cases: unknown): { vqa: number[]; pope_read: string[]; pope: Record<string, number>; pass: number[]; mcnemar: number[] } {
  const r = spawnSync('python3', [REFERENCE], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const close = (a: number, b: number, what: string, eps = 1e-12): void => assert.ok(Math.abs(a - b) <= eps, `${what}: ${a} vs ${b}`);

test('exam score and letter F1: multi-letter golds in three spellings, a letter in the reasoning but not the answer', () => {
  const cases = examCases(400);
  const exam = evaluate(cases.map((c) => c.item), 'exam-score');
  assert.equal(exam.bad.length, 0);
  assert.equal(exam.n, 400);
  const right = cases.filter((c) => c.gold.join() === c.predicted.join()).length;
  close(exam.value, right / 400, 'exam score');
  assert.ok(right > 100 && right < 300, `both verdicts occur (${right})`);
  for (const c of cases) assert.deepEqual(predictedLetters(c.item.prediction!), c.predicted, c.item.prediction);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const c of cases) {
    const hit = c.predicted.filter((l) => c.gold.includes(l)).length;
    tp += hit;
    fp += c.predicted.length - hit;
    fn += c.gold.length - hit;
  }
  const f1 = evaluate(cases.map((c) => c.item), 'letter-f1');
  close(f1.parts!.precision!.value, tp / (tp + fp), 'precision');
  close(f1.parts!.recall!.value, tp / (tp + fn), 'recall');
  const p = tp / (tp + fp);
  const r = tp / (tp + fn);
  close(f1.parts!.f1!.value, (2 * p * r) / (p + r), 'f1');
  assert.ok(f1.parts!.f1!.ci95[0] < f1.value && f1.value < f1.parts!.f1!.ci95[1]);
});

test('letters: the reasoning is not read when an <answer> tag exists, the whole text when not; golds "AC", "A, C", ["A","C"] agree', () => {
  assert.deepEqual(predictedLetters('<think>B is tempting</think><answer>A and C</answer>'), ['A', 'C']);
  assert.deepEqual(predictedLetters('<answer>C</answer> then <answer>B</answer>'), ['C'], 'the first tag only');
  assert.deepEqual(predictedLetters('B looks right, so B'), ['B']);
  assert.deepEqual(predictedLetters('<answer>ABC is a word, not letters</answer>'), []);
  for (const g of ['AC', 'A, C', ['A', 'C'], ['C', 'A'], 'C and A']) assert.deepEqual(goldLetters(g), ['A', 'C'], JSON.stringify(g));
  const r = evaluate([{ id: '1', prediction: '<answer>A</answer>', answer: 'AC', where: { file: 'f', line: 1 } }], 'exam-score');
  assert.equal(r.value, 0, 'a subset of the gold letters does not count');
});

test('POPE: every phrasing read as POPE reads it ("Yes, there is." is yes), metrics equal POPE evaluate.py in python', () => {
  const cases = popeCases(300);
  const ref = reference({ vqa: [], pope: { predictions: cases.map((c) => answerText(c.item.prediction!)), labels: cases.map((c) => c.gold) }, pass: [], mcnemar: [] });
  cases.forEach((c, i) => {
    assert.equal(popeSaysYes(c.item.prediction!), c.saysYes, c.item.prediction);
    assert.equal(ref.pope_read[i], c.saysYes ? 'yes' : 'no', `python reads ${c.item.prediction}`);
  });
  assert.equal(popeSaysYes('Yes, there is.'), true);
  const r = evaluate(cases.map((c) => c.item), 'pope');
  assert.equal(r.bad.length, 0);
  for (const k of ['accuracy', 'precision', 'recall', 'f1', 'yes_ratio']) close(r.parts![k]!.value, ref.pope[k]!, k);
  close(r.value, ref.pope.accuracy!, 'headline');
  const bad = evaluate([{ id: 'x', prediction: 'yes', answer: 'maybe', where: { file: 'p.jsonl', line: 7 } }], 'pope');
  assert.deepEqual(bad.bad, [{ file: 'p.jsonl', line: 7, error: 'POPE needs "answer" "yes" or "no", got "maybe"' }]);
});

test('VQA accuracy equals the official vqaEval.py (run in python) on punctuation, articles, number words, contractions', () => {
  // The original passes re.UNICODE (32) as re.sub's count: only 32 periods go.
  const cases = [...vqaCases(300), { prediction: `no${'.'.repeat(40)}`, answers: [...Array(5).fill('no'), ...Array(5).fill(`no${'.'.repeat(40)}`)] }];
  assert.equal(processPunctuation('.'.repeat(40)), '.'.repeat(8));
  const ref = reference({ vqa: cases, pope: { predictions: ['yes'], labels: ['yes'] }, pass: [], mcnemar: [] });
  cases.forEach((c, i) => close(vqaAccuracy(c.prediction, c.answers), ref.vqa[i]!, `${c.prediction} vs ${JSON.stringify(c.answers)}`, 1e-15));
  const values = new Set(ref.vqa.map((v) => v.toFixed(4)));
  assert.ok(values.size >= 4, `partial credit occurs: ${[...values].join(' ')}`);
  // Hand-checked against the rule: 3 of 10 say "2" in some spelling, so every 9-subset holds ≥ 2.
  close(vqaAccuracy('Two.', ['two', '2', 'the two', 'dog', 'dog', 'dog', 'dog', 'dog', 'dog', 'dog']), (3 * (2 / 3) + 7 * 1) / 10, 'number words');
  // The official quirk: annotators who all agree are compared raw, so case matters.
  assert.equal(vqaAccuracy('Yes', Array(10).fill('yes')), 0);
  assert.equal(processPunctuation('3,000 people.'), '3000 people');
  const items: PredictionItem[] = cases.map((c, i) => ({ id: String(i), prediction: `<answer>${c.prediction}</answer>`, answer: c.answers, where: { file: 'v', line: i + 1 } }));
  close(evaluate(items, 'vqa').value, ref.vqa.reduce((s, v) => s + v, 0) / cases.length, 'mean', 1e-12);
  const one = evaluate([{ id: '1', prediction: 'dog', answer: 'dog', where: { file: 'v.jsonl', line: 3 } }], 'vqa');
  assert.match(one.bad[0]!.error, /annotators' answers/);
});

test('pass@k: the unbiased estimator (exact in python), c = 0 is 0 even when n < k, n < k with c > 0 is a named bad line', () => {
  const cases = passCases(200);
  const ok = cases.filter((c) => c.c === 0 || c.n >= c.k);
  const ref = reference({ vqa: [], pope: { predictions: ['yes'], labels: ['yes'] }, pass: ok, mcnemar: [] });
  ok.forEach((c, i) => close(passAtK(c.n, c.c, c.k), ref.pass[i]!, `n=${c.n} c=${c.c} k=${c.k}`, 1e-12));
  assert.equal(passAtK(3, 0, 5), 0);
  assert.equal(passAtK(4, 0, 2), 0);
  assert.equal(passAtK(5, 1, 5), 1);
  for (const k of [1, 5, 10]) {
    const items: PredictionItem[] = cases.map((c, i) => ({ id: String(i), correct: Array.from({ length: c.n }, (_, j) => j < c.c), where: { file: 's.jsonl', line: i + 1 } }));
    const r = evaluate(items, `pass@${k}`);
    const keep = cases.map((c, i) => ({ c, i })).filter(({ c }) => c.c === 0 || c.n >= k);
    assert.equal(r.n, keep.length);
    assert.deepEqual(r.bad.map((b) => b.line), cases.map((c, i) => ({ c, i })).filter(({ c }) => c.c > 0 && c.n < k).map(({ i }) => i + 1));
    if (r.bad.length) assert.match(r.bad[0]!.error, new RegExp(`pass@${k} needs at least ${k} generations`));
    const refK = reference({ vqa: [], pope: { predictions: ['yes'], labels: ['yes'] }, pass: keep.map(({ c }) => ({ n: c.n, c: c.c, k })), mcnemar: [] });
    close(r.value, refK.pass.reduce((s, v) => s + v, 0) / keep.length, `pass@${k} mean`, 1e-12);
  }
  const counted = evaluate([{ id: 'a', correct: 2, n: 4, where: { file: 'c', line: 1 } }, { id: 'b', correct: 2, where: { file: 'c', line: 2 } }], 'pass@2');
  close(counted.value, 1 - 1 / 6, 'count form');
  assert.match(counted.bad[0]!.error, /"n"/);
});

test('Wilson 95% intervals equal published values (Newcombe 1998, score method without continuity correction)', () => {
  const known: [number, number, number, number][] = [[81, 263, 0.2553, 0.3662], [15, 148, 0.0624, 0.1605], [0, 20, 0, 0.1611], [1, 29, 0.0061, 0.1718]];
  for (const [k, n, lo, hi] of known) {
    const [a, b] = wilson(k, n);
    assert.equal(a.toFixed(4), lo.toFixed(4), `${k}/${n} lower`);
    assert.equal(b.toFixed(4), hi.toFixed(4), `${k}/${n} upper`);
  }
  assert.deepEqual(wilson(0, 0), [0, 1]);
  const r = evaluate(examCases(50).map((c) => c.item), 'exam-score');
  assert.deepEqual(r.ci95, wilson(r.value * 50, 50));
});

test('McNemar exact: a hand-worked table, exact-integer python on many, and the paired comparison that uses it', () => {
  // b = 2, c = 8: P(X ≤ 2) for X ~ Bin(10, ½) = (1 + 10 + 45) / 1024, two-sided 112 / 1024.
  close(mcnemarExact(2, 8).p_value, 112 / 1024, 'hand-worked', 1e-15);
  close(mcnemarExact(8, 2).p_value, 112 / 1024, 'symmetric', 1e-15);
  assert.equal(mcnemarExact(5, 5).p_value, 1);
  assert.equal(mcnemarExact(0, 0).p_value, 1);
  const tables = [[0, 6], [1, 9], [12, 30], [40, 41], [100, 140], [700, 820], [3000, 3200]].map(([b, c]) => ({ b: b!, c: c! }));
  const ref = reference({ vqa: [], pope: { predictions: ['yes'], labels: ['yes'] }, pass: [], mcnemar: tables });
  tables.forEach((t, i) => assert.ok(Math.abs(mcnemarExact(t.b, t.c).p_value - ref.mcnemar[i]!) <= 1e-9 * Math.max(1e-300, ref.mcnemar[i]!) + 1e-13, `${t.b},${t.c}`));
  // Two checkpoints: 100 shared questions, 10 discordant (2 lost, 8 gained): a 6-point gain that is noise.
  const mk = (right: (i: number) => boolean): PredictionItem[] =>
    Array.from({ length: 100 }, (_, i) => ({ id: String(i), prediction: right(i) ? '<answer>A</answer>' : '<answer>B</answer>', answer: 'A', where: { file: 'x', line: i + 1 } }));
  const a = evaluate(mk((i) => i < 60 || (i >= 90 && i < 92)), 'exam-score');
  const b = evaluate(mk((i) => i < 60 || (i >= 92 && i < 100)), 'exam-score');
  const cmp = comparePaired(a, b);
  assert.equal(cmp.test.test, 'mcnemar-exact');
  assert.deepEqual([cmp.n, (cmp.test as { b: number }).b, (cmp.test as { c: number }).c], [100, 2, 8]);
  close(cmp.delta, 0.06, 'delta');
  close(cmp.test.p_value, 112 / 1024, 'p');
  assert.equal(cmp.significant, false);
});

test('paired bootstrap: seeded (same result twice), centred on the true difference, significant only for a real one', () => {
  const n = 400;
  const first = Array.from({ length: n }, (_, i) => (i % 3) / 3);
  const same = pairedBootstrap(n, (idx, w) => idx.reduce((s, j) => s + (w ? first[j]! : first[j]!), 0) / n);
  assert.deepEqual(same.ci95, [0, 0]);
  assert.equal(same.p_value, 1);
  const shifted = first.map((v, i) => Math.min(1, v + (i % 2 ? 0.2 : 0)));
  const stat = (idx: Int32Array, w: 0 | 1): number => idx.reduce((s, j) => s + (w ? shifted[j]! : first[j]!), 0) / n;
  const b1 = pairedBootstrap(n, stat);
  const b2 = pairedBootstrap(n, stat);
  assert.deepEqual(b1, b2);
  const truth = shifted.reduce((s, v) => s + v, 0) / n - first.reduce((s, v) => s + v, 0) / n;
  assert.ok(b1.ci95[0] < truth && truth < b1.ci95[1], `${b1.ci95} holds ${truth}`);
  assert.ok(b1.p_value < 0.01);
});
