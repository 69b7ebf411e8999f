/**
 * Slurm runs on a real one-node cluster (test/support/slurm.ts starts it: munged, slurmctld,
 * slurmd). Every state the Runs view shows comes from the real squeue here. The TIMEOUT job needs
 * Slurm's smallest limit (one minute) to pass, so it is submitted first and checked last; the
 * others run beside it (the partition lets jobs share the cores).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openSource } from '../../src/core/ingest/source';
import type { RunProfile } from '../../src/core/training/profile';
import { readRun } from '../../src/core/training/run-folder';
import { RunManager, type RunInfo } from '../../src/core/training/run-manager';
import { jobGpus } from '../../src/core/training/slurm-gpus';
import { SCRIPT_FILE } from '../../src/core/training/slurm-script';
import { ensureSlurm } from '../support/slurm';

const ws = mkdtempSync(join(tmpdir(), 'grpo-slurm-'));
let env: NodeJS.ProcessEnv;
const managers: RunManager[] = [];
const manager = () => {
  const m = new RunManager({ workspace: ws, env, pollMs: 100, slurmPollMs: 500, slurmMaxPollMs: 1500 });
  managers.push(m);
  return m;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, f: () => T | undefined | false, ms = 60_000, info?: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${info ? `\n${info()}` : ''}`);
    await sleep(100);
  }
}
const slurm = (name: string, command: string, o: Partial<RunProfile> = {}, sbatch: string[] = []): RunProfile => ({
  name,
  target: 'slurm',
  shell: true,
  command,
  slurm: { cpusPerTask: 1, mem: '100M', sbatch },
  ...o,
});
const describe = (r: RunInfo | undefined) => (r ? `${r.status} ${JSON.stringify(r.record.job)} ${r.record.error ?? ''}` : 'no run');
/** Every distinct (status, Slurm state) a run went through, in order, from the manager's events. */
function history(m: RunManager, id: () => string | undefined): string[] {
  const seen: string[] = [];
  m.on('status', (i) => {
    if (i.id !== id()) return;
    const s = `${i.status}:${i.record.job?.state ?? '-'}`;
    if (seen.at(-1) !== s) seen.push(s);
  });
  return seen;
}

let timeoutRun: RunInfo;
const timeoutManager = () => managers[0]!;

before(async () => {
  env = await ensureSlurm();
  // Slurm's smallest time limit is one minute: start it now, look at it in the last test.
  timeoutRun = await manager().launch(slurm('too-slow', 'echo started; sleep 300', { slurm: { time: '1', mem: '100M' } }));
});

after(async () => {
  for (const m of managers) {
    for (const r of m.list()) if (r.live) await m.stop(r.id, { intGraceMs: 500, killWaitMs: 10_000 }).catch(() => undefined);
    m.dispose();
  }
  rmSync(ws, { recursive: true, force: true });
});

test('a submitted profile goes PENDING (with its reason) -> RUNNING (on a node) -> COMPLETED; the script is kept', async () => {
  const m = manager();
  let id: string | undefined;
  const seen = history(m, () => id);
  const reasons: string[] = [];
  m.on('status', (i) => i.id === id && i.record.job?.reason && reasons.push(i.record.job.reason));
  // --begin holds it in the queue for a few seconds, so PENDING is what squeue itself says.
  const run = await m.launch(slurm('ok', 'echo "hello from $SLURMD_NODENAME"; sleep 3; echo done', {}, ['--begin=now+3']));
  id = run.id;
  assert.match(run.record.job!.jobId, /^\d+$/);
  const script = readFileSync(join(run.dir, SCRIPT_FILE), 'utf8');
  assert.match(script, /^#SBATCH --begin=now\+3$/m);
  assert.match(script, new RegExp(`^#SBATCH --output=${run.dir}/stdout.log$`, 'm'));
  const done = await until('COMPLETED', () => m.get(run.id)?.status === 'exited' && m.get(run.id), 60_000, () => describe(m.get(run.id)));
  assert.equal(done.record.job!.state, 'COMPLETED');
  assert.equal(done.record.exitCode, 0);
  assert.ok(done.record.job!.nodes, 'the node it ran on');
  assert.deepEqual(seen, ['pending:PENDING', 'running:RUNNING', 'exited:COMPLETED'], `saw ${seen.join(' -> ')}`);
  assert.ok(reasons.includes('BeginTime'), `pending reasons seen: ${reasons.join(', ')}`);
  assert.match(readFileSync(join(run.dir, 'stdout.log'), 'utf8'), /hello from \S+\ndone/);
  // A reload (a new manager, nothing asked of Slurm yet) shows the end state from run.json.
  const reloaded = new RunManager({ workspace: ws, env: { PATH: '/nonexistent' } });
  reloaded.reattach();
  assert.equal(reloaded.get(run.id)?.status, 'exited');
  assert.equal(reloaded.get(run.id)?.record.job?.state, 'COMPLETED');
  reloaded.dispose();
});

test('a failing job shows FAILED with its exit code', async () => {
  const m = manager();
  const run = await m.launch(slurm('bad', 'echo oops >&2; exit 3'));
  const r = await until('FAILED', () => m.get(run.id)?.status === 'failed' && m.get(run.id), 60_000, () => describe(m.get(run.id)));
  assert.equal(r.record.job!.state, 'FAILED');
  assert.equal(r.record.exitCode, 3);
  assert.equal(r.record.job!.reason, 'NonZeroExitCode');
  assert.match(readFileSync(join(run.dir, 'stderr.log'), 'utf8'), /oops/);
  assert.equal(readRun(run.dir)?.exitCode, 3, 'persisted in run.json');
});

test('a held job stays PENDING and shows why; stopping it cancels it without a signal', async () => {
  const m = manager();
  const run = await m.launch(slurm('held', 'echo never', {}, ['--hold']));
  const r = await until('JobHeldUser', () => m.get(run.id)?.record.job?.reason === 'JobHeldUser' && m.get(run.id), 30_000, () => describe(m.get(run.id)));
  assert.equal(r.status, 'pending');
  assert.equal(r.record.job!.state, 'PENDING');
  const stages: string[] = [];
  const res = await m.stop(run.id, { onStage: (s) => stages.push(s), killWaitMs: 20_000 });
  assert.equal(res.ok, true);
  assert.deepEqual(stages, ['SIGTERM'], 'no INT for a job with no process');
  assert.equal(m.get(run.id)?.status, 'stopped');
  assert.equal(m.get(run.id)?.record.job?.state, 'CANCELLED');
});

test('a sweep is one array job with one run per value, each with its own output', async () => {
  const m = manager();
  const runs = await m.launchAll(slurm('sweep', 'echo "lr=${sweep} task=$SLURM_ARRAY_TASK_ID"', { sweep: ['1e-5', '3e-5', '1e-4'], output_dir: 'out/lr-${sweep}' }));
  assert.equal(runs.length, 3);
  const arrayId = runs[0]!.record.job!.arrayJobId;
  assert.ok(arrayId);
  runs.forEach((r, i) => {
    assert.equal(r.record.job!.jobId, `${arrayId}_${i}`);
    assert.equal(r.record.sweep?.value, ['1e-5', '3e-5', '1e-4'][i]);
  });
  for (const [i, r] of runs.entries()) {
    await until(`task ${i} COMPLETED`, () => m.get(r.id)?.status === 'exited', 60_000, () => describe(m.get(r.id)));
    assert.equal(readFileSync(join(r.dir, 'stdout.log'), 'utf8'), `lr=${['1e-5', '3e-5', '1e-4'][i]} task=${i}\n`);
    assert.ok(existsSync(join(ws, 'out', `lr-${['1e-5', '3e-5', '1e-4'][i]}`)));
  }
});

test('stop sends SIGINT first: the job\'s trap sees it (and writes a file) before anything harsher', async () => {
  const m = manager();
  const marker = join(ws, 'trapped.txt');
  const cmd = `trap 'echo "INT at $(date +%s)" > ${marker}; exit 130' INT; echo ready; sleep 120 & wait; echo "no INT"`;
  const run = await m.launch(slurm('trap', cmd));
  await until('running', () => m.get(run.id)?.status === 'running' && readFileSync(join(run.dir, 'stdout.log'), 'utf8').includes('ready'), 60_000, () => describe(m.get(run.id)));
  const stages: string[] = [];
  const res = await m.stop(run.id, { intGraceMs: 20_000, onStage: (s) => stages.push(s) });
  assert.equal(res.ok, true);
  assert.deepEqual(stages, ['SIGINT'], 'the trap exited the job: no scancel needed');
  assert.match(readFileSync(marker, 'utf8'), /^INT at \d+/);
  const r = m.get(run.id)!;
  assert.equal(r.status, 'stopped');
  assert.equal(r.record.exitCode, 130);
  assert.doesNotMatch(readFileSync(join(run.dir, 'stdout.log'), 'utf8'), /no INT/);
});

test('a job that ignores SIGINT is cancelled after the grace period', async () => {
  const m = manager();
  const run = await m.launch(slurm('stubborn', `trap '' INT; echo ready; sleep 120 & wait`));
  await until('running', () => m.get(run.id)?.status === 'running' && readFileSync(join(run.dir, 'stdout.log'), 'utf8').includes('ready'), 60_000, () => describe(m.get(run.id)));
  const stages: string[] = [];
  const t0 = Date.now();
  const res = await m.stop(run.id, { intGraceMs: 1500, killWaitMs: 20_000, onStage: (s) => stages.push(s) });
  assert.equal(res.ok, true);
  assert.deepEqual(stages, ['SIGINT', 'SIGTERM']);
  assert.ok(Date.now() - t0 >= 1500, 'waited the grace period before scancel');
  assert.equal(m.get(run.id)?.status, 'stopped');
  assert.equal(m.get(run.id)?.record.job?.state, 'CANCELLED');
});

test('rollouts and metrics the job writes are read as for a local run (openSource, metric events)', async () => {
  const m = manager();
  const points: string[] = [];
  let id = '';
  m.on('metrics', (e) => e.run === id && points.push(...e.points.map((p) => `${p.step}:${p.name}=${p.value}`)));
  const lines = [0, 1, 2, 3].map((i) => JSON.stringify({ v: 1, step: 1, group: 'g1', index: i, prompt: 'p', completion: `<answer>${i}</answer>`, reward: i / 4 }));
  mkdirSync(join(ws, 'jobs'), { recursive: true });
  writeFileSync(join(ws, 'jobs', 'rollouts.txt'), lines.join('\n') + '\n');
  const cmd = `cp ${join(ws, 'jobs', 'rollouts.txt')} "$OUT/run.rollouts.jsonl"; echo "{'loss': 0.25, 'reward': 0.375, 'epoch': 1.0}"`;
  const run = await m.launch(slurm('rollouts', cmd, { output_dir: 'out/rollouts', env: { OUT: '${output_dir}' }, rollouts: { path: '${output_dir}/run.rollouts.jsonl', format: 'auto' } }));
  id = run.id;
  await until('COMPLETED', () => m.get(run.id)?.status === 'exited', 60_000, () => describe(m.get(run.id)));
  await until('metrics', () => points.length > 0, 5_000);
  assert.ok(points.some((p) => /loss=0.25/.test(p)), points.join(', '));
  const src = await openSource(run.record.rollouts!.path);
  const got: number[] = [];
  const summary = await src.read((rec) => got.push(rec.index ?? -1));
  assert.equal(summary.completions, 4);
  assert.deepEqual(got, [0, 1, 2, 3]);
});

test('resume resubmits from the newest checkpoint-N', async () => {
  const m = manager();
  for (const n of [5, 40, 100]) mkdirSync(join(ws, 'out', 'ckpt', `checkpoint-${n}`), { recursive: true });
  const p = slurm('ckpt', 'echo args:', { output_dir: 'out/ckpt' });
  const first = await m.launch(p);
  await until('first COMPLETED', () => m.get(first.id)?.status === 'exited', 60_000, () => describe(m.get(first.id)));
  const again = await m.resume(first.id);
  assert.notEqual(again.record.job!.jobId, first.record.job!.jobId);
  assert.equal(again.record.resumedFrom, join(ws, 'out', 'ckpt', 'checkpoint-100'));
  await until('resumed COMPLETED', () => m.get(again.id)?.status === 'exited', 60_000, () => describe(m.get(again.id)));
  assert.equal(readFileSync(join(again.dir, 'stdout.log'), 'utf8').trim(), `args: --resume_from_checkpoint ${join(ws, 'out', 'ckpt', 'checkpoint-100')}`);
});

test('the GPU monitor says why it shows nothing (no nodes yet, no nvidia-smi on the node), and reads a node\'s GPUs through srun', async () => {
  const m = manager();
  const run = await m.launch(slurm('gpus', 'echo up; sleep 30'));
  const pending = await jobGpus({ ...run.record, status: 'pending', job: { ...run.record.job!, state: 'PENDING', reason: 'Priority' } }, { env });
  assert.deepEqual(pending, { ok: false, message: `job ${run.record.job!.jobId} is PENDING (Priority): it has no nodes yet` });
  const r = await until('running', () => m.get(run.id)?.status === 'running' && m.get(run.id), 60_000, () => describe(m.get(run.id)));
  const g = await jobGpus(r.record, { env });
  assert.equal(g.ok, false);
  // This machine has no GPU and no nvidia-smi: srun ran inside the job and says so.
  assert.match((g as { message: string }).message, new RegExp(`^srun --jobid=${r.record.job!.jobId} --overlap nvidia-smi did not answer on \\S+: .*nvidia-smi`));
  // nvidia-smi stand-in (no GPU here): srun runs it inside the job, one task per node; the
  // answer is read per node, named by `scontrol show hostnames`.
  const smi = join(ws, 'bin', 'fake-nvidia-smi');
  mkdirSync(join(ws, 'bin'), { recursive: true });
  writeFileSync(smi, '#!/bin/sh\necho "0, GPU-aaa, NVIDIA H200, 87, 70000, 143771, 55, 410.5"\necho "1, GPU-bbb, NVIDIA H200, [N/A], 1024, 143771, 40, 120.0"\n', { mode: 0o755 });
  const ok = await jobGpus(r.record, { env, nvidiaSmi: smi });
  assert.equal(ok.ok, true, JSON.stringify(ok));
  if (ok.ok) {
    assert.equal(ok.perNode.length, 1);
    assert.equal(ok.perNode[0]!.node, r.record.job!.nodes);
    assert.deepEqual(ok.perNode[0]!.gpus.map((g) => [g.index, g.name, g.utilization, g.memoryUsed]), [[0, 'NVIDIA H200', 87, 70000], [1, 'NVIDIA H200', undefined, 1024]]);
  }
  await m.stop(run.id, { intGraceMs: 5_000 });
});

test('torchrun stand-in (no torch here): the job starts it through srun with a c10d rendezvous at the first node', async () => {
  const m = manager();
  const bin = join(ws, 'bin');
  mkdirSync(bin, { recursive: true });
  // Prints what torchrun would be given; the real one is not installed on this machine.
  writeFileSync(join(bin, 'torchrun'), '#!/bin/sh\necho "torchrun $* | master=$MASTER_ADDR:$MASTER_PORT | step=$SLURM_STEP_ID"\n', { mode: 0o755 });
  const p: RunProfile = { name: 'ddp', target: 'slurm', command: ['torchrun', '--standalone', '--nproc_per_node=${nproc}', 'grpo.py', '--lr', '1e-6'], env: { PATH: `${bin}:/usr/bin:/bin` }, slurm: { gpusPerNode: 0, mem: '100M' } };
  const run = await m.launch(p);
  const r = await until('COMPLETED', () => m.get(run.id)?.status === 'exited' && m.get(run.id), 60_000, () => describe(m.get(run.id)) + readFileSync(join(run.dir, 'stderr.log'), 'utf8'));
  const out = readFileSync(join(r.dir, 'stdout.log'), 'utf8').trim();
  const node = r.record.job!.nodes!;
  const port = 20000 + (Number(r.record.job!.jobId) % 20000);
  assert.equal(out, `torchrun --nnodes=1 --rdzv-id=${r.record.job!.jobId} --rdzv-backend=c10d --rdzv-endpoint=${node}:${port} --nproc_per_node=1 grpo.py --lr 1e-6 | master=${node}:${port} | step=0`);
});

test('a job Slurm has forgotten ends from its exit-code file, or is lost with the reason', async () => {
  const { refreshSlurmRuns } = await import('../../src/core/training/slurm-runs');
  const { writeJson } = await import('../../src/core/training/run-folder');
  const mk = (name: string, code?: number) => {
    const dir = join(ws, 'forgotten', name);
    mkdirSync(dir, { recursive: true });
    // A job id far above this cluster's: squeue and sacct know nothing of it.
    const record = { id: name, profile: name, argv: [], shell: false, cwd: ws, env: {}, metrics: { stdout: true }, clockTicks: 100, createdAt: new Date().toISOString(), status: 'running', slurm: {}, job: { jobId: '9999999', script: '', submittedAt: '', state: 'RUNNING' } } as const;
    writeJson(join(dir, 'run.json'), record);
    if (code !== undefined) writeFileSync(join(dir, 'exit-code'), `${code}\n`);
    return { dir, record: JSON.parse(JSON.stringify(record)) };
  };
  const a = mk('ended', 7);
  const b = mk('gone');
  const res = await refreshSlurmRuns([a, b], { env });
  assert.deepEqual(res.changed, [a.dir, b.dir]);
  const ra = readRun(a.dir)!;
  assert.deepEqual([ra.status, ra.exitCode, ra.job?.state, ra.job?.source], ['failed', 7, 'FAILED', 'exit-code file']);
  const rb = readRun(b.dir)!;
  assert.equal(rb.status, 'lost');
  assert.equal(rb.error, 'Slurm no longer lists job 9999999 and it left no exit status (Slurm accounting is disabled on this cluster (sacct))');
});

test('watching many runs is one squeue call per poll, spaced further apart while nothing changes', async (t) => {
  // squeue itself, through a wrapper on PATH that notes each call (time and arguments).
  const bin = join(ws, 'counting-bin');
  const log = join(ws, 'squeue-calls.log');
  mkdirSync(bin, { recursive: true });
  const real = execFileSync('sh', ['-c', 'command -v squeue'], { env, encoding: 'utf8' }).trim();
  writeFileSync(join(bin, 'squeue'), `#!/bin/sh\necho "$(date +%s%3N) $*" >> ${log}\nexec ${real} "$@"\n`, { mode: 0o755 });
  const counted = { ...env, PATH: `${bin}:${env.PATH}` };
  const m = new RunManager({ workspace: ws, env: counted, pollMs: 100, slurmPollMs: 300, slurmMaxPollMs: 1200 });
  managers.push(m);
  const runs = await m.launchAll(slurm('watched', 'true', { sweep: ['1', '2', '3', '4'] }, ['--hold']));
  await sleep(5000);
  const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => ({ t: Number(l.split(' ')[0]), args: l }));
  const array = runs[0]!.record.job!.arrayJobId!;
  // Four runs, one array id: every call asks for all of them at once.
  for (const c of calls) assert.match(c.args, new RegExp(`--jobs=${array}( |$)`), c.args);
  const gaps = calls.slice(1).map((c, i) => c.t - calls[i]!.t);
  assert.ok(calls.length >= 3 && calls.length <= 8, `${calls.length} calls in 5 s: ${gaps.join(', ')} ms apart`);
  assert.ok(gaps.at(-1)! > gaps[0]!, `backs off: ${gaps.join(', ')} ms apart`);
  assert.ok(gaps.every((g) => g >= 250), `never hammers: ${gaps.join(', ')} ms apart`);
  t.diagnostic(`4 runs, ${calls.length} squeue calls in 5 s, ${gaps.join(', ')} ms apart (first interval 300 ms, cap 1200 ms)`);
  for (const r of runs) assert.equal(m.get(r.id)?.record.job?.reason, 'JobHeldUser');
  for (const r of runs) await m.stop(r.id, { killWaitMs: 20_000 });
});

test('a job past its time limit shows TIMEOUT', async () => {
  const m = timeoutManager();
  // One minute, plus Slurm's 30 s time-limit sweep, plus KillWait.
  const r = await until('TIMEOUT', () => m.get(timeoutRun.id)?.record.job?.state === 'TIMEOUT' && m.get(timeoutRun.id), 150_000, () => describe(m.get(timeoutRun.id)));
  assert.equal(r.status, 'failed');
  assert.equal(r.record.job!.reason, 'TimeLimit');
  assert.match(r.record.error ?? '', /TIMEOUT/);
  assert.match(readFileSync(join(r.dir, 'stderr.log'), 'utf8'), /DUE TO TIME LIMIT/);
});

// Last: taking the node down would requeue any other job running on it (the TIMEOUT one above).
test('a job whose node fails shows NODE_FAIL with the reason', async () => {
  const m = manager();
  const run = await m.launch(slurm('node-fail', 'echo up; sleep 120', {}, ['--no-requeue']));
  const r = await until('running', () => m.get(run.id)?.status === 'running' && m.get(run.id), 60_000, () => describe(m.get(run.id)));
  const node = r.record.job!.nodes!;
  try {
    execFileSync('scontrol', ['update', `nodename=${node}`, 'state=down', 'reason=grpo-studio-test'], { env });
    const f = await until('NODE_FAIL', () => m.get(run.id)?.record.job?.state === 'NODE_FAIL' && m.get(run.id), 30_000, () => describe(m.get(run.id)));
    assert.equal(f.status, 'failed');
    assert.equal(f.record.job!.reason, 'NodeDown');
    assert.equal(f.record.error, 'Slurm ended the job: NODE_FAIL (NodeDown)');
  } finally {
    // The node returns to service (ReturnToService=2); make sure before the next test file needs it.
    await until('the node back', () => {
      const state = execFileSync('sinfo', ['-h', '-n', node, '-o', '%T'], { env, encoding: 'utf8' }).trim();
      if (/down|drain/.test(state)) {
        try {
          execFileSync('scontrol', ['update', `nodename=${node}`, 'state=resume'], { env, stdio: 'ignore' });
        } catch {
          // already coming back: "Invalid node state specified"
        }
      }
      return /idle|mix|alloc/.test(state);
    }, 30_000);
  }
});
