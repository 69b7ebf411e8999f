/**
 * Talking to Slurm through its commands (sbatch, squeue, scancel, sacct), the way a user on a
 * login node does, and reading their answers. One `squeue --states=all` call covers every run
 * being watched: it lists pending and running jobs and, until the controller purges them
 * (MinJobAge), finished ones with their exit status. sacct is asked only about jobs squeue no
 * longer knows, and only where accounting is on. See docs/slurm.md.
 */
import { execFile } from 'node:child_process';

export interface SlurmEnv {
  /** Environment of the Slurm commands (SLURM_CONF, PATH); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Seconds before a Slurm command is given up on (default 30). */
  timeoutS?: number;
}

export interface Exec {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  /** The failure in words (missing binary, timeout, exit code and stderr). */
  error?: string;
}

export function slurmExec(cmd: string, args: string[], o: SlurmEnv = {}): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: o.env ?? process.env, timeout: (o.timeoutS ?? 30) * 1000, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      const why =
        e.code === 'ENOENT'
          ? `${cmd} is not installed here (no Slurm client on PATH)`
          : e.killed
            ? `${cmd} did not answer within ${o.timeoutS ?? 30} s`
            : `${cmd} ${args.slice(0, 3).join(' ')}… failed${typeof e.code === 'number' ? ` (exit ${e.code})` : ''}: ${(stderr || e.message).trim().split('\n').slice(-3).join(' ')}`;
      resolve({ ok: false, code: typeof e.code === 'number' ? e.code : null, stdout: stdout ?? '', stderr: stderr ?? '', error: why });
    });
  });
}

/** Slurm's job states, as squeue / sacct print them (long form). */
export type SlurmState = string;

export const PENDING_STATES = ['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'CONFIGURING'];
export const ACTIVE_STATES = ['RUNNING', 'COMPLETING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT', 'RESIZING'];
export const FINAL_STATES = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED', 'SPECIAL_EXIT', 'REVOKED'];

/** What Slurm says of one job (or one array task). */
export interface JobState {
  /** "123", or "123_4" for an array task. */
  id: string;
  arrayJobId?: string;
  arrayTask?: number;
  /** Slurm's own id of an array task once it has one (srun --jobid wants it). */
  rawId?: string;
  state: SlurmState;
  /** Why it waits (PENDING) or why it ended (e.g. NonZeroExitCode, TimeLimit); "None" dropped. */
  reason?: string;
  /** Compressed node list, e.g. "gpu[01-04]". */
  nodes?: string;
  exitCode?: number;
  /** The signal that ended the batch script, if any. */
  signal?: number;
}

const SQUEUE_FIELDS = ['JobID', 'ArrayJobID', 'ArrayTaskID', 'State', 'Reason', 'NodeList', 'exit_code'];
/** `squeue -O` with '|' after every field: field widths are unbounded, so nothing is cut. */
export const SQUEUE_FORMAT = SQUEUE_FIELDS.map((f) => `${f}:|`).join(',');

/** Array task ids in squeue's compressed form: "0-3", "1,4-5", "0-9%2" (a throttle). */
export function expandTasks(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.replace(/%\d+$/, '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    const step = m[3] !== undefined ? Math.max(1, Number(m[3])) : 1;
    for (let i = a; i <= b && out.length < 100_000; i += step) out.push(i);
  }
  return out;
}

/** `squeue -h -t all -O <SQUEUE_FORMAT>` output; a pending array's "5_[0-3]" row becomes one per task. */
export function parseSqueue(text: string): JobState[] {
  const out: JobState[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split('|').map((s) => s.trim());
    if (f.length < SQUEUE_FIELDS.length) continue;
    const [jobId, arrayJobId, arrayTask, state, reason, nodes, status] = f as [string, string, string, string, string, string, string];
    if (!/^\d+$/.test(jobId) || !state) continue;
    const base: JobState = { id: jobId, state: state.replace(/\+$/, '') };
    if (reason && reason !== 'None' && reason !== '(null)') base.reason = reason;
    if (nodes && nodes !== '(null)' && nodes !== 'None assigned') base.nodes = nodes;
    // exit_code is the raw wait status: code in the high byte, the signal in the low bits.
    const raw = Number(status);
    if (FINAL_STATES.includes(base.state) && Number.isInteger(raw)) {
      base.exitCode = (raw >> 8) & 0xff;
      if (raw & 0x7f) base.signal = raw & 0x7f;
    }
    const tasks = arrayTask && arrayTask !== 'N/A' ? expandTasks(arrayTask) : [];
    if (!tasks.length) {
      out.push(base);
      continue;
    }
    for (const t of tasks) out.push({ ...base, id: `${arrayJobId}_${t}`, arrayJobId, arrayTask: t, ...(tasks.length === 1 ? { rawId: jobId } : {}) });
  }
  return out;
}

/** `sacct -X -n -P -o JobID,State,ExitCode,NodeList,Reason` output (states like "CANCELLED by 0" are cut to the word). */
export function parseSacct(text: string): JobState[] {
  const out: JobState[] = [];
  for (const line of text.split('\n')) {
    const [id, state, exit, nodes, reason] = line.split('|');
    if (!id || !state || !/^\d+(_\d+)?$/.test(id)) continue;
    const j: JobState = { id, state: state.split(' ')[0]!.replace(/\+$/, '') };
    const m = /^(\d+):(\d+)$/.exec(exit ?? '');
    if (m) {
      j.exitCode = Number(m[1]);
      if (Number(m[2])) j.signal = Number(m[2]);
    }
    if (nodes && nodes !== 'None assigned') j.nodes = nodes;
    if (reason && reason !== 'None') j.reason = reason;
    const a = /^(\d+)_(\d+)$/.exec(id);
    if (a) Object.assign(j, { arrayJobId: a[1], arrayTask: Number(a[2]) });
    out.push(j);
  }
  return out;
}

/** The states of the given jobs (array ids cover all their tasks), in one squeue call. */
export async function queryJobs(jobIds: readonly string[], o: SlurmEnv = {}): Promise<{ jobs: Map<string, JobState>; error?: string }> {
  const jobs = new Map<string, JobState>();
  if (!jobIds.length) return { jobs };
  const ids = [...new Set(jobIds.map((j) => j.split('_')[0]!))];
  const r = await slurmExec('squeue', ['-h', '--states=all', `--jobs=${ids.join(',')}`, '-O', SQUEUE_FORMAT], o);
  // Every id unknown (purged): squeue exits 1 with "Invalid job id specified"; that is an empty answer.
  if (!r.ok && !/Invalid job id/i.test(r.stderr)) return { jobs, error: r.error ?? 'squeue failed' };
  for (const j of parseSqueue(r.stdout)) jobs.set(j.id, j);
  return { jobs };
}

/** sacct for jobs squeue no longer lists; error says why not (e.g. accounting storage is disabled). */
export async function queryAccounting(jobIds: readonly string[], o: SlurmEnv = {}): Promise<{ jobs: Map<string, JobState>; error?: string }> {
  const jobs = new Map<string, JobState>();
  if (!jobIds.length) return { jobs };
  const r = await slurmExec('sacct', ['-X', '-n', '-P', '-j', jobIds.join(','), '-o', 'JobID,State,ExitCode,NodeList,Reason'], o);
  const text = `${r.stdout}\n${r.stderr}`;
  if (!r.ok || /accounting storage is disabled/i.test(text)) return { jobs, error: /disabled/i.test(text) ? 'Slurm accounting is disabled on this cluster (sacct)' : (r.error ?? 'sacct failed') };
  for (const j of parseSacct(r.stdout)) jobs.set(j.id, j);
  return { jobs };
}

/** sbatch a script; the job id (array jobs: the array's id). */
export async function submit(script: string, o: SlurmEnv & { cwd?: string } = {}): Promise<string> {
  const r = await slurmExec('sbatch', ['--parsable', script], o);
  const id = r.stdout.trim().split(';')[0]!;
  if (!r.ok || !/^\d+$/.test(id)) throw new Error(`sbatch refused ${script}: ${r.error ?? (r.stdout + r.stderr).trim()}`);
  return id;
}

/** scancel; signal INT with --full reaches the batch script and its children, not only srun steps. */
export async function cancel(jobId: string, o: SlurmEnv & { signal?: string } = {}): Promise<Exec> {
  const args = o.signal ? [`--signal=${o.signal}`, '--full', jobId] : [jobId];
  return slurmExec('scancel', args, o);
}
