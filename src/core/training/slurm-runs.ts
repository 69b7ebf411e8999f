/**
 * Slurm runs in run folders: submit (one run folder per job, or per array task of a sweep), keep
 * each folder's run.json in step with what Slurm says (one squeue call for all of them), and stop
 * (SIGINT to the batch script and its children first, so the trainer's trap / checkpoint hook
 * runs; plain scancel after a grace period). run.json is the only state: a reloaded editor, a
 * second window and the CLI read the same. See docs/slurm.md.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LaunchPlan, RunProfile } from './profile';
import { ensureDir, FINISHED, newRunId, readRun, runDir, writeJson, type RunRecord, type RunStatus, type SlurmJobRecord } from './run-folder';
import { cancel, FINAL_STATES, PENDING_STATES, queryAccounting, queryJobs, submit, type JobState, type SlurmEnv } from './slurm-cli';
import { EXIT_FILE, renderScript, SCRIPT_FILE, type ScriptTask } from './slurm-script';
import type { StopResult, StopStage } from './stop-tree';

export const STOP_FILE = 'stop-requested';

export interface SubmitOptions extends SlurmEnv {
  workspace: string;
  profile: RunProfile;
  chain: RunProfile[];
  /** The plan of sweep task i (0 for a plain job). */
  planFor(index: number): LaunchPlan;
  clockTicks: number;
  /** Submit only this task of a sweep (a restart or resume of one task), as a plain job. */
  only?: number;
  /** Shown the script before sbatch; false cancels the submission (its folders are removed). */
  confirm?(script: string, file: string): Promise<boolean> | boolean;
}

/** Write the run folders and the script, sbatch it, record the job. Returns the run ids (one per task). */
export async function submitSlurm(o: SubmitOptions): Promise<string[] | undefined> {
  const count = o.only !== undefined ? 1 : (o.profile.sweep?.length ?? 1);
  const base = newRunId(o.profile.name);
  const tasks: ScriptTask[] = [];
  const records: RunRecord[] = [];
  const createdAt = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const id = count > 1 ? `${base}-t${i}` : base;
    const dir = runDir(o.workspace, id);
    const plan = o.planFor(o.only ?? i);
    ensureDir(dir);
    if (plan.outputDir) ensureDir(plan.outputDir);
    tasks.push({ id, dir, plan });
    records.push({ ...plan, id, clockTicks: o.clockTicks, createdAt, status: 'starting', chain: o.chain });
  }
  const script = renderScript(tasks, { jobName: `grpo-${o.profile.name}`, ...(count > 1 ? { arrayDirPrefix: runDir(o.workspace, `${base}-t`) } : {}) });
  tasks.forEach((t, i) => {
    writeFileSync(join(t.dir, SCRIPT_FILE), script, { mode: 0o755 });
    writeJson(join(t.dir, 'launch.json'), records[i]);
  });
  const file = join(tasks[0]!.dir, SCRIPT_FILE);
  if (o.confirm && !(await o.confirm(script, file))) {
    for (const t of tasks) rmSync(t.dir, { recursive: true, force: true });
    return undefined;
  }
  let jobId: string;
  try {
    jobId = await submit(file, { ...o, cwd: tasks[0]!.plan.cwd });
  } catch (e) {
    const error = (e as Error).message;
    tasks.forEach((t, i) => writeJson(join(t.dir, 'run.json'), { ...records[i], status: 'failed', error, endedAt: new Date().toISOString() }));
    throw e;
  }
  const submittedAt = new Date().toISOString();
  tasks.forEach((t, i) => {
    const job = count > 1 ? { jobId: `${jobId}_${i}`, arrayJobId: jobId, arrayTask: i } : { jobId };
    writeJson(join(t.dir, 'run.json'), { ...records[i], status: 'pending', job: { ...job, script: join(t.dir, SCRIPT_FILE), submittedAt, state: 'PENDING' } });
  });
  return tasks.map((t) => t.id);
}

/** "job 12 RUNNING on gpu[01-02]", "job 12 PENDING (Priority)", "job 12 TIMEOUT (TimeLimit)". */
export function jobLine(j: SlurmJobRecord): string {
  return `job ${j.jobId} ${j.state ?? '?'}${j.state === 'RUNNING' && j.nodes ? ` on ${j.nodes}` : j.reason ? ` (${j.reason})` : ''}`;
}

/** The run status a Slurm state means; a stop the user asked for reads as 'stopped'. */
export function statusOfJob(state: string, stopRequested: boolean): RunStatus {
  if (PENDING_STATES.includes(state)) return 'pending';
  if (!FINAL_STATES.includes(state)) return 'running';
  if (stopRequested) return 'stopped';
  if (state === 'COMPLETED') return 'exited';
  if (state === 'CANCELLED') return 'stopped';
  return 'failed';
}

/** A record updated with what Slurm said of its job; the same object when nothing changed. */
export function applyJobState(rec: RunRecord, j: JobState, stopRequested: boolean, source: 'squeue' | 'sacct' | 'exit-code file' = 'squeue'): RunRecord {
  const job = rec.job!;
  const status = statusOfJob(j.state, stopRequested);
  const same = job.state === j.state && job.reason === j.reason && job.nodes === j.nodes && rec.status === status && rec.exitCode === j.exitCode;
  if (same) return rec;
  const now = new Date().toISOString();
  const next: RunRecord = { ...rec, status, job: { ...job, state: j.state, checkedAt: now, source } };
  if (j.rawId) next.job!.rawId = j.rawId;
  for (const k of ['reason', 'nodes'] as const) {
    if (j[k] !== undefined) next.job![k] = j[k];
    else delete next.job![k];
  }
  if (status === 'running' && !rec.startedAt) next.startedAt = now;
  if (FINISHED.includes(status)) {
    next.endedAt ??= now;
    if (j.exitCode !== undefined) next.exitCode = j.exitCode;
    next.signal = j.signal !== undefined ? `signal ${j.signal}` : null;
    if (status === 'failed' && j.state !== 'FAILED') next.error = `Slurm ended the job: ${j.state}${j.reason ? ` (${j.reason})` : ''}`;
  }
  return next;
}

export interface SlurmRunRef {
  dir: string;
  record: RunRecord;
}

/**
 * Bring every live Slurm run's run.json up to date with one squeue call (plus sacct, then the
 * job's exit-code file, for jobs squeue no longer lists). Returns the folders that changed; on a
 * controller that does not answer, nothing changes and `error` says why.
 */
export async function refreshSlurmRuns(runs: readonly SlurmRunRef[], o: SlurmEnv = {}): Promise<{ changed: string[]; error?: string }> {
  const live = runs.filter((r) => r.record.job && !FINISHED.includes(r.record.status));
  if (!live.length) return { changed: [] };
  const q = await queryJobs(live.map((r) => r.record.job!.jobId), o);
  if (q.error) return { changed: [], error: q.error };
  const missing = live.filter((r) => !q.jobs.has(r.record.job!.jobId));
  const acct: { jobs: Map<string, JobState>; error?: string } = missing.length ? await queryAccounting(missing.map((r) => r.record.job!.jobId), o) : { jobs: new Map() };
  const changed: string[] = [];
  for (const r of live) {
    const rec = readRun(r.dir) ?? r.record;
    if (FINISHED.includes(rec.status) || !rec.job) continue;
    const stop = existsSync(join(r.dir, STOP_FILE));
    const id = rec.job.jobId;
    let next: RunRecord;
    const seen = q.jobs.get(id);
    const accounted = acct.jobs.get(id);
    if (seen) next = applyJobState(rec, seen, stop);
    else if (accounted) next = applyJobState(rec, accounted, stop, 'sacct');
    else {
      // Slurm has forgotten the job (MinJobAge) and has no accounting: its own exit file tells the end.
      const code = readExitFile(r.dir);
      if (code !== undefined) next = applyJobState(rec, { id, state: code === 0 ? 'COMPLETED' : 'FAILED', exitCode: code }, stop, 'exit-code file');
      else {
        const why = `Slurm no longer lists job ${id} and it left no exit status${acct.error ? ` (${acct.error})` : ''}`;
        next = { ...rec, status: 'lost', error: why, endedAt: new Date().toISOString() };
      }
    }
    if (next !== rec) {
      writeJson(join(r.dir, 'run.json'), next);
      changed.push(r.dir);
    }
  }
  return { changed };
}

function readExitFile(dir: string): number | undefined {
  try {
    const n = Number(readFileSync(join(dir, EXIT_FILE), 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface SlurmStopOptions extends SlurmEnv {
  /** Wait after `scancel --signal=INT` before plain scancel (ms; default the profile's stopGraceSeconds, else 60 s). */
  intGraceMs?: number;
  /** Wait after scancel (which is TERM, then KILL after the cluster's KillWait) before giving up (ms). */
  killWaitMs?: number;
  pollMs?: number;
  onStage?: (stage: StopStage, alive: number[]) => void;
}

/** Stop a Slurm run; ok once Slurm reports its job in a final state (recorded in run.json). */
export async function stopSlurmRun(dir: string, o: SlurmStopOptions = {}): Promise<StopResult & { state?: string }> {
  const rec = readRun(dir);
  if (!rec?.job) throw new Error(`${dir} is not a submitted Slurm run`);
  const result = (ok: boolean, stage: StopStage | 'none'): StopResult & { state?: string } => {
    const r = readRun(dir);
    return { ok, stage, survivors: [], seen: [], ...(r?.job?.state ? { state: r.job.state } : {}) };
  };
  if (FINISHED.includes(rec.status)) return result(true, 'none');
  writeFileSync(join(dir, STOP_FILE), new Date().toISOString() + '\n');
  const poll = o.pollMs ?? 1000;
  const finalNow = async () => {
    await refreshSlurmRuns([{ dir, record: readRun(dir) ?? rec }], o);
    const r = readRun(dir);
    return r !== undefined && FINISHED.includes(r.status);
  };
  const waitFinal = async (ms: number) => {
    const end = Date.now() + ms;
    for (;;) {
      if (await finalNow()) return true;
      if (Date.now() >= end) return false;
      await new Promise((r) => setTimeout(r, poll));
    }
  };
  const jobId = rec.job.jobId;
  let sent = false;
  // A job still in the queue has no process to signal: cancel it outright.
  if (!(await finalNow()) && readRun(dir)?.status !== 'pending') {
    o.onStage?.('SIGINT', []);
    sent = true;
    const r = await cancel(jobId, { ...o, signal: 'INT' });
    if (r.ok && (await waitFinal(o.intGraceMs ?? (rec.slurm?.stopGraceSeconds ?? 60) * 1000))) return result(true, 'SIGINT');
  }
  if (await finalNow()) return result(true, sent ? 'SIGINT' : 'none');
  o.onStage?.('SIGTERM', []);
  const r = await cancel(jobId, o);
  if (!r.ok && !/already completing|completed|Invalid job id/i.test(r.stderr)) throw new Error(r.error ?? `scancel ${jobId} failed`);
  return result(await waitFinal(o.killWaitMs ?? 60_000), 'SIGTERM');
}
