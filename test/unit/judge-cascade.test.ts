import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VerdictCache, cachePathFor } from '../../src/core/judge/cache';
import { judgeCompletions, summarize } from '../../src/core/judge/cascade';
import { LlmJudge } from '../../src/core/judge/llm';
import { RulesJudge } from '../../src/core/judge/rules';
import { makeVerdict, type JudgeItem } from '../../src/core/judge/verdict';
import { startFakeOpenAI } from '../support/openaiServer';

const KEY = 'sk-cascade-test-1111';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'judge-cascade-'));
const c = (think: string, answer: string): string => `<think>${think}</think><answer>${answer}</answer>`;

/** Rules settle the first two; the next two are uncertain for rules and go to the LLM. */
const ITEMS: JudgeItem[] = [
  { completion: c('The ball is red, so the answer is B.', 'B'), question: 'q1', line: 1 },
  { completion: c('The ball is red, so the answer is B.', 'C'), question: 'q2', line: 2 },
  { completion: c('The mug stands beside the laptop on the desk.', 'mug'), question: 'q3', line: 3 },
  { completion: c('Nothing here points to a color.', 'green'), question: 'q4', line: 4 },
  { completion: 'no tags, no answer', question: 'q5', line: 5 },
];

test('the cache reads every complete line of a file whose last line was torn, and appends after it cleanly', () => {
  const dir = tmp();
  const path = cachePathFor(join(dir, 'run.jsonl'));
  assert.equal(path, join(dir, 'run.jsonl.verdicts.jsonl'));
  const who = { tier: 'rules' as const, model: 'rules-v1', promptHash: 'p' };
  const v1 = makeVerdict({ completion: 'a', question: 'q' }, { aligns: true, type: null, why: 'w' }, who);
  const v2 = makeVerdict({ completion: 'b', question: 'q' }, { aligns: false, type: 'contradiction', why: 'w' }, who);
  const v3 = makeVerdict({ completion: 'c', question: 'q' }, { aligns: null, type: null, why: 'w' }, who);
  const cache = VerdictCache.open(path);
  cache.put(v1);
  cache.put(v2);
  cache.put(v1); // already there: not written again
  cache.close();
  // A process killed mid-write leaves half a line.
  appendFileSync(path, JSON.stringify(v3).slice(0, 40));
  const again = VerdictCache.open(path);
  assert.equal(again.size, 2);
  assert.deepEqual(again.get(v2.key), v2);
  assert.deepEqual(again.skippedLines, [3]);
  again.put(v3);
  again.close();
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.length, 5, 'two verdicts, the torn fragment, the new verdict, the final empty string');
  const third = VerdictCache.open(path);
  assert.equal(third.size, 3);
  assert.deepEqual(third.skippedLines, [3]);
  assert.deepEqual(third.get(v3.key), v3);
});

test('rules>llm: only uncertain completions reach the server; a re-run with the cache makes no call', async () => {
  const server = await startFakeOpenAI();
  try {
    const dir = tmp();
    const cachePath = join(dir, 'v.jsonl');
    const run = async () => {
      const cache = VerdictCache.open(cachePath);
      const llm = new LlmJudge({ baseURL: server.url, model: 'judge-test', apiKey: KEY, retry: { baseDelayMs: 5 } });
      const results = await judgeCompletions(ITEMS, 'rules>llm', { rules: new RulesJudge(), llm }, { cache });
      cache.close();
      return results;
    };
    const first = await run();
    assert.equal(server.chatRequests.length, 2);
    assert.deepEqual(first.map((r) => [r.verdict?.tier, r.verdict?.aligns]), [
      ['rules', true],
      ['rules', false],
      ['llm', true],
      ['llm', false],
      ['rules', null],
    ]);
    assert.equal(first[2]!.trail.length, 2, 'rules said uncertain, then the LLM decided');
    assert.equal(first[2]!.trail[0]!.aligns, null);
    assert.deepEqual(summarize(first), { judged: 5, aligned: 2, misaligned: 2, unparseable: 1, failed: 0, cached: 0 });

    const second = await run();
    assert.equal(server.chatRequests.length, 2, 'no repeated call');
    assert.deepEqual(second.map((r) => r.cached), [true, true, true, true, true]);
    assert.deepEqual(second.map((r) => r.verdict?.key), first.map((r) => r.verdict?.key));
    // 5 rules verdicts + 2 LLM verdicts, each stored once.
    assert.equal(readFileSync(cachePath, 'utf8').trim().split('\n').length, 7);
  } finally {
    await server.close();
  }
});

test('identical completions are judged once; a failed one is kept as failed with its reason and retried next run', async () => {
  let fail = true;
  const server = await startFakeOpenAI({ fault: (_n, prompt) => (fail && prompt.includes('flaky') ? { kind: 'server_error' } : null) });
  try {
    const cache = VerdictCache.open(join(tmp(), 'v.jsonl'));
    const llm = new LlmJudge({ baseURL: server.url, model: 'm', apiKey: KEY, retry: { baseDelayMs: 1, maxRetries: 1 } });
    const same = { completion: c('It is blue.', 'blue'), question: 'q' };
    const items = [same, { ...same, line: 2 }, { completion: c('flaky one', 'x'), question: 'q' }];
    const seen: number[] = [];
    const out = await judgeCompletions(items, 'llm', { llm }, { cache, onJudged: (r) => seen.push(r.index) });
    assert.deepEqual([...seen].sort(), [0, 1, 2], 'every completion reported once');
    assert.equal(out[0]!.verdict?.aligns, true);
    assert.equal(out[1]!.verdict?.key, out[0]!.verdict?.key);
    assert.equal(out[1]!.cached, true);
    assert.equal(out[2]!.verdict, null);
    assert.match(out[2]!.failure ?? '', /^llm: HTTP 500.*after 2 attempts/);
    // One call for the duplicate pair, two attempts for the flaky one.
    assert.equal(server.chatRequests.length, 3);
    assert.equal(summarize(out).failed, 1);

    fail = false;
    const again = await judgeCompletions(items, 'llm', { llm }, { cache });
    assert.equal(server.chatRequests.length, 4, 'only the failed completion is asked again');
    assert.equal(again[2]!.verdict?.aligns, false);
  } finally {
    await server.close();
  }
});

test('a policy without its judge is refused before anything runs', async () => {
  await assert.rejects(judgeCompletions(ITEMS, 'rules>llm', { rules: new RulesJudge() }), /needs the llm judge/);
});
