/** grpo-studio ps [--json]: the workspace's runs, newest first, with live status from /proc. */
import { listRunIds, runDir } from '../../core/training/run-folder';
import { inspectRun } from '../../core/training/run-status';
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
}

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseArgs(args, { flags: ['json', 'help'] });
    if (a.flags.has('help')) {
      io.out('usage: grpo-studio ps [--json]\n');
      return 0;
    }
    if (a.positionals.length) throw new UsageError('ps takes no arguments');
    const rows: PsRow[] = [];
    for (const id of listRunIds(io.cwd)) {
      const s = inspectRun(runDir(io.cwd, id));
      if (!s) continue;
      const r = s.record;
      rows.push({
        run: id, profile: r.profile, status: s.status, live: s.live, pid: r.pid ?? null,
        startedAt: r.startedAt ?? null, endedAt: r.endedAt ?? null, exitCode: r.exitCode ?? null, signal: r.signal ?? null,
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
    const table = [['RUN', 'STATUS', 'PID', 'STARTED', 'EXIT'], ...rows.map((r) => [r.run, r.status, r.pid === null ? '-' : String(r.pid), r.startedAt?.replace('T', ' ').slice(0, 19) ?? '-', r.signal ?? (r.exitCode === null ? '-' : String(r.exitCode))])];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) io.out(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
    return 0;
  },
};
