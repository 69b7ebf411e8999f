/**
 * grpo-studio stop <run> [--timeout S]: SIGINT, SIGTERM, then SIGKILL to the whole process tree.
 * Exits 0 only when no process of the run is left; 1 with the survivors' pids otherwise.
 */
import { findRunId } from '../../core/training/run-folder';
import { RunManager } from '../../core/training/run-manager';
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
      const r = await manager.stop(id, {
        intGraceMs: ms * 0.5,
        termGraceMs: ms * 0.3,
        killWaitMs: Math.max(ms * 0.2, 1000),
        onStage: (stage, alive) => io.err(`grpo-studio: ${stage} -> ${alive.length} process${alive.length === 1 ? '' : 'es'}\n`),
      });
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
