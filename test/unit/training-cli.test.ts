/**
 * The CLI's run / ps / stop / logs / replay on real processes. One `run --detach` goes through a
 * real `grpo-studio` process that exits at once: the run's exit code is still recorded afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/io';
import { StdoutMetrics } from '../../src/core/training/metrics';
import { readProcess } from '../../src/core/training/process-table';
import { readRun, runDir } from '../../src/core/training/run-folder';
import { RunManager } from '../../src/core/training/run-manager';
import { parseRecordLine } from '../../src/core/schema/record';

const ws = mkdtempSync(join(tmpdir(), 'grpo-cli-'));
const repo = new URL('../..', import.meta.url).pathname;
after(async () => {
  const sweep = new RunManager({ workspace: ws });
  for (const r of sweep.reattach()) if (r.live) await sweep.stop(r.id, { intGraceMs: 200, termGraceMs: 200 });
  sweep.dispose();
  rmSync(ws, { recursive: true, force: true });
});

mkdirSync(join(ws, '.vscode'));
writeFileSync(
  join(ws, '.vscode', 'grpo-studio.json'),
  JSON.stringify({
    profiles: [
      { name: 'crash-later', command: ['python3', '-c', 'import sys, time; print("training", flush=True); time.sleep(1.5); sys.exit(3)'] },
      { name: 'hello', command: 'echo "hello $GREETING"; echo oops >&2', shell: true, env: { GREETING: 'world' } },
      { name: 'tree', command: ['python3', '-c', 'import signal, subprocess, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); subprocess.Popen([sys.executable, "-c", "import os, signal, time; os.setsid(); signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"]); time.sleep(600)'] },
    ],
  }),
);

function captureIO(): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
    env: process.env,
    cwd: ws,
  };
  return io;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('run --detach from a CLI process that exits at once; the exit code is recorded later', async () => {
  const out = execFileSync(process.execPath, ['--import', pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href, join(repo, 'src/cli/main.ts'), 'run', 'crash-later', '--detach'], { cwd: ws, encoding: 'utf8' });
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 1);
  const { run, pid } = JSON.parse(lines[0]!) as { run: string; pid: number };
  assert.match(run, /^crash-later-\d{8}-\d{6}-[0-9a-f]{4}$/);
  assert.equal(typeof pid, 'number');
  const ps = captureIO();
  assert.equal(await main(['ps', '--json'], ps), 0);
  const row = (JSON.parse(ps.stdout) as { run: string; status: string; live: boolean; pid: number }[]).find((r) => r.run === run)!;
  assert.deepEqual([row.status, row.live, row.pid], ['running', true, pid]);
  let rec = readRun(runDir(ws, run))!;
  for (let i = 0; i < 100 && rec.status === 'running'; i++) {
    await sleep(100);
    rec = readRun(runDir(ws, run))!;
  }
  assert.equal(rec.status, 'failed');
  assert.equal(rec.exitCode, 3);
  const logs = captureIO();
  assert.equal(await main(['logs', run.slice(0, -2)], logs), 0, 'a unique prefix names the run');
  assert.equal(logs.stdout, 'training\n');
  const table = captureIO();
  await main(['ps'], table);
  assert.match(table.stdout, new RegExp(`^${run}\\s+failed\\s+${pid}\\s+\\S+ \\S+\\s+3$`, 'm'));
});

test('run in the foreground streams output and env, and returns the run exit status', async () => {
  const io = captureIO();
  assert.equal(await main(['run', 'hello'], io), 0);
  assert.equal(io.stdout, 'hello world\n');
  assert.match(io.stderr, /oops\n/);
  assert.match(io.stderr, /run hello-\S+ exited \(exit code 0\)/);
  await assert.rejects(main(['run', 'nope'], captureIO()), /no profile 'nope' \(have: crash-later, hello, tree\)/);
});

test('stop --timeout ends a tree whose workers ignore SIGINT / SIGTERM and left the session', async () => {
  const io = captureIO();
  assert.equal(await main(['run', 'tree', '--detach'], io), 0);
  const { run } = JSON.parse(io.stdout) as { run: string };
  const m = new RunManager({ workspace: ws });
  let pids: number[] = [];
  // Until the launcher and its worker are up (pyenv shims run a few short-lived bash processes first).
  const ready = () => pids.length === 2 && pids.every((p) => /python/.test(readProcess(p)?.comm ?? ''));
  for (let i = 0; i < 100 && !ready(); i++) {
    await sleep(100);
    pids = m.processesOf(run);
  }
  m.dispose();
  assert.equal(pids.length, 2, pids.map((p) => `${p}: ${JSON.stringify(readProcess(p))} ${readFileSync(`/proc/${p}/cmdline`, 'utf8')}`).join('\n'));
  const stop = captureIO();
  assert.equal(await main(['stop', run, '--timeout', '2'], stop), 0);
  assert.match(stop.stdout, /^stopped .* \(SIGKILL, 2 processes\)\n$/);
  assert.match(stop.stderr, /SIGINT -> 2 processes\n.*SIGTERM -> 2 processes\n.*SIGKILL -> 1 process\n/s);
  // Gone from /proc, or a zombie awaiting its reaper (it holds no memory any more).
  for (const pid of pids) assert.ok(['gone', 'Z'].includes(readProcess(pid)?.state ?? 'gone'), `pid ${pid} survived`);
  assert.equal(readRun(runDir(ws, run))!.status, 'stopped');
  await assert.rejects(main(['stop', 'no-such-run'], captureIO()), /no run 'no-such-run'/);
});

test('replay re-emits rollouts at the recorded pace and metric lines the stdout parser reads', async () => {
  const rec = join(ws, 'recorded');
  mkdirSync(join(rec, 'images'), { recursive: true });
  const t0 = 1_700_000_000;
  const line = (step: number, g: number, i: number, reward: number, dt: number) =>
    JSON.stringify({ v: 1, step, group: `${step}/${g}`, index: i, prompt: { text: 'q', images: ['images/a.png'] }, completion: 'one two three', rewards: { accuracy: reward, format: 0.5 }, reward: reward + 0.5, meta: { time: t0 + dt } });
  writeFileSync(join(rec, 'rollouts.jsonl'), [line(1, 0, 0, 1, 0), line(1, 0, 1, 0, 0), line(2, 0, 0, 1, 0.4), line(2, 0, 1, 1, 0.4), 'not json'].join('\n') + '\n');
  const io = captureIO();
  const started = Date.now();
  assert.equal(await main(['replay', 'recorded', '--speed', '2', '--out', 'replayed/out.jsonl'], io), 0);
  const took = Date.now() - started;
  assert.ok(took >= 190 && took < 2000, `0.4 s of recording at speed 2 took ${took} ms`);
  assert.match(io.stderr, /skipped 1 unreadable lines/);
  const lines = readFileSync(join(ws, 'replayed', 'out.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 4);
  const first = parseRecordLine(lines[0]!);
  assert.ok(first.ok);
  assert.deepEqual(first.record.prompt?.images, [join(rec, 'images', 'a.png')], 'image paths made absolute');
  const metrics = new StdoutMetrics();
  const points = io.stdout.split('\n').flatMap((l) => metrics.push(l));
  const at = (step: number, name: string) => points.find((p) => p.step === step && p.name === name)?.value;
  assert.equal(at(1, 'rewards/accuracy'), 0.5);
  assert.equal(at(1, 'reward'), 1);
  assert.equal(at(1, 'reward_std'), Math.SQRT1_2, 'sample std of [1.5, 0.5]');
  assert.equal(at(2, 'reward_std'), 0);
  assert.equal(at(2, 'frac_reward_zero_std'), 1);
  assert.equal(at(2, 'completion_length'), 3);
  assert.match(io.stdout, /^ 50%\|█████     \| 1\/2 \[00:00</m);
});
