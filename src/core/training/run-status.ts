/**
 * Is a recorded run still alive? Read from its folder alone, so the CLI, a reloaded editor and a
 * second window agree. A run is alive only when its pid exists with the start time recorded at
 * launch: a pid the kernel handed to another process is never mistaken for the run.
 */
import { join } from 'node:path';
import { isAlive } from './process-table';
import { FINISHED, readRun, writeJson, type RunRecord, type RunStatus } from './run-folder';

export interface RunState {
  record: RunRecord;
  status: RunStatus;
  /** The command (or its supervisor, about to record the exit) is running. */
  live: boolean;
  /** Why a run is 'lost', in words. */
  reason?: string;
}

export function commandAlive(rec: RunRecord): boolean {
  return rec.pid !== undefined && rec.startTicks !== undefined && isAlive({ pid: rec.pid, startTicks: rec.startTicks });
}

export function supervisorAlive(rec: RunRecord): boolean {
  return rec.supervisorPid !== undefined && rec.supervisorStartTicks !== undefined && isAlive({ pid: rec.supervisorPid, startTicks: rec.supervisorStartTicks });
}

/**
 * Current state of the run in `dir`. With `repair`, a run whose supervisor died without writing
 * the exit (killed, machine rebooted) is marked 'lost' in run.json — safe, as no one else writes it.
 */
export function inspectRun(dir: string, repair = false): RunState | undefined {
  const rec = readRun(dir);
  if (!rec) return undefined;
  if (FINISHED.includes(rec.status)) return { record: rec, status: rec.status, live: false };
  // A Slurm job's processes are on its nodes, not in this /proc: its state is what Slurm last
  // said, kept in run.json by slurm-runs.ts.
  if (rec.slurm !== undefined) {
    if (rec.job || Date.now() - Date.parse(rec.createdAt) < 120_000) return { record: rec, status: rec.status, live: true };
    const reason = 'the submission ended before sbatch gave a job id';
    if (repair) writeJson(join(dir, 'run.json'), { ...rec, status: 'lost', error: reason });
    return { record: { ...rec, status: 'lost', error: reason }, status: 'lost', live: false, reason };
  }
  if (commandAlive(rec) || supervisorAlive(rec)) return { record: rec, status: rec.status, live: true };
  // Give a supervisor that is just starting a moment before calling the run lost.
  if (rec.status === 'starting' && rec.supervisorPid === undefined && Date.now() - Date.parse(rec.createdAt) < 10_000) {
    return { record: rec, status: 'starting', live: true };
  }
  const reused = rec.pid !== undefined && !commandAlive(rec) && pidExists(rec.pid);
  const reason = reused
    ? `pid ${rec.pid} now belongs to another process (start time differs)`
    : 'the run ended without its exit status being recorded';
  if (repair) writeJson(join(dir, 'run.json'), { ...rec, status: 'lost', error: reason });
  return { record: { ...rec, status: 'lost', error: reason }, status: 'lost', live: false, reason };
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
