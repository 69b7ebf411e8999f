/**
 * grpo-studio logs <run> [--follow]: the run's stdout (to stdout) and stderr (to stderr), from the
 * files in its run folder; --follow keeps printing until the run ends (a Slurm run: until squeue,
 * asked every 5 s, reports its job ended).
 */
import { join } from 'node:path';
import { LogFollower } from '../../core/training/log-follower';
import { findRunId, readRun, runDir } from '../../core/training/run-folder';
import { inspectRun } from '../../core/training/run-status';
import { refreshSlurmRuns } from '../../core/training/slurm-runs';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseArgs(args, { flags: ['follow', 'help'] });
    if (a.flags.has('help')) {
      io.out('usage: grpo-studio logs <run> [--follow]\n');
      return 0;
    }
    if (a.positionals.length !== 1) throw new UsageError('logs needs one run id (or a unique prefix)');
    let dir: string;
    try {
      dir = runDir(io.cwd, findRunId(io.cwd, a.positionals[0]!));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const followers = [new LogFollower(join(dir, 'stdout.log'), (t) => io.out(t)), new LogFollower(join(dir, 'stderr.log'), (t) => io.err(t))];
    const pollAll = () => followers.forEach((f) => f.poll());
    pollAll();
    if (!a.flags.has('follow')) return 0;
    // squeue is asked at most this often (GRPO_STUDIO_SLURM_POLL_MS, default 5 s).
    const slurmPollMs = Math.max(500, Number(io.env.GRPO_STUDIO_SLURM_POLL_MS) || 5000);
    let asked = 0;
    while (inspectRun(dir)?.live) {
      await new Promise((r) => setTimeout(r, 200));
      pollAll();
      const rec = readRun(dir);
      if (rec?.job && Date.now() - asked >= slurmPollMs) {
        asked = Date.now();
        await refreshSlurmRuns([{ dir, record: rec }], { env: io.env });
      }
    }
    pollAll();
    return 0;
  },
};
