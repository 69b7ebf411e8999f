/** `grpo-studio export <path>`: the valid completions of any trainer format as canonical v1 JSONL, in file order. */
import { resolve } from 'node:path';
import { SOURCE_HELP, SOURCE_OPTIONS, sourceOptions } from '../../core/ingest/options';
import { openSource, type OpenOptions } from '../../core/ingest/source';
import { recordToJSON } from '../../core/schema/record';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';
import { oneLine, reportSource } from '../sourceReport';

const HELP = `usage: grpo-studio export <path> [--format F] [--num-generations N]

Writes every valid completion of a rollout source to stdout as canonical v1 JSON, one per line,
in file order (unknown fields kept). Bad lines are reported on stderr as <file>:<line>: <error>
and skipped; what the reader noticed about the input (a group size that disagrees, steps that
were inferred) follows as <file>[:<line>]: note: <message>. The exit code is still 0.
Exit 2: missing/unreadable file or bad usage.
${SOURCE_HELP}
`;

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    let file: string;
    let source: OpenOptions;
    try {
      const a = parseArgs(args, { flags: ['help'], options: SOURCE_OPTIONS });
      if (a.flags.has('help')) {
        io.out(HELP);
        return 0;
      }
      if (a.positionals.length !== 1) throw new UsageError('export needs exactly one <file>');
      file = a.positionals[0]!;
      const so = sourceOptions(a.options);
      if (typeof so === 'string') throw new UsageError(so);
      source = so;
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(`grpo-studio export: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    // Batched writes: one write per line is slow on a pipe for a million lines.
    let batch: string[] = [];
    let size = 0;
    const flush = (): void => {
      if (batch.length) io.out(batch.join(''));
      batch = [];
      size = 0;
    };
    let summary;
    try {
      summary = await (await openSource(resolve(io.cwd, file), source)).read((rec) => {
        const s = JSON.stringify(recordToJSON(rec)) + '\n';
        batch.push(s);
        size += s.length;
        if (size > 1 << 16) flush();
      });
    } catch (e) {
      flush();
      io.err(`grpo-studio export: cannot read ${file}: ${oneLine(e)}\n`);
      return 2;
    }
    flush();
    reportSource(io, file, resolve(io.cwd, file), summary);
    return 0;
  },
};
