/**
 * The Slurm profile fields, the sbatch script written from them and the readers of Slurm's
 * answers (squeue / sacct text as Slurm 22.05 prints it). No cluster needed: see
 * slurm-jobs.test.ts for the same on a real one.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateEvalProfiles } from '../../src/core/eval/profiles';
import { planLaunch, validateProfiles, type RunProfile } from '../../src/core/training/profile';
import { expandTasks, parseSacct, parseSqueue } from '../../src/core/training/slurm-cli';
import { SLURM_FIELDS } from '../../src/core/training/slurm-profile';
import { applyJobState, statusOfJob } from '../../src/core/training/slurm-runs';
import { renderScript, torchrunLine } from '../../src/core/training/slurm-script';
import type { RunRecord } from '../../src/core/training/run-folder';

const base = { name: 'g', target: 'slurm', command: ['python', 'train.py'] };
const problems = (p: object) => validateProfiles({ profiles: [{ ...base, ...p }] }).problems.map((x) => `${x.field}: ${x.message}`);

test('slurm fields are read, and every bad one is named with its field', () => {
  const ok = validateProfiles({ profiles: [{ ...base, slurm: { partition: 'gpu', nodes: 2, gpusPerNode: 8, cpusPerTask: 16, mem: '200G', time: '1-00:00:00', account: 'a', qos: 'high', constraint: 'a100', sbatch: ['--exclusive'], setup: ['module load cuda/12.1', 'conda activate grpo'] }, sweep: [1e-5, '3e-5'] }] });
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.profiles[0]!.sweep, ['0.00001', '3e-5']);
  assert.equal(ok.profiles[0]!.slurm!.gpusPerNode, 8);
  assert.deepEqual(problems({ slurm: { nodes: 0, mem: '2 G', time: 'soon', sbatch: ['#SBATCH --x', 'ok\n--y'], setup: ['a\nb'], gpu: 1 } }), [
    'slurm.gpu: is not a slurm field (partition, nodes, gpusPerNode, cpusPerTask, mem, time, account, qos, constraint, sbatch, setup, stopGraceSeconds)',
    'slurm.mem: must be a non-empty string without spaces or newlines',
    'slurm.time: must be a Slurm time: minutes, MM:SS, HH:MM:SS, D-HH[:MM[:SS]] or UNLIMITED',
    'slurm.nodes: must be an integer ≥ 1',
    'slurm.sbatch[0]: must be an sbatch option like "--exclusive" (without "#SBATCH"), got "#SBATCH --x"',
    'slurm.sbatch[1]: must be one line (no newline)',
    'slurm.setup[0]: must be one line (no newline)',
  ]);
  assert.deepEqual(problems({ target: 'cloud' }), ['target: must be "local" or "slurm"']);
  assert.deepEqual(problems({ target: undefined, slurm: {}, sweep: [1] }), ['slurm: is only used with "target": "slurm"', 'sweep: needs "target": "slurm" (each value is one task of a Slurm array job)']);
  assert.deepEqual(problems({ gpus: [0] }), ['gpus: names GPUs of this machine; for a Slurm job use "slurm": {"gpusPerNode": N}']);
  assert.deepEqual(problems({ sweep: [] }), ['sweep: must be a non-empty list of values (strings or numbers), one array task each']);
});

test('the JSON schema knows the same slurm fields, and its patterns agree with the parser', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/run-profiles.schema.json', import.meta.url), 'utf8')) as {
    properties: { profiles: { items: { properties: Record<string, { properties?: Record<string, { pattern?: string }>; enum?: string[] }> } } };
  };
  const p = schema.properties.profiles.items.properties;
  assert.deepEqual(p.target!.enum, ['local', 'slurm']);
  assert.deepEqual(Object.keys(p.slurm!.properties!), [...SLURM_FIELDS]);
  assert.ok(p.sweep);
  for (const [field, values] of [
    ['time', ['30', '30:00', '12:00:00', '1-00:00:00', '2-12', 'UNLIMITED', 'soon', '1h', '']],
    ['mem', ['64G', '8000M', '100', '2 G', 'lots']],
  ] as const) {
    const re = new RegExp(p.slurm!.properties![field]!.pattern!);
    for (const v of values) assert.equal(re.test(v), problems({ slurm: { [field]: v } }).length === 0, `${field}=${JSON.stringify(v)}`);
  }
});

test('a Slurm plan: ${nproc} is the GPUs per node, ${sweep} the task\'s value; local GPUs are not used', () => {
  const p: RunProfile = { name: 's', target: 'slurm', command: ['torchrun', '--nproc_per_node=${nproc}', 'grpo.py', '--lr', '${sweep}'], output_dir: 'out/${sweep}', slurm: { gpusPerNode: 4 }, sweep: ['1', '2'] };
  const plan = planLaunch(p, { workspace: '/w', profiles: [p], sweepIndex: 1 });
  assert.deepEqual(plan.argv, ['torchrun', '--nproc_per_node=4', 'grpo.py', '--lr', '2']);
  assert.equal(plan.outputDir, '/w/out/2');
  assert.deepEqual(plan.sweep, { index: 1, value: '2', count: 2 });
  assert.equal(plan.env.CUDA_VISIBLE_DEVICES, undefined);
  assert.throws(() => planLaunch({ ...p, sweep: undefined }, { workspace: '/w', profiles: [] }), /unknown variable \$\{sweep\}/);
});

test('torchrun gets a c10d rendezvous at the first node; its own rendezvous options are dropped', () => {
  const line = torchrunLine(['torchrun', '--nnodes', '1', '--nproc_per_node', '8', '--master_port=23456', '--standalone', 'grpo.py', '--nnodes', 'x y']);
  assert.equal(line, `torchrun --nnodes="$SLURM_JOB_NUM_NODES" --rdzv-id="$SLURM_JOB_ID" --rdzv-backend=c10d --rdzv-endpoint="$MASTER_ADDR:$MASTER_PORT" --nproc_per_node 8 grpo.py --nnodes 'x y'`);
  const plan = planLaunch({ name: 'mn', target: 'slurm', command: ['torchrun', '--nproc_per_node=${nproc}', 'grpo.py'], slurm: { nodes: 2, gpusPerNode: 8, partition: 'gpu', time: '4:00:00', setup: ['module load cuda'] } }, { workspace: '/w', profiles: [] });
  const script = renderScript([{ id: 'mn-1', dir: '/w/.grpo-studio/runs/mn-1', plan }], { jobName: 'grpo-mn' });
  for (const l of ['#SBATCH --nodes=2', '#SBATCH --ntasks-per-node=1', '#SBATCH --gpus-per-node=8', '#SBATCH --partition=gpu', '#SBATCH --time=4:00:00', 'module load cuda']) assert.ok(script.split('\n').includes(l), l);
  assert.match(script, /^MASTER_ADDR=\$\(scontrol show hostnames "\$SLURM_JOB_NODELIST" \| head -n 1\)$/m);
  assert.match(script, /^srun --nodes="\$SLURM_JOB_NUM_NODES" --ntasks-per-node=1 --kill-on-bad-exit=1 torchrun --nnodes="\$SLURM_JOB_NUM_NODES" .* --nproc_per_node=8 grpo.py$/m);
  // bash itself accepts it.
  const dir = mkdtempSync(join(tmpdir(), 'grpo-sbatch-'));
  writeFileSync(join(dir, 'job.sbatch'), script);
  execFileSync('bash', ['-n', join(dir, 'job.sbatch')]);
});

test('a sweep script is one array job; a literal % in a path is escaped for Slurm', () => {
  const p: RunProfile = { name: 'sw', target: 'slurm', command: ['echo', '${sweep}'], sweep: ['a', "it's"], slurm: {} };
  const tasks = [0, 1].map((i) => ({ id: `sw-t${i}`, dir: `/w/100%/sw-t${i}`, plan: planLaunch(p, { workspace: '/w', profiles: [p], sweepIndex: i }) }));
  const s = renderScript(tasks, { jobName: 'grpo-sw', arrayDirPrefix: '/w/100%/sw-t' });
  assert.match(s, /^#SBATCH --array=0-1$/m);
  assert.match(s, /^#SBATCH --output=\/w\/100%%\/sw-t%a\/stdout.log$/m);
  assert.match(s, /^1\)  # sweep = "it's"\n {2}export GRPO_STUDIO_RUN_ID=sw-t1$/m);
  assert.match(s, /^ {2}echo 'it'\\''s'$/m);
  assert.throws(() => renderScript(tasks, { jobName: 'x' }), /folder prefix/);
  // A profile name or a folder cannot add #SBATCH lines or commands.
  const one = [{ ...tasks[0]!, dir: '/w/r' }];
  assert.match(renderScript(one, { jobName: 'grpo-a\nrm -rf ~' }), /^#SBATCH --job-name=grpo-a-rm--rf-$/m);
  assert.throws(() => renderScript([{ ...one[0]!, dir: '/w/a\nb' }], { jobName: 'x' }), /must be one line/);
});

test('squeue and sacct answers: array rows expanded, exit status split, states mapped', () => {
  // As squeue -h -t all -O JobID:|,ArrayJobID:|,ArrayTaskID:|,State:|,Reason:|,NodeList:|,exit_code:| prints them.
  const text = ['12|12|N/A|FAILED|NonZeroExitCode|vm|768|', '13|13|0-2,5|PENDING|Priority||0|', '17|13|3|RUNNING|None|gpu[01-02]|0|', '18|18|N/A|TIMEOUT|TimeLimit|vm|15|', 'junk', ''].join('\n');
  const jobs = parseSqueue(text);
  assert.deepEqual(jobs[0], { id: '12', state: 'FAILED', reason: 'NonZeroExitCode', nodes: 'vm', exitCode: 3 });
  assert.deepEqual(jobs.slice(1, 5).map((j) => j.id), ['13_0', '13_1', '13_2', '13_5']);
  assert.deepEqual(jobs[5], { id: '13_3', arrayJobId: '13', arrayTask: 3, rawId: '17', state: 'RUNNING', nodes: 'gpu[01-02]' });
  assert.deepEqual(jobs[6], { id: '18', state: 'TIMEOUT', reason: 'TimeLimit', nodes: 'vm', exitCode: 0, signal: 15 });
  assert.deepEqual(expandTasks('0-6:3,9%2'), [0, 3, 6, 9]);
  assert.deepEqual(parseSacct('20|CANCELLED by 0|0:15|vm|None\n21_1|OUT_OF_MEMORY|0:125|n1|OutOfMemory\n'), [
    { id: '20', state: 'CANCELLED', exitCode: 0, signal: 15, nodes: 'vm' },
    { id: '21_1', state: 'OUT_OF_MEMORY', exitCode: 0, signal: 125, nodes: 'n1', reason: 'OutOfMemory', arrayJobId: '21', arrayTask: 1 },
  ]);
  const map = Object.fromEntries(['PENDING', 'RUNNING', 'COMPLETING', 'COMPLETED', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'CANCELLED'].map((s) => [s, statusOfJob(s, false)]));
  assert.deepEqual(map, { PENDING: 'pending', RUNNING: 'running', COMPLETING: 'running', COMPLETED: 'exited', FAILED: 'failed', TIMEOUT: 'failed', OUT_OF_MEMORY: 'failed', NODE_FAIL: 'failed', CANCELLED: 'stopped' });
  assert.equal(statusOfJob('FAILED', true), 'stopped');
});

test('a record follows its job: nodes while running, exit code and why at the end, unchanged when nothing changed', () => {
  const rec = { id: 'r', profile: 'p', argv: [], shell: false, cwd: '/', env: {}, metrics: { stdout: true }, clockTicks: 100, createdAt: '', status: 'pending', slurm: {}, job: { jobId: '5', script: '/s', submittedAt: '', state: 'PENDING' } } as RunRecord;
  const running = applyJobState(rec, { id: '5', state: 'RUNNING', nodes: 'n[1-2]' }, false);
  assert.equal(running.status, 'running');
  assert.equal(running.job!.nodes, 'n[1-2]');
  assert.ok(running.startedAt);
  assert.equal(applyJobState(running, { id: '5', state: 'RUNNING', nodes: 'n[1-2]' }, false), running);
  const oom = applyJobState(running, { id: '5', state: 'OUT_OF_MEMORY', reason: 'OutOfMemory', nodes: 'n[1-2]', exitCode: 0, signal: 9 }, false);
  assert.equal(oom.status, 'failed');
  assert.equal(oom.error, 'Slurm ended the job: OUT_OF_MEMORY (OutOfMemory)');
  assert.equal(oom.signal, 'signal 9');
  const nf = applyJobState(running, { id: '5', state: 'NODE_FAIL', reason: 'NodeDown', exitCode: 1 }, false);
  assert.equal(nf.error, 'Slurm ended the job: NODE_FAIL (NodeDown)');
  assert.equal(nf.job!.nodes, undefined);
});

// The same schema file covers the eval profiles beside the training ones (docs/eval.md).
test('the schema\'s evals section names the fields the eval parser reads; a file of evals alone is no training-profile problem', () => {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/run-profiles.schema.json', import.meta.url), 'utf8')) as {
    properties: { evals: { items: { properties: Record<string, unknown> & { benchmarks: { items: { properties: Record<string, unknown> } } } } } };
  };
  const item = schema.properties.evals.items.properties;
  const bench = Object.fromEntries(Object.keys(item.benchmarks.items.properties).map((k) => [k, k === 'command' ? ['run', '{output}'] : k === 'shell' ? false : k === 'env' ? {} : k === 'metric' ? 'vqa' : k === 'domain' ? 'ood' : k === 'format' ? 'auto' : k === 'predictions' ? '{benchmark}.jsonl' : 'x']));
  delete bench.headline; // only for pope / letter-f1
  const profile = Object.fromEntries(Object.keys(item).map((k) => [k, k === 'benchmarks' ? [bench] : k === 'onNewCheckpoint' ? false : k === 'settleSeconds' ? 5 : k === 'checkpoints' ? ['out'] : 'x']));
  const notFields = (raw: unknown) => validateEvalProfiles(raw, '/w').problems.filter((p) => /is not an? (eval profile|benchmark) field/.test(p.message));
  assert.deepEqual(notFields({ evals: [profile] }), []);
  assert.equal(notFields({ evals: [{ ...profile, bogus: 1 }] }).length, 1);
  assert.deepEqual(validateProfiles({ evals: [profile] }).problems, []);
  assert.equal(validateProfiles({}).problems.length, 1);
});
