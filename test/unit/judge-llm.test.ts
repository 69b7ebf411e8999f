import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LlmJudge, type PreparedItem } from '../../src/core/judge/llm';
import { BatchLlmJudge, judgeWithBatchApi } from '../../src/core/judge/batch';
import { judgeCompletions } from '../../src/core/judge/cascade';
import { parseJudgeReply, renderPrompt, DEFAULT_JUDGE_TEMPLATE } from '../../src/core/judge/prompt';
import { parseRetryAfter, retryDelay } from '../../src/core/judge/retry';
import { estimateCost } from '../../src/core/judge/cost';
import { isFailure, type JudgeOutcome, type JudgeVerdict } from '../../src/core/judge/verdict';
import { startFakeOpenAI, type FakeOpenAIOptions } from '../support/openaiServer';

const KEY = 'sk-test-judge-llm-0000';

function item(reasoning: string, answer: string, question = 'Which option is right?'): PreparedItem {
  return { completion: `<think>${reasoning}</think><answer>${answer}</answer>`, question, input: { question, reasoning, answer } };
}
const ALIGNED = item('The red cube is left of the ball, so the answer is B.', 'B');
const MISALIGNED = item('The cube is clearly on the left.', 'right');

function verdict(o: JudgeOutcome): JudgeVerdict {
  if (isFailure(o)) assert.fail(`expected a verdict, got failure: ${o.reason}`);
  return o;
}

async function withServer(opts: FakeOpenAIOptions, body: (url: string, server: Awaited<ReturnType<typeof startFakeOpenAI>>) => Promise<void>): Promise<void> {
  const server = await startFakeOpenAI(opts);
  try {
    await body(server.url, server);
  } finally {
    await server.close();
  }
}

const fast = { baseDelayMs: 5, maxRetries: 3, maxDelayMs: 5000 };

test('aligned and misaligned verdicts through the real openai client with json_schema output', async () => {
  await withServer({}, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'judge-test', apiKey: KEY, retry: fast });
    const [a, m] = await judge.judgeAll([ALIGNED, MISALIGNED]);
    assert.equal(verdict(a!).aligns, true);
    assert.equal(verdict(a!).type, null);
    assert.equal(verdict(m!).aligns, false);
    assert.equal(verdict(m!).type, 'contradiction');
    assert.equal(verdict(m!).tier, 'llm');
    assert.equal(verdict(m!).model, 'judge-test');
    assert.match(verdict(m!).key, /^[0-9a-f]{64}$/);
    assert.deepEqual(server.chatRequests.map((r) => r.responseFormat), ['json_schema', 'json_schema']);
    assert.equal(server.chatRequests[0]!.authorization, `Bearer ${KEY}`);
    // Usage is what the server reported: ceil(len/4) prompt tokens + 20 per reply.
    const expected = [ALIGNED, MISALIGNED].reduce((s, i) => s + Math.ceil(judge.prompt(i.input).length / 4), 0);
    assert.equal(judge.actual().promptTokens, expected);
    assert.equal(judge.actual().completionTokens, 40);
    assert.equal(judge.requests, 2);
  });
});

test('a server without json_schema gets json_object, one without either gets plain text read leniently', async () => {
  await withServer({ lacks: ['json_schema'] }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: fast, concurrency: 1 });
    const out = await judge.judgeAll([ALIGNED, MISALIGNED]);
    assert.equal(verdict(out[0]!).aligns, true);
    assert.equal(verdict(out[1]!).aligns, false);
    // One rejected request, then the lower mode sticks for the rest of the run.
    assert.deepEqual(server.chatRequests.map((r) => r.responseFormat), ['json_schema', 'json_object', 'json_object']);
    assert.equal(judge.mode, 'json_object');
  });
  for (const textStyle of ['fenced', 'word'] as const) {
    await withServer({ lacks: ['json_schema', 'json_object'], textStyle }, async (url, server) => {
      const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: fast, concurrency: 1 });
      const out = await judge.judgeAll([ALIGNED, MISALIGNED]);
      assert.equal(verdict(out[0]!).aligns, true, textStyle);
      assert.equal(verdict(out[1]!).aligns, false, textStyle);
      assert.deepEqual(server.chatRequests.map((r) => r.responseFormat), ['json_schema', 'json_object', 'text', 'text']);
    });
  }
});

test('429 with Retry-After in seconds and as an HTTP date is waited out, not our tiny backoff', async () => {
  await withServer({ fault: (n) => (n === 1 ? { kind: 'rate_limit', retryAfter: '1' } : null) }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: fast });
    assert.equal(verdict(await judge.judge(ALIGNED)).aligns, true);
    const gap = server.chatRequests[1]!.at - server.chatRequests[0]!.at;
    assert.ok(gap >= 950, `waited ${gap} ms for Retry-After: 1`);
    assert.equal(judge.retries, 1);
  });
  // HTTP dates have whole-second resolution: two seconds ahead is at least one second's wait.
  const date = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000).toUTCString();
  await withServer({ fault: (n) => (n === 1 ? { kind: 'rate_limit', retryAfter: date } : null) }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: fast });
    assert.equal(verdict(await judge.judge(ALIGNED)).aligns, true);
    const gap = server.chatRequests[1]!.at - server.chatRequests[0]!.at;
    assert.ok(gap >= 900, `waited ${gap} ms for Retry-After: ${date}`);
  });
});

test('500, malformed body, truncated body and a hung response are retried until a verdict', async () => {
  const faults = { 1: 'server_error', 2: 'malformed', 3: 'truncated', 4: 'hang' } as const;
  await withServer({ fault: (n) => (n in faults ? { kind: faults[n as 1] } : null) }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: { ...fast, maxRetries: 5 }, timeoutMs: 400 });
    const started = Date.now();
    assert.equal(verdict(await judge.judge(MISALIGNED)).aligns, false);
    assert.deepEqual(server.chatRequests.map((r) => r.fault), ['server_error', 'malformed', 'truncated', 'hang', null]);
    assert.equal(judge.retries, 4);
    assert.ok(Date.now() - started >= 400, 'the hung attempt ran into the timeout');
  });
});

test('a judge that keeps failing ends with the reason; a refusal is not retried', async () => {
  await withServer({ fault: () => ({ kind: 'server_error' }) }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: { ...fast, maxRetries: 2 } });
    const o = await judge.judge(ALIGNED);
    assert.ok(isFailure(o));
    assert.match(o.reason, /HTTP 500.*after 3 attempts/);
    assert.equal(server.chatRequests.length, 3);
  });
  await withServer({ fault: () => ({ kind: 'hang' }) }, async (url) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: { ...fast, maxRetries: 1 }, timeoutMs: 150 });
    const o = await judge.judge(ALIGNED);
    assert.ok(isFailure(o));
    assert.match(o.reason, /^timeout: no complete reply within 150 ms \(after 2 attempts\)$/);
  });
  await withServer({ fault: () => ({ kind: 'refusal' }) }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: fast });
    const o = await judge.judge(ALIGNED);
    assert.ok(isFailure(o));
    assert.match(o.reason, /refused: I'm sorry/);
    assert.equal(server.chatRequests.length, 1);
  });
});

test('concurrency limit holds at the server, and cancelling ends every pending item as cancelled', async () => {
  await withServer({ latencyMs: 60 }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: fast, concurrency: 3 });
    const items = Array.from({ length: 9 }, (_, i) => item(`step ${i} gives ${i}`, String(i)));
    const out = await judge.judgeAll(items);
    assert.equal(out.filter((o) => !isFailure(o) && o.aligns === true).length, 9);
    assert.equal(server.maxInFlight(), 3);
  });
  await withServer({ latencyMs: 200 }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY, retry: fast, concurrency: 2 });
    const ac = new AbortController();
    const items = Array.from({ length: 6 }, (_, i) => item(`r${i}`, String(i)));
    setTimeout(() => ac.abort(), 80);
    const out = await judge.judgeAll(items, { signal: ac.signal });
    assert.deepEqual(out.map((o) => (isFailure(o) ? o.reason : 'judged')), Array(6).fill('cancelled'));
    assert.equal(server.chatRequests.length, 2, 'nothing is sent after the cancel');
  });
});

test('the estimate comes from character counts before any call', () => {
  const judge = new LlmJudge({ baseURL: 'http://127.0.0.1:9/v1', model: 'gpt-x', apiKey: KEY, prices: { 'gpt-x': { input: 2, output: 8 } } });
  const e = judge.estimate([ALIGNED, MISALIGNED]);
  const chars = judge.prompt(ALIGNED.input).length + judge.prompt(MISALIGNED.input).length;
  assert.equal(e.promptTokens, Math.ceil(judge.prompt(ALIGNED.input).length / 4) + Math.ceil(judge.prompt(MISALIGNED.input).length / 4));
  assert.ok(Math.abs(e.promptTokens - chars / 4) <= 2);
  assert.equal(e.completionTokens, 120);
  assert.equal(e.dollars, (e.promptTokens * 2 + 120 * 8) / 1e6);
  assert.equal(estimateCost(['abcd'], 'unpriced').dollars, null);
});

test('lenient reply parser: schema JSON, fences, trailing prose, words, string booleans', () => {
  const cases: Array<[string, boolean | null, string | null]> = [
    ['{"aligns": true, "type": null, "why": "ok"}', true, null],
    ['```json\n{"aligns": false, "type": "missing_detail", "why": "x"}\n```', false, 'missing_detail'],
    ['{"aligns": false, "type": "contradiction", "why": "a {brace} in text"} I hope this helps!', false, 'contradiction'],
    ['Sure. {"aligns": "yes", "why": "fine"}', true, null],
    ['{"aligns": "false", "type": "Missing detail", "why": "x"}', false, 'missing_detail'],
    ['{"aligns": false, "type": "weird", "why": "x"}', false, 'other'],
    ['Yes, the reasoning supports it.', true, null],
    ['no - it picks C but argues for A', false, 'other'],
    ['TRUE', true, null],
  ];
  for (const [text, aligns, type] of cases) {
    const r = parseJudgeReply(text);
    assert.ok(r.ok, text);
    assert.equal(r.reply.aligns, aligns, text);
    assert.equal(r.reply.type, type, text);
  }
  assert.equal(parseJudgeReply('').ok, false);
  assert.equal(parseJudgeReply('I am not sure about this one.').ok, false);
  assert.equal(parseJudgeReply('{"verdict": 1}').ok, false);
});

test('prompt template fills each field once and never re-expands braces inside model text', () => {
  const p = renderPrompt('Q={question} R={reasoning} A={answer}', { question: 'q {answer}', reasoning: 'r', answer: 'B' });
  assert.equal(p, 'Q=q {answer} R=r A=B');
  assert.ok(DEFAULT_JUDGE_TEMPLATE.includes('JSON'), 'json_object mode requires the word JSON in the prompt');
});

test('Retry-After parsing and backoff', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('1.5', now), 1500);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter(null, now), null);
  const policy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(retryDelay(0, policy, null, () => 0), 50);
  assert.equal(retryDelay(2, policy, null, () => 1), 400);
  assert.equal(retryDelay(9, policy, null, () => 1), 1000);
  assert.equal(retryDelay(0, policy, 5000, () => 0), 1000, 'capped even when the server asks for more');
});

test('Batch API: upload JSONL, create, poll, download; verdicts match live calls and feed the cascade', async () => {
  await withServer({ batchPolls: 3 }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY });
    const statuses: string[] = [];
    const out = await judgeWithBatchApi(judge, [ALIGNED, MISALIGNED, ALIGNED], { pollMs: 5, onStatus: (s) => statuses.push(s) });
    assert.deepEqual(out.map((o) => verdict(o).aligns), [true, false, true]);
    assert.deepEqual(statuses, ['validating', 'in_progress', 'completed']);
    assert.equal(server.chatRequests.length, 0, 'no live calls');
    assert.deepEqual(
      server.requests.filter((r) => !r.startsWith('GET /v1/batches/')),
      ['POST /v1/files', 'POST /v1/batches', 'GET /v1/files/file-2/content'],
    );
    assert.equal(server.requests.filter((r) => r.startsWith('GET /v1/batches/')).length, 3);
    assert.equal(judge.actual().completionTokens, 60);
    // Same prompt and model as a live call: the same cache key.
    const live = verdict(await judge.judge(MISALIGNED));
    assert.equal(verdict(out[1]!).key, live.key);
    const viaCascade = await judgeCompletions([ALIGNED, MISALIGNED], 'llm', { llm: new BatchLlmJudge(judge, { pollMs: 5 }) });
    assert.deepEqual(viaCascade.map((r) => r.verdict?.aligns), [true, false]);
  });
});

test('Batch API: cancelling while polling cancels the batch at the server', async () => {
  await withServer({ batchPolls: 1000 }, async (url, server) => {
    const judge = new LlmJudge({ baseURL: url, model: 'm', apiKey: KEY });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 60);
    const out = await judgeWithBatchApi(judge, [ALIGNED], { pollMs: 10, signal: ac.signal });
    assert.ok(isFailure(out[0]!) && out[0].reason === 'cancelled');
    assert.ok(server.requests.includes('POST /v1/batches/batch_1/cancel'));
  });
});
