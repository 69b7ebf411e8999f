/**
 * `grpo-studio judge` as a user runs it: a child process against a real loopback server.
 * Covers the output lines and summary, resume after SIGKILL (counted at the server), and that
 * the API key appears in no file, output line or process argument the run produces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeOpenAI, type Fault } from '../support/openaiServer';

const ROOT = join(__dirname, '../..');
const KEY = 'sk-proj-NEVER-WRITE-THIS-7f3a9c21';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  argv: string;
}

/** Start the CLI; `whileRunning` may inspect or kill it. */
function cli(args: string[], env: Record<string, string> = {}, whileRunning?: (pid: number, kill: () => void) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'judge', ...args], {
      cwd: ROOT,
      env: { ...process.env, OPENAI_API_KEY: '', ...env },
    });
    let out = '';
    let err = '';
    let argv = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // What anyone on the machine sees with ps: the process's arguments.
    setTimeout(() => {
      try {
        argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
      } catch {
        argv = '(exited)';
      }
    }, 300);
    whileRunning?.(child.pid!, () => child.kill('SIGKILL'));
    child.on('close', (code, signal) => resolve({ code, signal, out, err, argv }));
  });
}

const jsonLines = (text: string): Array<Record<string, unknown>> => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const c = (think: string, answer: string): string => `<think>${think}</think><answer>${answer}</answer>`;

function writeRun(dir: string, records: unknown[]): string {
  const file = join(dir, 'rollouts.jsonl');
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

test('rules tier: one JSON line per completion in file order, bad lines on stderr, and the summary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'judge-cli-'));
  const file = join(dir, 'rollouts.jsonl');
  writeFileSync(
    file,
    [
      JSON.stringify({ v: 1, group: 'g1', prompt: { text: 'Which?' }, completion: c('red, so the answer is B.', 'B') }),
      JSON.stringify({ v: 1, group: 'g1', prompt: { text: 'Which?' }, completion: c('red, so the answer is B.', 'C') }),
      '{"v":1,"completion": oops',
      JSON.stringify({ v: 1, group: 'g2', completion: 'no tags' }),
      JSON.stringify({ v: 1, group: 'g2', completion: c('I look at it.', 'A') }),
    ].join('\n') + '\n',
  );
  const r = await cli([file, '--json']);
  assert.equal(r.code, 0, r.err);
  const lines = jsonLines(r.out);
  const summary = lines.pop()!;
  assert.deepEqual(
    lines.map((l) => [l.line, l.group, l.aligns, l.type, l.tier, l.cached]),
    [
      [1, 'g1', true, null, 'rules', false],
      [2, 'g1', false, 'contradiction', 'rules', false],
      [4, 'g2', null, null, 'rules', false],
      [5, 'g2', null, null, 'rules', false],
    ],
  );
  assert.match(String(lines[1]!.why), /concludes B/);
  assert.deepEqual(summary, { judged: 4, aligned: 1, misaligned: 1, unparseable: 2, failed: 0, cached: 0, calls: 0, prompt_tokens: 0, completion_tokens: 0, dollars: null });
  assert.match(r.err, /rollouts\.jsonl:3: invalid JSON/);
  assert.ok(existsSync(`${file}.verdicts.jsonl`));
  // Again: everything comes from the cache.
  const again = await cli([file, '--json']);
  assert.equal(jsonLines(again.out).pop()!.cached, 4);
  const bad = await cli([file, '--tier', 'nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown --tier 'nope'/);
  const noKey = await cli([file, '--tier', 'llm']);
  assert.equal(noKey.code, 2);
  assert.match(noKey.err, /needs OPENAI_API_KEY/);
});

test('cascade over the LLM: faults end judged or failed with the reason; the key is nowhere in what the run produces', async () => {
  const faults: Record<number, Fault> = {
    1: { kind: 'rate_limit', retryAfter: '0' },
    2: { kind: 'server_error' },
  };
  const server = await startFakeOpenAI({
    latencyMs: 150,
    fault: (n, prompt) => faults[n] ?? (prompt.includes('refuse me') ? { kind: 'refusal' } : prompt.includes('echo key') ? { kind: 'unauthorized' } : null),
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'judge-cli-'));
    const file = writeRun(dir, [
      { v: 1, group: 'a', completion: c('The mug is on the desk.', 'mug') },
      { v: 1, group: 'a', completion: c('Nothing about color here.', 'green') },
      { v: 1, group: 'b', completion: c('refuse me please', 'x') },
      { v: 1, group: 'b', completion: c('echo key now', 'y') },
      { v: 1, group: 'b', completion: c('so the answer is B.', 'B') },
    ]);
    const r = await cli([file, '--tier', 'cascade', '--base-url', server.url, '--model', 'judge-test', '--concurrency', '2', '--json', '--price', '1,2'], { OPENAI_API_KEY: KEY });
    assert.equal(r.code, 1, 'some completions could not be judged');
    const lines = jsonLines(r.out);
    const summary = lines.pop()!;
    const byLine = new Map(lines.map((l) => [l.line, l]));
    assert.equal(lines.length, 5, 'every completion reported exactly once');
    assert.deepEqual([byLine.get(1)!.aligns, byLine.get(1)!.tier], [true, 'llm']);
    assert.deepEqual([byLine.get(2)!.aligns, byLine.get(2)!.type], [false, 'contradiction']);
    assert.match(String(byLine.get(3)!.error), /^llm: the judge refused/);
    assert.match(String(byLine.get(4)!.error), /^llm: HTTP 401: .*\[api key\]/);
    assert.deepEqual([byLine.get(5)!.aligns, byLine.get(5)!.tier], [true, 'rules']);
    assert.equal(summary.failed, 2);
    assert.equal(summary.judged, 3);
    // 4 completions reach the LLM; the 429 and the 500 each cost one extra request.
    assert.equal(server.chatRequests.length, 6);
    assert.equal(summary.calls, 6);
    const okPrompts = server.chatRequests.filter((q) => q.fault === null || q.fault === 'refusal');
    assert.equal(summary.prompt_tokens, okPrompts.reduce((s, q) => s + Math.ceil(q.prompt.length / 4), 0));
    assert.equal(summary.completion_tokens, 20 * okPrompts.length);
    assert.match(r.err, /llm estimate \(at most\): 5 completions/);
    assert.match(r.err, /llm used: 6 requests/);
    // The key went where it must (the Authorization header) and nowhere else.
    assert.equal(server.chatRequests[0]!.authorization, `Bearer ${KEY}`);
    assert.ok(r.argv.includes('judge') && !r.argv.includes(KEY), `argv: ${r.argv}`);
    assert.ok(!r.out.includes(KEY) && !r.err.includes(KEY));
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isFile()) assert.ok(!readFileSync(p, 'utf8').includes(KEY), `${f} holds the key`);
    }
  } finally {
    await server.close();
  }
});

test('SIGKILL mid-run: the cache stays readable (even torn) and the re-run makes only the missing calls', async () => {
  const server = await startFakeOpenAI({ latencyMs: 80 });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'judge-cli-'));
    const N = 24;
    const file = writeRun(
      dir,
      Array.from({ length: N }, (_, i) => ({ v: 1, group: `g${i % 4}`, completion: c(`Looking closely, item ${i} is shown.`, `item ${i}`) })),
    );
    const cachePath = join(dir, 'verdicts.jsonl');
    const args = [file, '--tier', 'llm', '--base-url', server.url, '--model', 'judge-test', '--concurrency', '2', '--cache', cachePath, '--json'];
    const first = await cli(args, { OPENAI_API_KEY: KEY }, (_pid, kill) => {
      const poll = setInterval(() => {
        if (existsSync(cachePath) && readFileSync(cachePath, 'utf8').split('\n').length > 6) {
          clearInterval(poll);
          kill();
        }
      }, 10);
    });
    assert.equal(first.signal, 'SIGKILL');
    const firstCalls = server.chatRequests.length;
    assert.ok(firstCalls < N, `killed before the end (${firstCalls} calls)`);
    // Simulate the worst moment to die: half a verdict line at the end.
    const done = readFileSync(cachePath, 'utf8').trim().split('\n');
    appendFileSync(cachePath, done[0]!.slice(0, 50));
    const doneKeys = new Set(done.map((l) => (JSON.parse(l) as { key: string }).key));
    assert.equal(doneKeys.size, done.length, 'no verdict written twice');

    const second = await cli(args, { OPENAI_API_KEY: KEY });
    assert.equal(second.code, 0, second.err);
    const lines = jsonLines(second.out);
    const summary = lines.pop()!;
    assert.equal(server.chatRequests.length - firstCalls, N - done.length, 'only the missing calls');
    assert.equal(summary.calls, N - done.length);
    assert.equal(summary.cached, done.length);
    assert.equal(lines.filter((l) => l.cached === true).length, done.length);
    assert.equal(lines.filter((l) => l.aligns === true).length, N);
    assert.match(second.err, /skipped 1 unreadable line/);
    // Every completion's prompt reached the server at least once; none judged twice after the kill.
    const prompts = server.chatRequests.slice(firstCalls).map((q) => q.prompt);
    assert.equal(new Set(prompts).size, prompts.length);
    const third = await cli(args, { OPENAI_API_KEY: KEY });
    assert.equal(jsonLines(third.out).pop()!.calls, 0);
  } finally {
    await server.close();
  }
});
