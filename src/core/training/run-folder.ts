/**
 * A run's folder, `<workspace>/.grpo-studio/runs/<id>/`: launch.json (what was asked), run.json
 * (what happened: pid, start time, status, exit), stdout.log, stderr.log. Output survives a reload
 * because it lives here, not in the editor.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LaunchPlan, RunProfile } from './profile';

/** 'pending': a Slurm job waiting in the queue (its reason in `job.reason`). */
export type RunStatus = 'starting' | 'pending' | 'running' | 'exited' | 'failed' | 'stopped' | 'lost';
export const FINISHED: readonly RunStatus[] = ['exited', 'failed', 'stopped', 'lost'];

export interface RunRecord extends LaunchPlan {
  id: string;
  clockTicks: number;
  createdAt: string;
  status: RunStatus;
  supervisorPid?: number;
  supervisorStartTicks?: number;
  /** The command's pid; it leads its own process group. */
  pid?: number;
  pgid?: number;
  /** Field 22 of /proc/<pid>/stat: with pid, identifies the process across reloads. */
  startTicks?: number;
  startedAt?: string;
  endedAt?: string;
  exitCode?: number | null;
  signal?: string | null;
  error?: string;
  /** Last lines of each stream, written by the supervisor when the command exits. */
  lastLines?: { stdout: string[]; stderr: string[] };
  /** The profile and the stages before it, as launched: restart and resume re-plan from these. */
  chain?: RunProfile[];
  /** A Slurm run's job, as last seen (docs/slurm.md); persisted so a reload shows the end state. */
  job?: SlurmJobRecord;
}

export interface SlurmJobRecord {
  /** "123", or "123_4" for task 4 of an array (sweep) job. */
  jobId: string;
  arrayJobId?: string;
  arrayTask?: number;
  /** An array task's own job id, once Slurm gave it one (srun --jobid wants it). */
  rawId?: string;
  /** The sbatch script, kept in the run folder. */
  script: string;
  submittedAt: string;
  /** Slurm's state: PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, CANCELLED, … */
  state?: string;
  /** Why it waits or why it ended (Resources, Priority, JobHeldUser, BeginTime, NonZeroExitCode, TimeLimit…). */
  reason?: string;
  /** The job's nodes, compressed (gpu[01-04]). */
  nodes?: string;
  /** Where the final state came from when Slurm no longer lists the job. */
  source?: 'squeue' | 'sacct' | 'exit-code file';
  checkedAt?: string;
}

export const runsRoot = (workspace: string) => join(workspace, '.grpo-studio', 'runs');
export const runDir = (workspace: string, id: string) => join(runsRoot(workspace), id);

/** `<profile>-<yyyymmdd-hhmmss>-<4 hex>`: sorts by time, safe as a folder name. */
export function newRunId(profile: string, now = new Date()): string {
  const safe = profile.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
  const p = (n: number) => String(n).padStart(2, '0');
  const t = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${safe}-${t}-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`;
}

export function readRun(dir: string): RunRecord | undefined {
  for (const f of ['run.json', 'launch.json']) {
    try {
      const raw: unknown = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      if (typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string') return raw as RunRecord;
    } catch {
      // missing or half-written: try the next
    }
  }
  return undefined;
}

/** Atomic write: a reader never sees half a file. */
export function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}

/** Run ids in the workspace, newest first. */
export function listRunIds(workspace: string): string[] {
  const root = runsRoot(workspace);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'launch.json')))
    .map((d) => d.name)
    .sort((a, b) => (timeKey(b) < timeKey(a) ? -1 : timeKey(b) > timeKey(a) ? 1 : 0));
}

// A sweep's task runs end in -t<i> (their array task).
const timeKey = (id: string) => /(\d{8}-\d{6})-[0-9a-f]{4}(?:-t(\d+))?$/.exec(id)?.slice(1).map((x) => (x ?? '').padStart(6, '0')).join('.') ?? id;

/** A run id, or a unique prefix of one (like git). */
export function findRunId(workspace: string, query: string): string {
  const ids = listRunIds(workspace);
  if (ids.includes(query)) return query;
  const hits = ids.filter((id) => id.startsWith(query));
  if (hits.length === 1) return hits[0]!;
  throw new Error(hits.length ? `'${query}' matches ${hits.length} runs: ${hits.slice(0, 5).join(', ')}` : `no run '${query}' in ${runsRoot(workspace)}`);
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}
