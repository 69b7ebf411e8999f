/**
 * The local NLI tier end to end on a tiny ONNX model built here with onnx-proto (no download):
 * logits = Σ over unmasked tokens of a per-token vote row (Gather + mask + ReduceSum), so hand-
 * picked words give known labels. The [PAD] row votes hard for "contradiction": if padding were
 * not masked in a batch, short pairs would flip — the batch path is checked, not just one pair.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelFolder } from '../support/tinyNli';
import { LocalJudge } from '../../src/core/judge/local/judge';
import { readModelFolder } from '../../src/core/judge/local/nli';
import { judgeCompletions } from '../../src/core/judge/cascade';
import { RulesJudge } from '../../src/core/judge/rules';
import { prepare } from '../../src/core/judge/input';
import { isFailure } from '../../src/core/judge/verdict';


const c = (think: string, answer: string): string => `<think>${think}</think><answer>${answer}</answer>`;
const subject = (think: string, answer: string) => prepare({ completion: c(think, answer), question: 'q' });

test('the tiny model classifies hand-picked pairs as designed, batched with padding, in a worker', async () => {
  for (const withTypes of [false, true]) {
    const judge = await LocalJudge.open({ dir: modelFolder(withTypes), batchSize: 8 });
    try {
      // Lengths differ, so the short pairs are padded: the mask must silence [PAD]'s vote.
      const probs = await judge.classify([
        ['the ball is red therefore b', 'The answer is b.'],
        ['the ball is not red the ball is the ball is the ball', 'The answer is c.'],
        ['maybe', 'The answer is b.'],
        ['ball', 'The answer is b.'],
      ]);
      // Row 0: votes [0, 3, 1] → softmax; row 3 (only [CLS] votes): [0, 0, 1].
      const e = [Math.exp(0), Math.exp(3), Math.exp(1)];
      const s = e[0]! + e[1]! + e[2]!;
      assert.ok(Math.abs(probs[0]!.entailment - e[1]! / s) < 1e-5, `types=${withTypes} entailment p`);
      assert.ok(Math.abs(probs[0]!.contradiction - e[0]! / s) < 1e-5);
      assert.ok(probs[1]!.contradiction > 0.95, 'not → contradiction');
      assert.ok(probs[2]!.neutral > 0.9, 'maybe + [CLS] → neutral');
      assert.ok(Math.abs(probs[3]!.neutral - Math.E / (2 + Math.E)) < 1e-5, 'a padded row is not flipped by [PAD]');
      assert.equal(judge.batches, 1);
    } finally {
      await judge.close();
    }
  }
});

test('verdicts: contradiction → misaligned, entailment → aligned, neutral → uncertain; batches of the set size', async () => {
  const judge = await LocalJudge.open({ dir: modelFolder(true), batchSize: 2 });
  try {
    const items = [subject('the ball is red therefore b', 'B'), subject('the ball is not red', 'B'), subject('maybe the ball', 'C')];
    const seen: number[] = [];
    const out = await judge.judgeAll(items, { onOutcome: (_o, i) => seen.push(i) });
    assert.deepEqual(seen, [0, 1, 2]);
    assert.equal(judge.batches, 2, 'three items in batches of two');
    const [a, m, u] = out.map((o) => (isFailure(o) ? assert.fail(o.reason) : o));
    assert.deepEqual([a!.aligns, a!.type, a!.tier], [true, null, 'local']);
    assert.deepEqual([m!.aligns, m!.type], [false, 'contradiction']);
    assert.deepEqual([u!.aligns, u!.type], [null, null]);
    assert.match(m!.why, /contradicts "The answer is B\." \(\d+%\)/);
    assert.match(a!.model, /^local:tiny-nli-/);
  } finally {
    await judge.close();
  }
});

test('long reasoning is cut from the start to fit max_position_embeddings, keeping its conclusion', async () => {
  // 16 positions: [CLS] premise [SEP] the answer is b . [SEP] leaves 8 for the premise.
  const judge = await LocalJudge.open({ dir: modelFolder(false, 16) });
  try {
    const long = `${'the ball is not red . '.repeat(20)}the ball therefore b`;
    const [p] = await judge.classify([[long, 'The answer is b.']]);
    // Untruncated, twenty "not" votes would win; cut, only "therefore" and [CLS] vote: [0, 3, 1].
    const want = Math.exp(3) / (1 + Math.exp(3) + Math.E);
    assert.ok(Math.abs(p!.entailment - want) < 1e-5, `the kept end decides: ${JSON.stringify(p)}`);
  } finally {
    await judge.close();
  }
});

test('rules>local: rules settle what they can, the local model gets only the uncertain', async () => {
  const local = await LocalJudge.open({ dir: modelFolder(true) });
  try {
    const items = [
      { completion: c('the ball is red so the answer is B.', 'B'), question: 'q' },
      { completion: c('the ball is not red', 'B'), question: 'q' },
    ];
    const out = await judgeCompletions(items, 'rules>local', { rules: new RulesJudge(), local });
    assert.deepEqual(out.map((r) => r.verdict?.tier), ['rules', 'local']);
    assert.equal(out[1]!.verdict?.aligns, false);
    assert.equal(local.batches, 1);
  } finally {
    await local.close();
  }
});

test('a model folder with missing files or unusable labels is refused with the reason', () => {
  const dir = modelFolder(false);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ id2label: { '0': 'LABEL_0', '1': 'LABEL_1' } }));
  assert.throws(() => readModelFolder(dir), /id2label must name entailment, neutral and contradiction/);
  assert.throws(() => readModelFolder(join(dir, 'nope')), /has no model\.onnx/);
  const info = readModelFolder(modelFolder(false));
  assert.deepEqual(info.labels, ['contradiction', 'entailment', 'neutral']);
  assert.equal(info.maxLength, 64);
});

test('the CLI runs the local tier from a model folder (child process, worker thread inside)', async () => {
  const { spawnSync } = await import('node:child_process');
  const dir = modelFolder(true);
  const runDir = mkdtempSync(join(tmpdir(), 'judge-local-cli-'));
  const file = join(runDir, 'run.jsonl');
  writeFileSync(file, [c('the ball is red so the answer is B.', 'B'), c('the ball is not red', 'B'), c('maybe', 'C')].map((completion) => JSON.stringify({ v: 1, completion })).join('\n') + '\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'judge', file, '--tier', 'rules>local', '--local-model', dir, '--json'], {
    cwd: join(__dirname, '../..'),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const summary = lines.pop()!;
  assert.deepEqual(lines.map((l) => [l.line, l.tier, l.aligns]), [[1, 'rules', true], [2, 'local', false], [3, 'local', null]]);
  assert.deepEqual([summary.aligned, summary.misaligned, summary.unparseable, summary.calls], [1, 1, 1, 0]);
});
