/**
 * `grpo-studio run / ps / logs --follow / stop` on Slurm profiles, against the real one-node
 * cluster of test/support/slurm.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/io';
import { readRun, runDir } from '../../src/core/training/run-folder';
import { ensureSlurm } from '../support/slurm';

const ws = mkdtempSync(join(tmpdir(), 'grpo-slurm-cli-'));
let env: NodeJS.ProcessEnv;
before(async () => {
  env = { ...(await ensureSlurm()), GRPO_STUDIO_SLURM_POLL_MS: '500' };
});
after(() => rmSync(ws, { recursive: true, force: true }));

const job = (name: string, command: string, extra: object = {}) => ({ name, target: 'slurm', shell: true, command, slurm: { mem: '100M' }, ...extra });
mkdirSync(join(ws, '.vscode'));
writeFileSync(
  join(ws, '.vscode', 'grpo-studio.json'),
  JSON.stringify({
    profiles: [
      job('count', 'for i in 1 2 3; do echo "line $i"; sleep 1; done'),
      job('fails', 'echo bad >&2; exit 4'),
      job('waits', 'trap "echo got INT; exit 0" INT; echo up; sleep 300 & wait'),
      job('sweep', 'echo "v=${sweep}"', { sweep: ['a', 'b'] }),
    ],
  }),
);

function io(): CliIO & { stdout: string; stderr: string } {
  const o = { stdout: '', stderr: '', out: (t: string) => void (o.stdout += t), err: (t: string) => void (o.stderr += t), env, cwd: ws };
  return o;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('run (attached) submits, streams the job output, and exits with the job', async () => {
  const o = io();
  assert.equal(await main(['run', 'count'], o), 0, o.stderr);
  assert.equal(o.stdout, 'line 1\nline 2\nline 3\n');
  assert.match(o.stderr, /Slurm job \d+, script \S+\/job\.sbatch/);
  assert.match(o.stderr, /run count-\S+ exited \(exit code 0, Slurm job \d+ COMPLETED\)/);
  const f = io();
  assert.equal(await main(['run', 'fails'], f), 1);
  assert.match(f.stderr, /failed \(exit code 4, Slurm job \d+ FAILED \(NonZeroExitCode\)\)/);
});

test('run --detach prints {run, job} per sweep task; ps shows each job\'s state from one squeue', async () => {
  const o = io();
  assert.equal(await main(['run', 'sweep', '--detach'], o), 0, o.stderr);
  const lines = o.stdout.trim().split('\n').map((l) => JSON.parse(l) as { run: string; job: string });
  assert.equal(lines.length, 2);
  assert.match(lines[1]!.job, /^\d+_1$/);
  for (let i = 0; i < 100; i++) {
    const p = io();
    await main(['ps', '--json'], p);
    const rows = JSON.parse(p.stdout) as { run: string; status: string; slurmState: string; job: string }[];
    const mine = rows.filter((r) => lines.some((l) => l.run === r.run));
    if (mine.length === 2 && mine.every((r) => r.slurmState === 'COMPLETED' && r.status === 'exited')) break;
    if (i === 99) assert.fail(`sweep did not complete: ${JSON.stringify(mine)}`);
    await sleep(300);
  }
  const t = io();
  await main(['ps'], t);
  assert.match(t.stdout, /^RUN\s+STATUS\s+PID \/ JOB\s+STARTED\s+EXIT$/m);
  assert.match(t.stdout, new RegExp(`^${lines[0]!.run}\\s+exited\\s+job ${lines[0]!.job} COMPLETED\\s`, 'm'));
  assert.match(t.stdout, /fails-\S+\s+failed\s+job \d+ FAILED \(NonZeroExitCode\)\s.*\s4$/m);
  assert.equal(readFileSync(join(runDir(ws, lines[1]!.run), 'stdout.log'), 'utf8'), 'v=b\n');
});

test('logs --follow follows a running job until stop (INT first) ends it', async () => {
  const o = io();
  assert.equal(await main(['run', 'waits', '--detach'], o), 0, o.stderr);
  const { run } = JSON.parse(o.stdout) as { run: string };
  const logs = io();
  const following = main(['logs', run, '--follow'], logs);
  for (let i = 0; !logs.stdout.includes('up'); i++) {
    if (i > 300) assert.fail(`no output: ${JSON.stringify(readRun(runDir(ws, run)))}`);
    await sleep(200);
  }
  const s = io();
  assert.equal(await main(['stop', run, '--timeout', '20'], s), 0, s.stderr);
  assert.match(s.stderr, /scancel --signal=INT --full/);
  assert.match(s.stdout, new RegExp(`^stopped ${run}: job \\d+ COMPLETED after SIGINT\\n$`));
  assert.equal(await following, 0);
  assert.equal(logs.stdout, 'up\ngot INT\n');
  assert.equal(readRun(runDir(ws, run))?.status, 'stopped');
});
