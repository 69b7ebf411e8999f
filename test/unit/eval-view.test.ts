/**
 * The Evaluation Matrix panel's messages: the view the host builds from a real matrix (generated
 * predictions, buildMatrix) passes the page's guard with every cell and delta; malformed messages
 * from either side are rejected; ids that are Object's own keys stay ordinary ids.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildMatrix } from '../../src/core/eval/matrix';
import { parseEvalProfiles } from '../../src/core/eval/profiles';
import { benchmarkValue, evalManifest } from '../../src/core/eval/results';
import { computeInWorker } from '../../src/eval/computeMatrix';
import { matrixView } from '../../src/eval/matrixView';
import { compute, pathSource, profileSource } from '../../src/eval/sources';
import { isEvalHostMessage, isEvalWebviewMessage } from '../../src/protocol/eval';

const ws = mkdtempSync(join(tmpdir(), 'grpo-eval-view-'));
after(() => rmSync(ws, { recursive: true, force: true }));

function write(ck: string, bench: string, rows: { id: string; prediction: string; answer: string }[], extra = ''): void {
  const dir = join(ws, '.grpo-studio/eval/p', ck);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${bench}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n' + extra);
  writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify({ path: join(ws, 'out', ck), ...(/\d+$/.test(ck) ? { step: Number(/(\d+)$/.exec(ck)![1]) } : {}) }));
}

test('the view of a real matrix passes the guard: values, intervals, deltas, problems', () => {
  const q = (right: number, n = 20) => Array.from({ length: n }, (_, i) => ({ id: `q${i}`, prediction: `<answer>${i < right ? 'A' : 'B'}</answer>`, answer: 'A' }));
  write('checkpoint-10', 'exam', q(8));
  write('checkpoint-20', 'exam', q(15), 'not json\n');
  write('constructor', 'exam', q(11));
  const text = JSON.stringify({ profiles: [], evals: [{ name: 'p', benchmarks: [{ id: 'exam', label: 'Exam', metric: 'exam-score', command: ['x', '{checkpoint}', '{output}'] }] }] });
  const [p] = parseEvalProfiles(text, 'f.json', ws);
  const m = buildMatrix(evalManifest(p!));
  const v = matrixView(m, p!.results);
  assert.deepEqual(v.checkpoints.map((c) => [c.id, c.step]), [['checkpoint-10', 10], ['checkpoint-20', 20], ['constructor', null]]);
  assert.equal(v.base, 'checkpoint-10', 'no base folder: the lowest step');
  assert.equal(v.cells.length, 3);
  const c20 = v.cells.find((c) => c.checkpoint === 'checkpoint-20')!;
  assert.equal(c20.value, 15 / 20);
  assert.deepEqual([c20.lo, c20.hi], m.cells['checkpoint-20']!.exam!.ci95);
  assert.equal(c20.bad, 1);
  assert.ok(Math.abs(c20.delta!.value - 7 / 20) < 1e-12);
  assert.equal(c20.delta!.test, 'mcnemar-exact');
  assert.equal(v.badLines, 1);
  assert.match(v.problems[0]!, /checkpoint-20\/exam\.jsonl:21: /);
  assert.equal(isEvalHostMessage({ type: 'show', view: v }), true);
  // benchmarkValue (the notification's number) is the matrix's.
  const b = p!.benchmarks[0]!;
  const bv = benchmarkValue(b, join(p!.results, 'checkpoint-20/exam.jsonl'));
  assert.ok(!('error' in bv) && bv.value === c20.value && bv.n === 20);
  assert.match((benchmarkValue(b, join(ws, 'missing.jsonl')) as { error: string }).error, /missing\.jsonl/);
});

test('malformed messages are rejected on both sides', () => {
  const view = { title: 't', source: 's', base: 'b', checkpoints: [{ id: 'b', label: 'b', step: 0 }], benchmarks: [{ id: 'x', label: 'x', metric: 'pope' }], cells: [{ checkpoint: 'b', benchmark: 'x', value: 0.5, lo: 0.4, hi: 0.6, n: 10, logged: false, bad: 0 }], problems: [], badLines: 0 };
  assert.equal(isEvalHostMessage({ type: 'show', view }), true);
  assert.equal(isEvalHostMessage({ type: 'show', view: { ...view, cells: [{ ...view.cells[0], value: Number.NaN }] } }), false);
  assert.equal(isEvalHostMessage({ type: 'show', view: { ...view, cells: [{ ...view.cells[0], delta: { value: '1' } }] } }), false);
  assert.equal(isEvalHostMessage({ type: 'show', view: { ...view, checkpoints: [{ id: 'b', label: 3, step: 0 }] } }), false);
  assert.equal(isEvalHostMessage({ type: 'error', source: 's' }), false);
  assert.equal(isEvalWebviewMessage({ type: 'openPredictions', checkpoint: 'a', benchmark: 'b' }), true);
  assert.equal(isEvalWebviewMessage({ type: 'openPredictions', checkpoint: 'a' }), false);
  assert.equal(isEvalWebviewMessage({ type: 'openPredictions', checkpoint: 'a', benchmark: 'b', file: '/etc/passwd' }), true, 'extra fields are ignored: the host looks the file up by ids');
  assert.equal(isEvalWebviewMessage({ type: 'run', command: 'rm -rf /' }), false);
  assert.equal(isEvalWebviewMessage('ready'), false);
});

test('the worker thread computes what compute() does: view, files, both reports; a bad source is an error', { timeout: 60_000 }, async () => {
  const text = JSON.stringify({ profiles: [], evals: [{ name: 'p', benchmarks: [{ id: 'exam', label: 'Exam', metric: 'exam-score', command: ['x', '{checkpoint}', '{output}'] }] }] });
  const [p] = parseEvalProfiles(text, 'f.json', ws);
  const src = profileSource(p!);
  const inWorker = await computeInWorker(src);
  assert.deepEqual(inWorker, compute(src));
  assert.ok(inWorker.files.some((f) => f.checkpoint === 'constructor' && f.file.endsWith('constructor/exam.jsonl')));
  assert.match(inWorker.html, /^<!DOCTYPE html>/);
  await assert.rejects(computeInWorker(pathSource(join(ws, 'nowhere'))), /cannot read .*nowhere/);
});
