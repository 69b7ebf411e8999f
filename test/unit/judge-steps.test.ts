/**
 * The Alignment dashboard's per-step counts count what was judged at that step (issue 13): a run
 * whose steps repeat the same prompt and completions (a fixed eval batch, a replayed file) used to
 * read "judged 2" at every step after one group of one step was judged, because verdicts were
 * found by content alone. Real files, the real rules judge, the real cache file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alignmentOfFiles, VerdictLookup, type AlignmentRow } from '../../src/core/judge/alignment';
import { VerdictCache, cachePathFor } from '../../src/core/judge/cache';
import { judgeCompletions } from '../../src/core/judge/cascade';
import { RulesJudge } from '../../src/core/judge/rules';
import { judgeItemOf } from '../../src/core/judge/session';
import { parseRecordLine, type RolloutRecord } from '../../src/core/schema/record';

const Q = 'Which box holds the cat? (A) left (B) right';
const COMPLETIONS = [
  '<think>The cat is in the left box, so the answer is A.</think><answer>B</answer>',
  '<think>The cat sits on the right, the answer is B.</think><answer>B</answer>',
];
const STEPS = [1, 2, 3];

let dir = '';
let file = '';
let records: { record: RolloutRecord; line: number }[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-judge-steps-'));
  file = join(dir, 'repeat.rollouts.jsonl');
  const lines = STEPS.flatMap((step) => COMPLETIONS.map((completion) =>
    JSON.stringify({ v: 1, run: 'r', step, group: `${step}/0`, prompt: { text: Q }, completion, solution: '<answer>B</answer>' })));
  writeFileSync(file, lines.join('\n') + '\n');
  records = lines.map((l, i) => {
    const p = parseRecordLine(l);
    assert.ok(p.ok);
    return { record: p.record, line: i + 1 };
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function judgeStep(step: number): Promise<{ cached: number }> {
  const cache = VerdictCache.open(cachePathFor(file));
  try {
    const items = records.filter((r) => r.record.step === step).map((r) => judgeItemOf(r.record, { line: r.line, group: r.record.group! }));
    const out = await judgeCompletions(items, 'rules', { rules: new RulesJudge() }, { cache });
    return { cached: out.filter((o) => o.cached).length };
  } finally {
    cache.close();
  }
}

const judgedPerStep = (rows: readonly AlignmentRow[]) =>
  Object.fromEntries(rows.filter((r) => r.scope === 'step').map((r) => [r.step, r.judged]));

test('judging one group of one step counts at that step only; judging it at another step adds that step', async () => {
  await judgeStep(1);
  let a = await alignmentOfFiles([file]);
  assert.deepEqual(judgedPerStep(a.rows), { 1: 2, 2: 0, 3: 0 });
  assert.equal(a.rows.find((r) => r.scope === 'run')!.judged, 2, 'the run row counts the two judged completions');
  assert.equal(a.verdicts, 2, 'two distinct verdicts');

  // Step 2 repeats step 1's texts: its verdicts come from the cache (nothing judged twice) and now count there.
  const second = await judgeStep(2);
  assert.equal(second.cached, 2, 'step 2 found its verdicts in the cache');
  a = await alignmentOfFiles([file]);
  assert.deepEqual(judgedPerStep(a.rows), { 1: 2, 2: 2, 3: 0 });
  assert.equal(a.rows.find((r) => r.scope === 'run')!.judged, 4);
  const lines = readFileSync(cachePathFor(file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step?: number; key: string });
  assert.deepEqual(lines.map((l) => l.step), [1, 1, 2, 2], 'one cache line per (key, step)');

  // Judging step 2 again writes nothing new.
  await judgeStep(2);
  assert.equal(readFileSync(cachePathFor(file), 'utf8').trim().split('\n').length, 4);
});

test('a verdict line without a step (a cache written before) still counts wherever its content is', async () => {
  const cache = VerdictCache.open(cachePathFor(file));
  const [v] = [...cache.verdicts()];
  cache.close();
  const { step: _dropped, ...legacy } = v!;
  const lookup = new VerdictLookup([legacy]);
  const item = judgeItemOf(records[0]!.record);
  assert.ok(lookup.of({ ...item, step: 3 }).final, 'legacy verdict found at step 3');
  const stepped = new VerdictLookup([v!]);
  assert.equal(stepped.of({ ...item, step: 3 }).final, null, 'a step-1 verdict is not step 3\'s');
  assert.ok(stepped.of({ ...item, step: 1 }).final);
  assert.ok(stepped.of({ completion: item.completion, question: item.question }).final, 'no step asked: any');
});
