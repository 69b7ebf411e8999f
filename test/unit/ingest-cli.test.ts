import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRecordLine, type RolloutRecord } from '../../src/core/schema/record';
import { writeEasyr1, writeTrl, writeVerl, writeVlmr1 } from '../fixtures/formats/trainers';

// The real CLI in a child process, as a user runs it from a checkout.
const ROOT = join(__dirname, '../..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ingest-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function exported(out: string): RolloutRecord[] {
  return out.trim().split('\n').map((l) => {
    const r = parseRecordLine(l);
    assert.ok(r.ok, `export wrote a line parseRecordLine rejects: ${l}`);
    return r.record;
  });
}

test('export --format X round-trips every adapter to canonical v1 lines; bad input goes to stderr', async () => {
  const verl = writeVerl(join(dir, 'v'));
  const trl = await writeTrl(join(dir, 't'), { config: 2 });
  const vlm = writeVlmr1(join(dir, 'm'));
  const easy = writeEasyr1(join(dir, 'e'));
  const native = join(dir, 'n.rollouts.jsonl');
  writeFileSync(native, JSON.stringify({ v: 1, step: 4, completion: 'x', custom: { a: 1 } }) + '\n');

  const cases: [string, string, number, number, (recs: RolloutRecord[]) => void][] = [
    ['native', native, 1, 0, (r) => assert.deepEqual(r[0]!.extra, { custom: { a: 1 } })],
    ['verl', verl, 9, 3, (r) => assert.deepEqual([r[0]!.group, r[0]!.reward, r[8]!.step], ['1/0', 1.5, 10])],
    ['trl', trl, 8, 0, (r) => assert.deepEqual([r[2]!.completion, r[2]!.group, r[5]!.group, r[6]!.group, r[0]!.rewards], ['c3 é', '1/1', '2/0', '2/1', { accuracy_reward: 1, format_reward: 1 }])],
    ['vlmr1', vlm, 5, 1, (r) => assert.deepEqual([r[1]!.possible_answers, r[1]!.rewards, r[4]!.step], [['bike', 'bicycle'], { accuracy: 0, format: 0 }, 0])],
    ['easyr1', easy, 2, 2, (r) => assert.deepEqual([r[0]!.reward, r[1]!.step], [1, 5])],
  ];
  for (const [format, path, n, bad, check] of cases) {
    for (const args of [['export', '--format', format, path], ['export', path]]) {
      const r = cli(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      const recs = exported(r.out);
      assert.equal(recs.length, n, args.join(' '));
      check(recs);
      // Source notes (`<file>[:<line>]: note: …`) are not bad lines; test/unit/commands-formats.test.ts checks them.
      const errLines = r.err.trim() === '' ? [] : r.err.trim().split('\n').filter((l) => !/^[^:]+(:\d+)?: note: /.test(l));
      assert.equal(errLines.length, bad, `${args.join(' ')}: ${r.err}`);
    }
  }
  const wrong = cli('export', '--format', 'nope', verl);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /unknown --format 'nope'/);
});

test('stats and score read a folder of per-step files with --format', () => {
  const verl = writeVerl(join(dir, 'v2'));
  const s = cli('stats', '--json', '--format', 'verl', verl);
  assert.equal(s.code, 0, s.err);
  const st = JSON.parse(s.out);
  assert.equal(st.completions, 9);
  assert.deepEqual(st.steps, [1, 10]);
  assert.equal(st.groups, 5); // 1/0 1/1 2/0 2/1 10/0
  assert.equal(st.bad_lines.length, 3);
  const sc = cli('score', verl);
  assert.equal(sc.code, 0, sc.err);
  assert.deepEqual(sc.out.trim().split('\n').map((l) => JSON.parse(l).group), ['1/0', '1/1', '1/0', '1/1', '2/0', '2/0', '2/1', '10/0', '10/0']); // 1.jsonl is balanced: its prompts interleave
});

test('stats --follow prints one JSON line per step while a writer child process grows the file', async () => {
  const file = join(dir, 'live.rollouts.jsonl');
  writeFileSync(file, '');
  const stats = spawn(process.execPath, ['--import', 'tsx', MAIN, 'stats', '--follow', '--format', 'native', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: { step: number; completions: number; groups: number; format_failures: number }[] = [];
  let buf = '';
  let err = '';
  stats.stdout.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  stats.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((r) => stats.on('exit', (code) => r(code)));

  const writer = fork(join(ROOT, 'test', 'fixtures', 'formats', 'growing-writer.ts'), [file, '5'], { execArgv: ['--import', 'tsx'] });
  const finished = new Promise<void>((resolve) => writer.on('message', (m: { done?: string }) => m.done === 'steps' && resolve()));
  let linesWhileGrowing = -1;
  await new Promise<void>((r) => writer.once('message', () => r())); // ready
  await new Promise((r) => setTimeout(r, 1500)); // the CLI is up and following
  writer.send({ cmd: 'steps', steps: 4, perStep: 6, delayMs: 700 });
  await finished;
  linesWhileGrowing = lines.length;
  writer.send({ cmd: 'exit' });
  const t0 = Date.now();
  while (lines.length < 3 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
  stats.kill('SIGTERM');
  assert.equal(await exited, 0, err);
  assert.ok(linesWhileGrowing >= 2, `only ${linesWhileGrowing} step lines while the file grew`);
  assert.deepEqual(lines.map((l) => [l.step, l.completions, l.groups, l.format_failures]), [
    [0, 6, 3, 6],
    [1, 6, 3, 6],
    [2, 6, 3, 6],
    [3, 6, 3, 6],
  ]);
  assert.equal(err, '');
});
