/**
 * Real process trees (python3 workers), real /proc: stop, crash, resume, reattach.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isAlive, readProcess } from '../../src/core/training/process-table';
import type { RunProfile } from '../../src/core/training/profile';
import { readRun, runDir, writeJson } from '../../src/core/training/run-folder';
import { RunManager, type RunInfo } from '../../src/core/training/run-manager';

const ws = mkdtempSync(join(tmpdir(), 'grpo-train-'));
const managers: RunManager[] = [];
after(async () => {
  // A failed assertion must not leave processes behind: stop whatever is still live.
  const sweep = new RunManager({ workspace: ws });
  for (const r of sweep.reattach()) if (r.live) await sweep.stop(r.id, { intGraceMs: 200, termGraceMs: 200 });
  sweep.dispose();
  for (const m of managers) m.dispose();
  rmSync(ws, { recursive: true, force: true });
});

function manager(): RunManager {
  const m = new RunManager({ workspace: ws, pollMs: 100 });
  managers.push(m);
  return m;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// Like torchrun: a launcher with workers, each with a child; some ignore SIGINT/SIGTERM, one setsid()s.
const LAUNCHER = `
import os, signal, subprocess, sys, time
worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'worker.py')
for kind in ['plain', 'ignore-int', 'ignore-int-term', 'setsid']:
    subprocess.Popen([sys.executable, worker, kind])
time.sleep(600)
`;
const WORKER = `
import os, signal, subprocess, sys, time
kind = sys.argv[1]
if kind == 'setsid':
    os.setsid()
if 'int' in kind:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
if 'term' in kind:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, '-c', 'import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)'])
print('worker', kind, os.getpid(), 'child', child.pid, flush=True)
time.sleep(600)
`;

test('stop leaves no survivor of a tree with signal-ignoring and setsid workers', async () => {
  const dir = join(ws, 'launcher');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'launch.py'), LAUNCHER);
  writeFileSync(join(dir, 'worker.py'), WORKER);
  const m = manager();
  const run = await m.launch({ name: 'tree', command: ['python3', 'launch.py'], cwd: 'launcher' });
  assert.equal(run.live, true);
  assert.ok(run.record.pid && run.record.startTicks !== undefined);
  const stdout = join(run.dir, 'stdout.log');
  // Generous: five python starts on a loaded 2-CPU machine once took over 15 s (a wait, not a timing).
  await until('4 workers', () => readFileSync(stdout, 'utf8').split('\n').filter((l) => l.startsWith('worker')).length === 4, 60_000).catch((e: Error) => {
    const stderr = join(run.dir, 'stderr.log');
    throw new Error(`${e.message}\nstdout:\n${readFileSync(stdout, 'utf8')}\nstderr:\n${existsSync(stderr) ? readFileSync(stderr, 'utf8') : '(none)'}`);
  });
  const ids = await until('9 processes', () => {
    const pids = m.processesOf(run.id);
    return pids.length === 9 && pids;
  }, 60_000);
  const tree = ids.map((pid) => ({ pid, startTicks: readProcess(pid)!.startTicks }));
  // The setsid worker left the run's process group and session.
  const groups = new Set(ids.map((pid) => readProcess(pid)!.sid));
  assert.ok(groups.size >= 2, 'one worker runs in its own session');

  const stages: string[] = [];
  const r = await m.stop(run.id, { intGraceMs: 800, termGraceMs: 800, killWaitMs: 3000, onStage: (s) => stages.push(s) });
  assert.equal(r.ok, true);
  assert.deepEqual(r.survivors, []);
  assert.deepEqual(stages, ['SIGINT', 'SIGTERM', 'SIGKILL'], 'the SIGTERM-ignoring worker needs SIGKILL');
  for (const p of tree) assert.equal(isAlive(p), false, `pid ${p.pid} survived`);
  const rec = readRun(run.dir)!;
  assert.equal(rec.status, 'stopped');
  assert.equal(rec.exitCode, null, 'the launcher died of a signal');
  assert.equal(rec.signal, 'SIGINT');
});

test('a crashing run records its exit code, last lines and the traceback location', async () => {
  const m = manager();
  const problems: RunInfo['problems'] = [];
  m.on('problem', (e) => problems.push({ stream: e.stream, problem: e.problem }));
  const code = "print('loading model', flush=True)\ndef train():\n    raise ValueError('boom')\ntrain()\n";
  mkdirSync(join(ws, 'crash'), { recursive: true });
  writeFileSync(join(ws, 'crash', 'train.py'), code);
  const run = await m.launch({ name: 'crash', command: ['python3', 'train.py'], cwd: 'crash' });
  const ended = await until('the exit', () => {
    const rec = readRun(run.dir);
    return rec?.status === 'failed' && rec;
  });
  assert.equal(ended.exitCode, 1);
  assert.equal(ended.signal, null);
  assert.deepEqual(ended.lastLines?.stdout, ['loading model']);
  assert.equal(ended.lastLines?.stderr.at(-1), 'ValueError: boom');
  await until('the traceback event', () => problems.length > 0);
  const tb = problems[0]!.problem;
  assert.equal(problems[0]!.stream, 'stderr');
  assert.equal(tb.kind, 'traceback');
  assert.equal(tb.file, join(ws, 'crash', 'train.py'));
  assert.equal(tb.fileLine, 3);
  assert.equal(tb.function, 'train');
  assert.equal(tb.message, 'ValueError: boom');
  assert.equal(tb.startLine, 1);
});

test('resume picks the newest checkpoint by number, not by text', async () => {
  const out = join(ws, 'out-resume');
  for (const n of [2, 999, 1000, 50]) mkdirSync(join(out, `checkpoint-${n}`), { recursive: true });
  writeFileSync(join(out, 'checkpoint-5000'), 'a file, not a checkpoint folder');
  const profile: RunProfile = {
    name: 'resumable',
    command: ['node', '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', '--', '--lr', '1e-5'],
    output_dir: 'out-resume',
  };
  const m = manager();
  const run = await m.launch(profile, { resume: true });
  const want = ['--lr', '1e-5', '--resume_from_checkpoint', join(out, 'checkpoint-1000')];
  assert.deepEqual(run.record.argv.slice(-4), want);
  const rec = await until('the exit', () => readRun(run.dir)?.status === 'exited' && readRun(run.dir));
  assert.equal(rec.exitCode, 0);
  assert.deepEqual(JSON.parse(readFileSync(join(run.dir, 'stdout.log'), 'utf8')), want);
  assert.equal(rec.resumedFrom, join(out, 'checkpoint-1000'));
  // And through the run: resume() re-plans from the recorded profile.
  const again = await m.resume(run.id);
  assert.deepEqual(again.record.argv.slice(-2), ['--resume_from_checkpoint', join(out, 'checkpoint-1000')]);
  await until('the second exit', () => readRun(again.dir)?.status === 'exited');
});

test('reattach finds a live run and refuses a reused pid', async () => {
  const first = manager();
  const run = await first.launch({ name: 'long', command: ['python3', '-c', 'import time; print("up", flush=True); time.sleep(600)'] });
  await until('its first line', () => readFileSync(join(run.dir, 'stdout.log'), 'utf8') === 'up\n');
  first.dispose();

  // A fake run folder whose pid is alive but belongs to someone else (this test process).
  const fakeId = 'fake-20000101-000000-abcd';
  const fakeDir = runDir(ws, fakeId);
  mkdirSync(fakeDir, { recursive: true });
  const me = readProcess(process.pid)!;
  const fake = { ...readRun(run.dir)!, id: fakeId, pid: process.pid, pgid: process.pid, startTicks: me.startTicks + 1, supervisorPid: process.pid, supervisorStartTicks: me.startTicks + 7, status: 'running' };
  writeJson(join(fakeDir, 'launch.json'), fake);
  writeJson(join(fakeDir, 'run.json'), fake);

  const second = manager();
  const outputs: string[] = [];
  second.on('output', (e) => e.run === run.id && outputs.push(e.text));
  const runs = second.reattach();
  const live = runs.find((r) => r.id === run.id)!;
  assert.equal(live.live, true);
  assert.equal(live.status, 'running');
  assert.equal(live.record.pid, run.record.pid);
  assert.equal(outputs.join(''), 'up\n', 'history is replayed from the log file');
  const faked = runs.find((r) => r.id === fakeId)!;
  assert.equal(faked.live, false);
  assert.equal(faked.status, 'lost');
  assert.equal(readRun(fakeDir)!.status, 'lost', 'run.json repaired');
  assert.deepEqual(second.processesOf(fakeId), []);
  assert.equal(isAlive({ pid: process.pid, startTicks: me.startTicks }), true, 'the unrelated process was not touched');

  const statuses: string[] = [];
  second.on('status', (e) => e.id === run.id && statuses.push(e.status));
  const r = await second.stop(run.id, { intGraceMs: 2000 });
  assert.equal(r.ok, true);
  assert.equal(r.stage, 'SIGINT');
  assert.equal(second.get(run.id)!.status, 'stopped');
  assert.ok(statuses.includes('stopped'));
});
