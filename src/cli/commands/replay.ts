/**
 * grpo-studio replay <recorded-run> [--speed X] [--out FILE] [--step-seconds S]
 * Re-emits a recorded run: its rollouts appended to --out at the original pace, its metrics and
 * progress printed to stdout as a trainer prints them. The demo's run on machines without a GPU.
 */
import { resolve } from 'node:path';
import { loadRecording, replay } from '../../core/training/replay';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';

const HELP = `usage: grpo-studio replay <recorded-run> [--speed X] [--out FILE] [--step-seconds S]
  <recorded-run>    a folder with rollouts.jsonl (or *.rollouts.jsonl, optional metrics.jsonl) or a v1 file
  --speed X         X times the original pace (default 1)
  --out FILE        rollouts file to append to (default ./rollouts.jsonl; emptied first)
  --step-seconds S  seconds per step when records carry no meta.time (default 2)
`;

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    const a = parseArgs(args, { flags: ['help'], options: ['speed', 'out', 'step-seconds'] });
    if (a.flags.has('help')) {
      io.out(HELP);
      return 0;
    }
    if (a.positionals.length !== 1) throw new UsageError('replay needs one recorded run (folder or file)');
    const speed = Number(a.options.get('speed') ?? 1);
    const stepSeconds = Number(a.options.get('step-seconds') ?? 2);
    if (!(speed > 0)) throw new UsageError('--speed must be a positive number');
    if (!(stepSeconds >= 0)) throw new UsageError('--step-seconds must be a number >= 0');
    let rec;
    try {
      rec = loadRecording(resolve(io.cwd, a.positionals[0]!));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (rec.badLines) io.err(`grpo-studio: skipped ${rec.badLines} unreadable lines of ${rec.rolloutsFile}\n`);
    const out = resolve(io.cwd, a.options.get('out') ?? 'rollouts.jsonl');
    const n = await replay(rec, { out, speed, stepSeconds, print: (l) => io.out(l + '\n') });
    io.err(`grpo-studio: replayed ${n} completions into ${out}\n`);
    return 0;
  },
};
