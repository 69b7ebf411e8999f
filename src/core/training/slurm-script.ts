/**
 * The sbatch script of a Slurm run, written from its launch plan(s): `#SBATCH` lines from the
 * profile's `slurm` options, its setup lines, then the command with the run's environment. The
 * job's output files are the run folder's stdout.log / stderr.log, so the run's terminal, `logs`
 * and metrics read them as for a local run (on the cluster's shared file system).
 *
 * A `torchrun` command is turned into a multi-node rendezvous: one `srun` task per node, each
 * starting torchrun with `--rdzv-backend=c10d` at the first node of the allocation
 * (`scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1`). A sweep is one array job whose
 * task i runs the plan for value i, writing to that task's run folder (`%a` in --output).
 */
import { basename } from 'node:path';
import { shellQuote, type LaunchPlan } from './profile';
import type { SlurmOptions } from './slurm-profile';
import { RUN_MARKER } from './supervisor';

export interface ScriptTask {
  /** The run id (environment GRPO_STUDIO_RUN_ID) and its folder. */
  id: string;
  dir: string;
  plan: LaunchPlan;
}

export const SCRIPT_FILE = 'job.sbatch';
export const EXIT_FILE = 'exit-code';

/** torchrun options the rendezvous sets; the profile's own values would contradict it. */
const RDZV_OPTS = ['nnodes', 'node_rank', 'node-rank', 'master_addr', 'master-addr', 'master_port', 'master-port', 'rdzv_backend', 'rdzv-backend', 'rdzv_endpoint', 'rdzv-endpoint', 'rdzv_id', 'rdzv-id', 'rdzv_conf', 'rdzv-conf'];

export const isTorchrun = (argv: readonly string[]) => argv.length > 0 && basename(argv[0]!) === 'torchrun';

/** torchrun argv with the rendezvous options replaced by Slurm's (shell text, variables expanded by bash). */
export function torchrunLine(argv: readonly string[]): string {
  const keep: string[] = [];
  let i = 1;
  // Options before the script: drop the rendezvous ones (and --standalone); the script's own args stay.
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    const name = a.replace(/^--?/, '').split('=')[0]!;
    if (name === 'standalone') continue;
    if (RDZV_OPTS.includes(name)) {
      if (!a.includes('=')) i++;
      continue;
    }
    keep.push(a);
    // An option's separate value (e.g. "--nproc_per_node 8") stays with it.
    if (!a.includes('=') && i + 1 < argv.length && !argv[i + 1]!.startsWith('-') && /^(nproc[-_]per[-_]node|max[-_]restarts|monitor[-_]interval|log[-_]dir|redirects|tee|role|local[-_]addr)$/.test(name)) keep.push(argv[++i]!);
  }
  const rdzv = ['--nnodes="$SLURM_JOB_NUM_NODES"', '--rdzv-id="$SLURM_JOB_ID"', '--rdzv-backend=c10d', '--rdzv-endpoint="$MASTER_ADDR:$MASTER_PORT"'];
  return [shellQuote(argv[0]!), ...rdzv, ...keep.map(shellQuote), ...argv.slice(i).map(shellQuote)].join(' ');
}

/** `%` is Slurm's filename pattern character; a literal one is `%%`. */
const pattern = (p: string) => p.replace(/%/g, '%%');
const dq = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`);

function sbatchLines(o: SlurmOptions, nodes: number): string[] {
  const l: string[] = [];
  if (o.partition) l.push(`--partition=${o.partition}`);
  l.push(`--nodes=${nodes}`, '--ntasks-per-node=1');
  if (o.gpusPerNode) l.push(`--gpus-per-node=${o.gpusPerNode}`);
  if (o.cpusPerTask) l.push(`--cpus-per-task=${o.cpusPerTask}`);
  if (o.mem) l.push(`--mem=${o.mem}`);
  if (o.time) l.push(`--time=${o.time}`);
  if (o.account) l.push(`--account=${o.account}`);
  if (o.qos) l.push(`--qos=${o.qos}`);
  if (o.constraint) l.push(`--constraint=${o.constraint}`);
  return l;
}

function taskBody(t: ScriptTask, nodes: number): string[] {
  const p = t.plan;
  const l = [`export ${RUN_MARKER}=${shellQuote(t.id)}`, `export GRPO_STUDIO_RUN_DIR=${shellQuote(t.dir)}`];
  for (const [k, v] of Object.entries(p.env)) l.push(`export ${k}=${shellQuote(v)}`);
  l.push(`cd ${shellQuote(p.cwd)} || exit 1`);
  if (isTorchrun(p.argv)) {
    // The first node of the allocation hosts the c10d rendezvous; the port is derived from the
    // job id so two jobs sharing a node do not collide.
    l.push(
      'MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
      'MASTER_PORT=${MASTER_PORT:-$((20000 + SLURM_JOB_ID % 20000))}',
      'export MASTER_ADDR MASTER_PORT',
      `srun --nodes="$SLURM_JOB_NUM_NODES" --ntasks-per-node=1 --kill-on-bad-exit=1 ${torchrunLine(p.argv)}`,
    );
  } else {
    const line = p.argv.map(shellQuote).join(' ');
    l.push(nodes > 1 ? `srun --nodes="$SLURM_JOB_NUM_NODES" --ntasks-per-node=1 ${line}` : line);
  }
  return l;
}

/**
 * The whole script. One task: a plain job writing to its run folder. Several: an array job
 * (`--array=0-N`), task i writing to tasks[i]'s folder; their folders must be `<prefix>i`.
 */
export function renderScript(tasks: readonly ScriptTask[], o: { arrayDirPrefix?: string; jobName: string }): string {
  const first = tasks[0];
  if (!first) throw new Error('a Slurm job needs at least one task');
  const so = first.plan.slurm ?? {};
  const nodes = so.nodes ?? 1;
  const array = tasks.length > 1;
  if (array && !o.arrayDirPrefix) throw new Error('an array job needs the folder prefix of its tasks');
  const out = array ? `${pattern(o.arrayDirPrefix!)}%a` : pattern(first.dir);
  // A newline in a path would end its #SBATCH line and start another (or a command).
  for (const v of [first.plan.cwd, out]) if (/[\r\n]/.test(v)) throw new Error(`a Slurm run path must be one line: ${JSON.stringify(v)}`);
  const head = [
    '#!/bin/bash',
    `#SBATCH --job-name=${o.jobName.replace(/[^\w.-]+/g, '-')}`,
    `#SBATCH --output=${dq(`${out}/stdout.log`)}`,
    `#SBATCH --error=${dq(`${out}/stderr.log`)}`,
    `#SBATCH --chdir=${dq(first.plan.cwd)}`,
    ...sbatchLines(so, nodes).map((l) => `#SBATCH ${l}`),
    ...(array ? [`#SBATCH --array=0-${tasks.length - 1}`] : []),
    ...(so.sbatch ?? []).map((l) => `#SBATCH ${l}`),
    `# Written by GRPO Studio for profile ${JSON.stringify(first.plan.profile)} (docs/slurm.md).`,
    '# Stop sends SIGINT to this script and its children (scancel --signal=INT --full), then scancel.',
  ];
  const setup = so.setup?.length ? ['', '# setup (the profile\'s "slurm.setup" lines)', ...so.setup] : [];
  let body: string[];
  if (!array) body = taskBody(first, nodes);
  else {
    body = ['case "${SLURM_ARRAY_TASK_ID:-}" in'];
    tasks.forEach((t, i) => {
      body.push(`${i})  # sweep = ${JSON.stringify(t.plan.sweep?.value ?? '')}`, ...taskBody(t, nodes).map((l) => `  ${l}`), '  ;;');
    });
    body.push('*) echo "grpo-studio: no task $SLURM_ARRAY_TASK_ID in this sweep" >&2; exit 2 ;;', 'esac');
  }
  // The exit status, for when the controller has forgotten the job and accounting is off.
  const dirVar = '"$GRPO_STUDIO_RUN_DIR"';
  return [...head, ...setup, '', ...body, 'status=$?', `echo "$status" > ${dirVar}/${EXIT_FILE}`, 'exit "$status"', ''].join('\n');
}
