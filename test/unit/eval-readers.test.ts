/**
 * Prediction readers on files written the harnesses' own way: lmms-eval's samples JSONL (its
 * save_results_samples body run by python3, current and pre-0.4), VLMEvalKit's TSV / CSV / JSON
 * dumps, and our JSONL with bad lines that are named while the others are kept.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { evaluate } from '../../src/core/eval/metrics';
import { PredictionsError, readLoggedResults, readPredictions } from '../../src/core/eval/readers';

const WRITERS = join(__dirname, '../fixtures/eval/writers.py');
let dir = '';

const VQA_DOC = (answers: string[]) => ({ question_id: 7, question: 'How many dogs?', answers: answers.map((a, i) => ({ answer: a, answer_confidence: 'yes', answer_id: i + 1 })) });
const TEN = ['two', '2', '2', 'two', 'two', '3', 'two', '2', 'two', 'two'];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-eval-readers-'));
  const spec = {
    files: [
      {
        kind: 'lmms',
        name: '20261202_samples_pope.jsonl',
        docs: [
          { doc: { question_id: 'p0', question: 'Is there a dog?', answer: 'yes' }, target: 'yes', prompt: 'Is there a dog?\nAnswer the question using a single word or phrase.', generations: ['Yes, there is.'], metrics: { pope_accuracy: { question_id: 'p0', score: 1.0, prediction: 'yes, there is.', ground_truth: 'yes' } } },
          { doc: { question_id: 'p1', question: 'Is there a cat?', answer: 'no' }, target: 'no', prompt: 'Is there a cat?', generations: ['There is no cat.'], metrics: {} },
          { doc: { question_id: 'p2', question: 'Is there a car?', answer: 'no' }, target: 'no', prompt: 'Is there a car?', generations: ['Yes'], metrics: {} },
        ],
      },
      { kind: 'lmms', name: 'new_vqav2.jsonl', docs: [{ doc: VQA_DOC(TEN), target: 'two', prompt: 'How many dogs?', generations: ['Two.'] }] },
      { kind: 'lmms', name: 'legacy_vqav2.jsonl', legacy: true, docs: [{ doc: VQA_DOC(TEN), target: 'two', prompt: 'How many dogs?', generations: ['Two.'] }] },
      { kind: 'lmms', name: 'textvqa_listtarget.jsonl', docs: [{ doc: {}, target: TEN, prompt: 'q', generations: ['2'] }] },
      { kind: 'lmms', name: 'sampled.jsonl', docs: [{ doc: {}, target: 'left', prompt: 'q', generations: ['left', 'Right', 'Left.', 'up'] }, { doc: {}, target: 'up', prompt: 'q', generations: ['down', 'down', 'left', 'right'] }] },
      {
        kind: 'vlm',
        name: 'Qwen2.5-VL-3B_ScienceQA_VAL.tsv',
        rows: [
          { index: 0, question: 'Which is a "mammal"?', A: 'whale', B: 'shark', C: 'trout', answer: 'A', prediction: 'The whale.\tA is right\n(A)' , category: 'bio', split: null },
          { index: 1, question: 'Pick two', A: 'x', B: 'y', C: 'z', answer: 'B', prediction: 'C', category: 'bio', split: null },
        ],
      },
      { kind: 'vlm', name: 'M_TextVQA_VAL.csv', rows: [{ index: 10, question: 'What brand?', answer: "['nike', 'Nike', 'nike', 'adidas', \"nike's\", 'nike', 'nike', 'nike', 'nike', 'nike']", prediction: 'Nike' }] },
      { kind: 'vlm', name: 'M_POPE.json', rows: [{ index: 1, question: 'Is there a dog?', answer: 'Yes', prediction: 'Yes, there is.' }, { index: 2, question: 'Is there a cat?', answer: 'No', prediction: 'No' }] },
    ],
  };
  const r = spawnSync('python3', [WRITERS, dir], { input: JSON.stringify(spec), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('our JSONL: bad lines named by file:line (invalid JSON, not an object, no id, wrong types, a repeated id), the others scored', () => {
  const f = join(dir, 'ours.jsonl');
  writeFileSync(f, [
    JSON.stringify({ id: 'a', prediction: '<answer>B</answer>', answer: 'B' }),
    '{"id": "b", "prediction": "A"',
    '[1, 2]',
    JSON.stringify({ prediction: 'A', answer: 'A' }),
    JSON.stringify({ id: 'c', prediction: 5, answer: 'A' }),
    '',
    JSON.stringify({ id: 3, prediction: 'C', answer: ['C'], question: 'q?' }),
    JSON.stringify({ id: 'a', prediction: 'B', answer: 'B' }),
    JSON.stringify({ id: 'd', correct: [true, false, 'yes'] }),
  ].join('\n'));
  const set = readPredictions(f);
  assert.equal(set.format, 'jsonl');
  assert.deepEqual(set.bad.map((b) => [b.line, b.error.split(':')[0]]), [[2, 'invalid JSON'], [3, 'not a JSON object'], [4, 'no "id" (a string or a number; "question_id" and "index" are read too)'], [5, '"prediction" must be a string, got number'], [9, '"correct" must be true/false, a list of them, or a count of correct generations']]);
  assert.deepEqual(set.items.map((i) => i.id), ['a', '3', 'a']);
  const r = evaluate(set.items, 'exam-score');
  assert.equal(r.n, 2);
  assert.deepEqual(r.bad, [{ file: f, line: 8, error: `id "a" already seen at ${f}:1; this one is not scored` }]);
});

test('lmms-eval samples (0.4+): doc_id ids, filtered_resps predictions, string targets; POPE read as POPE reads it', () => {
  const set = readPredictions(join(dir, '20261202_samples_pope.jsonl'));
  assert.equal(set.format, 'lmms-eval-samples');
  assert.equal(set.bad.length, 0);
  assert.deepEqual(set.items.map((i) => [i.id, i.prediction, i.answer]), [['0', 'Yes, there is.', 'yes'], ['1', 'There is no cat.', 'no'], ['2', 'Yes', 'no']]);
  assert.match(set.items[0]!.question!, /^Is there a dog\?\nAnswer/);
  const r = evaluate(set.items, 'pope');
  assert.deepEqual([r.parts!.accuracy!.value, r.parts!.precision!.value, r.parts!.recall!.value, r.parts!.yes_ratio!.value], [2 / 3, 1 / 2, 1, 2 / 3]);
});

test('lmms-eval VQA: 0.4+ drops the doc, so the ten answers are gone (a named bad line); pre-0.4 keeps them; a list target is read back from str()', () => {
  const fresh = evaluate(readPredictions(join(dir, 'new_vqav2.jsonl')).items, 'vqa');
  assert.equal(fresh.n, 0);
  assert.match(fresh.bad[0]!.error, /annotators' answers/);
  assert.equal(fresh.bad[0]!.line, 1);
  const legacy = readPredictions(join(dir, 'legacy_vqav2.jsonl'));
  assert.deepEqual(legacy.items[0]!.answer, TEN);
  assert.equal(legacy.items[0]!.prediction, 'Two.');
  // 9 of 10 normalise to "2": leaving out a "2" keeps 8 matches (1), leaving out the "3" keeps 9 (1).
  assert.equal(evaluate(legacy.items, 'vqa').value, 1);
  const listed = readPredictions(join(dir, 'textvqa_listtarget.jsonl'));
  assert.deepEqual(listed.items[0]!.answer, TEN);
});

test('lmms-eval with several generations per doc: pass@k judges each by exact match', () => {
  const set = readPredictions(join(dir, 'sampled.jsonl'));
  assert.deepEqual(set.items[0]!.predictions, ['left', 'Right', 'Left.', 'up']);
  const r = evaluate(set.items, 'pass@2');
  // doc 0: 2 of 4 right → 1 − C(2,2)/C(4,2) = 5/6; doc 1: none right → 0.
  assert.ok(Math.abs(r.value - (5 / 6 + 0) / 2) < 1e-12);
});

test('VLMEvalKit TSV / CSV / JSON: index ids, quoted fields with tabs, quotes and newlines, list answers from their Python repr', () => {
  const tsv = readPredictions(join(dir, 'Qwen2.5-VL-3B_ScienceQA_VAL.tsv'));
  assert.equal(tsv.format, 'vlmevalkit');
  assert.deepEqual(tsv.bad, []);
  assert.deepEqual(tsv.items.map((i) => [i.id, i.prediction, i.answer, i.question]), [['0', 'The whale.\tA is right\n(A)', 'A', 'Which is a "mammal"?'], ['1', 'C', 'B', 'Pick two']]);
  assert.deepEqual(tsv.items.map((i) => i.where.line), [2, 4]);
  assert.equal(evaluate(tsv.items, 'exam-score').value, 0.5);
  const csv = readPredictions(join(dir, 'M_TextVQA_VAL.csv'));
  assert.deepEqual(csv.items[0]!.answer, ['nike', 'Nike', 'nike', 'adidas', "nike's", 'nike', 'nike', 'nike', 'nike', 'nike']);
  assert.equal(evaluate(csv.items, 'vqa').value, 1);
  const json = readPredictions(join(dir, 'M_POPE.json'));
  assert.deepEqual(json.items.map((i) => [i.id, i.answer, i.where.line]), [['1', 'Yes', 2], ['2', 'No', 8]]);
  assert.equal(evaluate(json.items, 'pope').value, 1);
});

test('VLMEvalKit table: a row with a wrong field count and a quote left open are named; xlsx and results.json are refused with what to do', () => {
  const f = join(dir, 'broken.tsv');
  writeFileSync(f, '"index"\t"answer"\t"prediction"\n"1"\t"A"\t"A"\n"2"\t"B"\n"3"\t"C"\t"C"\n"4"\t"D"\t"open\nstill open');
  const set = readPredictions(f);
  assert.deepEqual(set.items.map((i) => i.id), ['1', '3']);
  assert.deepEqual(set.bad, [
    { file: f, line: 3, error: '2 fields, the header has 3' },
    { file: f, line: 5, error: 'a quoted field is never closed (the file ends inside it)' },
  ]);
  assert.throws(() => readPredictions(join(dir, 'M_MMBench.xlsx')), (e: Error) => e instanceof PredictionsError && /PRED_FORMAT=tsv/.test(e.message));
  const results = join(dir, '20261202_results.json');
  writeFileSync(results, JSON.stringify({ results: { pope: { alias: 'pope', 'pope_accuracy,none': 0.86, 'pope_accuracy_stderr,none': 'N/A', 'pope_f1_score,none': 0.85 } }, 'n-samples': { pope: { original: 9000, effective: 9000 } }, configs: {}, versions: {} }, null, 2));
  assert.throws(() => readPredictions(results), /aggregated results .*samples_<task>\.jsonl/);
  assert.deepEqual(readLoggedResults(results), [{ task: 'pope', metrics: { 'pope_accuracy,none': 0.86, 'pope_f1_score,none': 0.85 }, stderr: {}, n: 9000 }]);
  appendFileSync(f, '"\n');
  assert.equal(readPredictions(f).items.length, 3, 'closing the quote makes the last row whole');
});
