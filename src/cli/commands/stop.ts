/**
 * grpo-studio stop <run> [--timeout S]: SIGINT, SIGTERM, then SIGKILL to the whole process tree.
 * Exits 0 only when no process of the run is left; 1 with the survivors' pids otherwise.
 * A Slurm run: `scancel --signal=INT --full` (the job's traps and checkpoint hooks run), then
 * `scancel` after half the timeout; exits 0 once Slurm reports the job ended.
 */
import { findRunId, readRun, runDir } from '../../core/training/run-folder';
import { RunManager } from '../../core/training/run-manager';
import { jobLine } from '../../core/training/slurm-runs';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseArgs(args, { flags: ['help'], options: ['timeout'] });
    if (a.flags.has('help')) {
      io.out('usage: grpo-studio stop <run> [--timeout S]   (S: total seconds before giving up, default 30)\n');
      return 0;
    }
    if (a.positionals.length !== 1) throw new UsageError('stop needs one run id (or a unique prefix)');
    const timeout = Number(a.options.get('timeout') ?? 30);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError('--timeout must be a positive number of seconds');
    let id: string;
    try {
      id = findRunId(io.cwd, a.positionals[0]!);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const manager = new RunManager({ workspace: io.cwd, env: io.env });
    try {
      // Half the time for a clean Ctrl-C-style exit (checkpoint saving), then SIGTERM, then SIGKILL.
      const ms = timeout * 1000;
      // A Slurm job: half for INT, half for scancel (TERM, then KILL after the cluster's KillWait).
      const slurm = readRun(runDir(io.cwd, id))?.job !== undefined;
      const r = await manager.stop(id, {
        intGraceMs: ms * 0.5,
        termGraceMs: ms * 0.3,
        killWaitMs: slurm ? ms * 0.5 : Math.max(ms * 0.2, 1000),
        onStage: (stage, alive) =>
          io.err(readRun(runDir(io.cwd, id))?.job ? `grpo-studio: ${stage === 'SIGINT' ? 'scancel --signal=INT --full' : 'scancel'}\n` : `grpo-studio: ${stage} -> ${alive.length} process${alive.length === 1 ? '' : 'es'}\n`),
      });
      const job = readRun(runDir(io.cwd, id))?.job;
      if (job) {
        if (r.ok) io.out(`stopped ${id}: ${jobLine(job)}${job.state && r.stage === 'SIGINT' ? ' after SIGINT' : ''}\n`);
        else io.err(`grpo-studio: ${id}: Slurm still reports ${jobLine(job)} after scancel\n`);
        return r.ok ? 0 : 1;
      }
      if (r.ok) {
        io.out(`stopped ${id}${r.stage === 'none' ? ' (nothing was running)' : ` (${r.stage}, ${r.seen.length} processes)`}\n`);
        return 0;
      }
      io.err(`grpo-studio: ${id}: ${r.survivors.length} processes survived: ${r.survivors.join(', ')}\n`);
      return 1;
    } finally {
      manager.dispose();
    }
  },
};
