import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alignmentItem, alignmentMarkdown, alignmentRows, checkpointOf, VerdictLookup, type AlignmentItem } from '../../src/core/judge/alignment';
import { VerdictCache, cachePathFor } from '../../src/core/judge/cache';
import { judgeCompletions } from '../../src/core/judge/cascade';
import { RulesJudge } from '../../src/core/judge/rules';
import { makeVerdict, type JudgeVerdict } from '../../src/core/judge/verdict';
import { readRollouts } from '../../src/core/ingest/v1Reader';
import type { RolloutRecord } from '../../src/core/schema/record';

const c = (think: string, answer: string): string => `<think>${think}</think><answer>${answer}</answer>`;
const rec = (step: number, completion: string, solution: string, run = 'grpo'): RolloutRecord => ({ v: 1, run, step, completion, solution, prompt: { text: `q${step}` } });
const LLM = { tier: 'llm' as const, model: 'judge-m', promptHash: 'p1' };
const RULES = { tier: 'rules' as const, model: 'rules-v1', promptHash: 'r' };

test('rows per run and per step: seed accuracy, alignment = 100 − misaligned %, types, unjudged left out', () => {
  const items: AlignmentItem[] = [
    alignmentItem(rec(1, c('so B', 'B'), '<answer>B</answer>'), '/r/run.jsonl'),
    alignmentItem(rec(1, c('so B', 'C'), '<answer>B</answer>'), '/r/run.jsonl'),
    alignmentItem(rec(2, c('hmm', 'A'), '<answer>A</answer>'), '/r/run.jsonl'),
    alignmentItem(rec(2, 'no answer at all', '<answer>A</answer>'), '/r/run.jsonl'),
    alignmentItem(rec(2, c('not judged yet', 'D'), '<answer>A</answer>'), '/r/run.jsonl'),
  ];
  const verdicts: JudgeVerdict[] = [
    makeVerdict(items[0]!, { aligns: true, type: null, why: 'ok' }, LLM),
    makeVerdict(items[1]!, { aligns: false, type: 'contradiction', why: 'says B, answers C' }, LLM),
    makeVerdict(items[2]!, { aligns: false, type: 'missing_detail', why: 'no support' }, LLM),
    makeVerdict(items[3]!, { aligns: null, type: null, why: 'no answer' }, RULES),
  ];
  const rows = alignmentRows(items, new VerdictLookup(verdicts));
  assert.deepEqual(rows.map((r) => r.label), ['grpo', 'step 1', 'step 2']);
  const [run, s1, s2] = rows;
  assert.equal(run!.completions, 5);
  assert.equal(run!.scored, 5);
  assert.equal(run!.accuracy, 40); // items 0 and 2 are right
  assert.equal(run!.judged, 4);
  assert.deepEqual([run!.aligned, run!.misaligned, run!.unparseable], [1, 2, 1]);
  assert.equal(run!.alignment, 50); // 100 − 2/4
  assert.equal(run!.types.contradiction, 1);
  assert.equal(run!.types.missing_detail, 1);
  assert.equal(s1!.accuracy, 50);
  assert.equal(s1!.alignment, 50);
  assert.equal(s2!.judged, 2);
  assert.equal(s2!.alignment, 50);
  assert.ok(Math.abs(s2!.accuracy! - 100 / 3) < 1e-9);
});

test('the final verdict is the first decisive tier; agreement counts pairs both tiers decided', () => {
  const items = [0, 1, 2].map((i) => alignmentItem(rec(1, c(`r${i}`, 'B'), '<answer>B</answer>'), '/r/x.jsonl'));
  const verdicts: JudgeVerdict[] = [
    makeVerdict(items[0]!, { aligns: true, type: null, why: 'rule ok' }, RULES),
    makeVerdict(items[0]!, { aligns: true, type: null, why: 'llm ok' }, LLM),
    makeVerdict(items[1]!, { aligns: false, type: 'contradiction', why: 'rule says no' }, RULES),
    makeVerdict(items[1]!, { aligns: true, type: null, why: 'llm says yes' }, LLM),
    makeVerdict(items[2]!, { aligns: null, type: null, why: 'unsure' }, RULES),
    makeVerdict(items[2]!, { aligns: false, type: 'irrelevant', why: 'llm no' }, LLM),
  ];
  const lookup = new VerdictLookup(verdicts);
  assert.equal(lookup.of(items[1]!).final!.why, 'rule says no');
  assert.equal(lookup.of(items[2]!).final!.why, 'llm no');
  assert.deepEqual(lookup.of(items[2]!).trail.map((v) => v.tier), ['rules', 'llm']);
  const run = alignmentRows(items, lookup)[0]!;
  assert.deepEqual(run.agreement, [{ a: 'rules', b: 'llm', both: 2, agree: 1 }]);
  assert.deepEqual([run.aligned, run.misaligned], [1, 2]);
});

test('a newer verdict of the same tier (another model or prompt) wins', () => {
  const item = alignmentItem(rec(1, c('x', 'B'), '<answer>B</answer>'), '/r/x.jsonl');
  const old = makeVerdict(item, { aligns: true, type: null, why: 'old' }, LLM, new Date('2026-01-01'));
  const neu = makeVerdict(item, { aligns: false, type: 'other', why: 'new' }, { ...LLM, promptHash: 'p2' }, new Date('2026-02-01'));
  assert.equal(new VerdictLookup([neu, old]).of(item).final!.why, 'new');
});

test('checkpoints from a record field or the file name; rows per checkpoint; Markdown in the seed shape', () => {
  assert.equal(checkpointOf({ v: 1, completion: '', extra: { checkpoint: 500 } }, '/a/b.jsonl'), 'checkpoint-500');
  assert.equal(checkpointOf({ v: 1, completion: '', meta: { checkpoint: 'sft' } }, '/a/b.jsonl'), 'sft');
  assert.equal(checkpointOf({ v: 1, completion: '' }, '/a/eval-checkpoint-1200.jsonl'), 'checkpoint-1200');
  assert.equal(checkpointOf({ v: 1, completion: '' }, '/a/run.jsonl'), null);
  const a = alignmentItem(rec(1, c('so B', 'B'), '<answer>B</answer>', 'Qwen|GRPO'), '/e/eval-checkpoint-100.jsonl');
  const b = alignmentItem(rec(1, c('so B', 'C'), '<answer>C</answer>', 'Qwen|GRPO'), '/e/eval-checkpoint-100.jsonl');
  const rows = alignmentRows([a, b], new VerdictLookup([
    makeVerdict(a, { aligns: true, type: null, why: '' }, LLM),
    makeVerdict(b, { aligns: false, type: 'contradiction', why: '' }, LLM),
  ]));
  assert.deepEqual(rows.map((r) => [r.scope, r.label]), [['run', 'Qwen|GRPO'], ['checkpoint', 'checkpoint-100'], ['step', 'step 1']]);
  const md = alignmentMarkdown(rows);
  const lines = md.trim().split('\n');
  assert.match(lines[0]!, /^\| model \| reasoning \| accuracy \| alignment \|/);
  assert.equal(lines.length, 4);
  assert.equal(lines[2], '| Qwen\\|GRPO | yes | 100.00% | 50.00% | 2 | 1 (1 / 0 / 0 / 0) |');
  assert.match(lines[3]!, /^\| Qwen\\\|GRPO checkpoint-100 \|/);
  assert.equal(alignmentMarkdown(rows, { scope: 'step' }).trim().split('\n')[2], '| step 1 | yes | 100.00% | 50.00% | 2 | 1 (1 / 0 / 0 / 0) |');
});

test('end to end: a file judged by the cascade, read back from its cache file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'judge-alignment-'));
  const file = join(dir, 'run.jsonl');
  const recs = [rec(3, c('Red ball, so the answer is B.', 'B'), '<answer>B</answer>'), rec(3, c('Red ball, so the answer is B.', 'C'), '<answer>C</answer>'), rec(4, 'nothing', 'A')];
  writeFileSync(file, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const items: AlignmentItem[] = [];
  await readRollouts(file, (r, loc) => items.push(alignmentItem(r, file, { line: loc.line })));
  const cache = VerdictCache.open(cachePathFor(file));
  await judgeCompletions(items, 'rules', { rules: new RulesJudge() }, { cache });
  cache.close();
  const rows = alignmentRows(items, new VerdictLookup(VerdictCache.open(cachePathFor(file)).verdicts()));
  const run = rows[0]!;
  assert.equal(run.label, 'grpo');
  assert.deepEqual([run.judged, run.aligned, run.misaligned, run.unparseable], [3, 1, 1, 1]);
  assert.equal(run.types.contradiction, 1);
  assert.ok(Math.abs(run.accuracy! - 200 / 3) < 1e-9); // the third record's whole text "nothing" ≠ "a"
});
