/**
 * grpo-studio ps [--json]: the workspace's runs, newest first, with live status from /proc; a
 * Slurm run's from one squeue call for all of them (its state, why it waits, its nodes).
 */
import { FINISHED, listRunIds, readRun, runDir } from '../../core/training/run-folder';
import { inspectRun } from '../../core/training/run-status';
import { jobLine, refreshSlurmRuns } from '../../core/training/slurm-runs';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';

export interface PsRow {
  run: string;
  profile: string;
  status: string;
  live: boolean;
  pid: number | null;
  startedAt: string | null;
  endedAt: string | null;
  exitCode: number | null;
  signal: string | null;
  /** Slurm runs: the job id and what Slurm said last. */
  job: string | null;
  slurmState: string | null;
  reason: string | null;
  nodes: string | null;
}

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseArgs(args, { flags: ['json', 'help'] });
    if (a.flags.has('help')) {
      io.out('usage: grpo-studio ps [--json]\n');
      return 0;
    }
    if (a.positionals.length) throw new UsageError('ps takes no arguments');
    const ids = listRunIds(io.cwd);
    const slurm = ids.map((id) => ({ dir: runDir(io.cwd, id), record: readRun(runDir(io.cwd, id)) })).filter((r) => r.record?.job && !FINISHED.includes(r.record.status));
    if (slurm.length) {
      const r = await refreshSlurmRuns(slurm.map((x) => ({ dir: x.dir, record: x.record! })), { env: io.env });
      if (r.error) io.err(`grpo-studio: Slurm runs show their last known state: ${r.error}\n`);
    }
    const rows: PsRow[] = [];
    for (const id of ids) {
      const s = inspectRun(runDir(io.cwd, id));
      if (!s) continue;
      const r = s.record;
      rows.push({
        run: id, profile: r.profile, status: s.status, live: s.live, pid: r.pid ?? null,
        startedAt: r.startedAt ?? null, endedAt: r.endedAt ?? null, exitCode: r.exitCode ?? null, signal: r.signal ?? null,
        job: r.job?.jobId ?? null, slurmState: r.job?.state ?? null, reason: r.job?.reason ?? null, nodes: r.job?.nodes ?? null,
      });
    }
    if (a.flags.has('json')) {
      io.out(JSON.stringify(rows) + '\n');
      return 0;
    }
    if (!rows.length) {
      io.out('no runs in this workspace\n');
      return 0;
    }
    const where = (r: PsRow) => (r.job ? jobLine({ jobId: r.job, ...(r.slurmState ? { state: r.slurmState } : {}), ...(r.reason ? { reason: r.reason } : {}), ...(r.nodes ? { nodes: r.nodes } : {}), script: '', submittedAt: '' }) : r.pid === null ? '-' : String(r.pid));
    const table = [['RUN', 'STATUS', rows.some((r) => r.job) ? 'PID / JOB' : 'PID', 'STARTED', 'EXIT'], ...rows.map((r) => [r.run, r.status, where(r), r.startedAt?.replace('T', ' ').slice(0, 19) ?? '-', r.signal ?? (r.exitCode === null ? '-' : String(r.exitCode))])];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) io.out(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
    return 0;
  },
};
