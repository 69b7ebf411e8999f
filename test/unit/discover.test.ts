// The Rollout Sources view's discovery: candidate files by name become sources — a file, or the
// folder of per-step files — and a folder of <step>.jsonl is a source only when its first file
// holds verl or native lines (a dataset called 1.jsonl is not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { sourcesFrom } from '../../src/core/ingest/discover';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

test('sourcesFrom: native files, TRL and verl folders, EasyR1 logs, an ms-swift completions.jsonl; not a dataset named 1.jsonl or another completions.jsonl', async () => {
  const root = mkdtempSync(join(tmpdir(), 'grpo-discover-'));
  try {
    const put = (rel: string, text: string) => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), text);
    };
    put('a/run.rollouts.jsonl', JSON.stringify({ completion: 'x' }) + '\n');
    put('trl/completions/completions_00001.parquet', 'PAR1');
    put('trl/completions/completions_00002.parquet', 'PAR1');
    put('verl/rollout/1.jsonl', JSON.stringify({ input: 'q', output: '<answer>A</answer>', score: 1, step: 1 }) + '\n');
    put('verl/rollout/2.jsonl', JSON.stringify({ input: 'q', output: '<answer>B</answer>', score: 0, step: 2 }) + '\n');
    put('steps/10.jsonl', JSON.stringify({ step: 10, completion: '<answer>A</answer>' }) + '\n');
    put('data/1.jsonl', JSON.stringify({ question: 'What?', answer: 'A' }) + '\n');
    put('easy/generations.log', '[prompt] q\n[output] a\n[score] 1\n');
    put('notes/readme.txt', 'nothing');
    put('swift/v0-1/completions.jsonl', JSON.stringify({ step: ['1', '1'], prompt: ['q', 'q'], completion: ['a', 'b'], Format: [1, 0], advantages: [0.7, -0.7] }) + '\n');
    put('other/completions.jsonl', JSON.stringify({ id: 1, text: 'not a rollout log' }) + '\n');
    const got = (await sourcesFrom(walk(root))).map((s) => [relative(root, s.path), s.kind, s.format]).sort();
    assert.deepEqual(got, [
      ['a/run.rollouts.jsonl', 'file', 'native'],
      ['easy/generations.log', 'file', 'easyr1'],
      ['steps', 'folder', 'native'],
      ['swift/v0-1/completions.jsonl', 'file', 'swift'],
      ['trl/completions', 'folder', 'trl'],
      ['verl/rollout', 'folder', 'verl'],
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
