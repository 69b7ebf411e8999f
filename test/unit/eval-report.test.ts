/**
 * The matrix and report functions as the extension will call them: a manifest validated field by
 * field, buildMatrix over an in-memory loader (no files), logged values and their scale, the
 * judge's alignment counts, and tables left out when the manifest lacks their fields.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadManifest } from '../../src/core/eval/folder';
import { ManifestError, parseManifest, type Manifest } from '../../src/core/eval/manifest';
import { buildMatrix, type Loaded } from '../../src/core/eval/matrix';
import { PredictionsError } from '../../src/core/eval/readers';
import { renderHtml } from '../../src/core/eval/reportHtml';
import { renderMarkdown } from '../../src/core/eval/reportMd';
import { reportTables } from '../../src/core/eval/tables';
import type { PredictionItem } from '../../src/core/eval/types';

const parse = (v: unknown): Manifest => parseManifest(v, 'eval.json', (p) => `/data/${p}`);
const BASE = {
  checkpoints: [{ id: 'base', step: 0 }, { id: 'grpo', step: 50, alignment: { judged: 200, misaligned: 30 } }],
  benchmarks: [{ id: 'mc', metric: 'exam-score' }],
  predictions: [{ checkpoint: 'base', benchmark: 'mc', file: 'b.jsonl' }, { checkpoint: 'grpo', benchmark: 'mc', file: 'g.jsonl' }],
};

test('manifest: every field checked, the error names the manifest and the field', () => {
  const m = parse(BASE);
  assert.equal(m.predictions[0]!.file, '/data/b.jsonl');
  assert.deepEqual(m.checkpoints[1]!.alignment, { value: 0.85, n: 200 });
  const bad: [unknown, RegExp][] = [
    [{ ...BASE, checkpoints: [{ id: 'base', step: 'ten' }] }, /^eval\.json: checkpoints\[0\]\.step: expected a number$/],
    [{ ...BASE, benchmarks: [{ id: 'mc', metric: 'accuracy' }] }, /benchmarks\[0\]\.metric: expected exam-score/],
    [{ ...BASE, predictions: [{ checkpoint: 'nope', benchmark: 'mc', file: 'x' }] }, /predictions\[0\]\.checkpoint: "nope" is not a checkpoint id/],
    [{ ...BASE, predictions: [BASE.predictions[0], BASE.predictions[0]] }, /two files for checkpoint "base" on benchmark "mc"/],
    [{ ...BASE, checkpoints: [{ id: 'a' }, { id: 'a' }] }, /id "a" appears twice/],
    [{ ...BASE, benchmarks: [{ id: 'mc', metric: 'vqa', headline: 'f1' }] }, /headline: vqa has one number only/],
    [{ ...BASE, predictions: [{ checkpoint: 'base', benchmark: 'mc', file: 'r.json', task: 't' }] }, /"task" and "key" go together/],
    [{ ...BASE, checkpoints: [{ id: 'base', alignment: { judged: 5, misaligned: 9 } }] }, /alignment: expected a fraction/],
    [{ ...BASE, base: 'sft' }, /^eval\.json: base: "sft" is not a checkpoint id$/],
    [[], /\(top\): expected a JSON object/],
  ];
  for (const [v, re] of bad) assert.throws(() => parse(v), (e: Error) => e instanceof ManifestError && re.test(e.message), String(re));
});

const items = (file: string, right: (i: number) => boolean, n = 40): PredictionItem[] =>
  Array.from({ length: n }, (_, i) => ({ id: `q${i}`, prediction: `<answer>${right(i) ? 'A' : 'B'}</answer>`, answer: 'A', question: `question ${i}`, where: { file, line: i + 1 } }));

test('buildMatrix over an in-memory loader: values, the paired delta, an unreadable file reported, logged values need a fraction or a scale', () => {
  const m = parse({
    ...BASE,
    checkpoints: [...BASE.checkpoints, { id: 'late', step: 100 }, { id: 'broken', step: 150 }],
    benchmarks: [...BASE.benchmarks, { id: 'mme', metric: 'exact-match' }],
    predictions: [
      ...BASE.predictions,
      { checkpoint: 'broken', benchmark: 'mc', file: 'gone.jsonl' },
      { checkpoint: 'grpo', benchmark: 'mme', file: 'r.json', task: 'mme', key: 'acc,none' },
      { checkpoint: 'late', benchmark: 'mme', file: 'r.json', task: 'mme', key: 'acc,none', scale: 100 },
    ],
  });
  const loader = (e: { file: string; task?: string }): Loaded => {
    if (e.file === '/data/gone.jsonl') throw new PredictionsError('cannot read /data/gone.jsonl: ENOENT');
    if (e.task) return { kind: 'logged', tasks: [{ task: 'mme', metrics: { 'acc,none': 45.2 }, stderr: {}, n: 1000 }] };
    const right = e.file.endsWith('b.jsonl') ? (i: number) => i < 20 : (i: number) => i < 30;
    return { kind: 'items', set: { format: 'jsonl', files: [e.file], items: items(e.file, right), bad: [], notes: [] } };
  };
  const x = buildMatrix(m, loader);
  assert.equal(x.base, 'base');
  assert.equal(x.cells.base!.mc!.value, 0.5);
  const g = x.cells.grpo!.mc!;
  assert.equal(g.value, 0.75);
  assert.equal(g.delta!.value, 0.25);
  assert.equal(g.delta!.test, 'mcnemar-exact');
  assert.ok(Math.abs(g.delta!.p_value! - 2 / 1024) < 1e-15, 'b = 0, c = 10');
  assert.deepEqual(x.errors.map((e) => e.error), [
    'cannot read /data/gone.jsonl: ENOENT',
    'logged "acc,none" of task "mme" is 45.2, not a fraction 0-1 (a task that logs percentages needs "scale": 100)',
  ]);
  assert.equal(x.cells.late!.mme!.value, 0.452);
  assert.equal(x.cells.late!.mme!.logged, true);
  assert.equal(x.cells.broken, undefined);
  const md = renderMarkdown(x);
  assert.match(md, /## Problems\n\n- cannot read \/data\/gone\.jsonl: ENOENT\n/);
  assert.match(renderHtml(x), /<li>cannot read \/data\/gone\.jsonl: ENOENT<\/li>/);
});

test('tables appear only with their fields; the base defaults to the lowest step; the scaling plot needs two steps', () => {
  const m = parse({ ...BASE, checkpoints: [{ id: 'z', step: 5 }, { id: 'a', step: 1 }], predictions: [{ checkpoint: 'z', benchmark: 'mc', file: 'z' }, { checkpoint: 'a', benchmark: 'mc', file: 'a' }] });
  const loader = (e: { file: string }): Loaded => ({ kind: 'items', set: { format: 'jsonl', files: [e.file], items: items(e.file, (i) => i % 2 === 0), bad: [], notes: [] } });
  const x = buildMatrix(m, loader);
  assert.equal(x.base, 'a');
  assert.deepEqual(reportTables(x).map((t) => t.id), ['matrix', 'scaling', 'bias']);
  const one = buildMatrix(parse({ ...BASE, checkpoints: [{ id: 'base' }, { id: 'grpo' }] }), loader);
  assert.deepEqual(reportTables(one).map((t) => t.id), ['matrix', 'bias']);
  assert.ok(!renderHtml(one).includes('<svg class="chart"'));
  const aligned = buildMatrix(parse(BASE), loader);
  const t = reportTables(aligned).find((x) => x.id === 'alignment')!;
  assert.deepEqual(t.header, ['Model', 'Reasoning', 'Accuracy', 'Alignment']);
  assert.deepEqual(t.rows.map((r) => r[3]!.text), ['—', '85.00%']);
});

test('a folder of lmms-eval output folders: one checkpoint per model folder, the newest samples file per task', () => {
  const root = mkdtempSync(join(tmpdir(), 'grpo-eval-folder-'));
  try {
    const line = (id: number, pred: string): string => JSON.stringify({ doc_id: id, target: 'yes', filtered_resps: pred, doc_hash: 'h', input: 'Is there a dog?' }) + '\n';
    for (const [model, older, newer] of [['__ckpt__checkpoint-500', 'No', 'Yes, there is.'], ['__ckpt__checkpoint-1000', 'No', 'Yes']] as const) {
      mkdirSync(join(root, model));
      writeFileSync(join(root, model, '2026-12-01T10-00-00.000001_samples_pope.jsonl'), line(0, older) + line(1, older));
      writeFileSync(join(root, model, '2026-12-02T10-00-00.000001_samples_pope.jsonl'), line(0, newer) + line(1, 'no'));
      writeFileSync(join(root, model, '2026-12-02T10-00-00.000001_results.json'), '{"results": {}, "configs": {}}');
    }
    const m = loadManifest(root);
    assert.deepEqual(m.checkpoints.map((c) => [c.id, c.step]), [['__ckpt__checkpoint-500', 500], ['__ckpt__checkpoint-1000', 1000]]);
    assert.deepEqual(m.benchmarks, [{ id: 'pope', label: 'pope', metric: 'pope' }]);
    assert.deepEqual(m.predictions.map((p) => p.file.slice(root.length + 1)), ['__ckpt__checkpoint-500/2026-12-02T10-00-00.000001_samples_pope.jsonl', '__ckpt__checkpoint-1000/2026-12-02T10-00-00.000001_samples_pope.jsonl']);
    const x = buildMatrix(m);
    assert.equal(x.base, '__ckpt__checkpoint-500');
    assert.equal(x.cells['__ckpt__checkpoint-1000']!.pope!.value, 0.5);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('ids are only ids: a checkpoint "__proto__" and a benchmark "constructor" get their cells and pollute nothing', () => {
  const m = parse({ checkpoints: [{ id: '__proto__', step: 0 }, { id: 'b', step: 1 }], benchmarks: [{ id: 'constructor', metric: 'exam-score' }], predictions: [{ checkpoint: '__proto__', benchmark: 'constructor', file: 'x' }, { checkpoint: 'b', benchmark: 'constructor', file: 'y' }] });
  const x = buildMatrix(m, (e) => ({ kind: 'items', set: { format: 'jsonl', files: [e.file], items: items(e.file, (i) => i < 10), bad: [], notes: [] } }));
  assert.equal(x.cells['__proto__']!['constructor']!.value, 0.25);
  assert.equal(x.cells.b!['constructor']!.delta!.value, 0);
  assert.equal(({} as Record<string, unknown>)['constructor'], Object);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
  assert.ok(renderMarkdown(x).includes('\\_\\_proto\\_\\_ (base)'));
});
