/**
 * grpo-studio: the headless CLI over src/core. Each subcommand lives in ./commands/<name>.ts and
 * exports `run(args, io)` returning the exit code. Exit codes: 0 done, 1 the command ran and
 * found a failure it reports, 2 usage error or unreadable input (one line on stderr).
 */
import type { CliIO, Command } from './io';

const COMMANDS: Record<string, () => Promise<Command>> = {
  // Each entry loads its module lazily so one command's dependencies never slow another.
  eval: async () => (await import('./commands/eval')).command,
  export: async () => (await import('./commands/export')).command,
  judge: async () => (await import('./commands/judge')).command,
  query: async () => (await import('./commands/query')).command,
  score: async () => (await import('./commands/score')).command,
  stats: async () => (await import('./commands/stats')).command,
  logs: async () => (await import('./commands/logs')).command,
  metrics: async () => (await import('./commands/metrics')).command,
  ps: async () => (await import('./commands/ps')).command,
  replay: async () => (await import('./commands/replay')).command,
  report: async () => (await import('./commands/report')).command,
  run: async () => (await import('./commands/run')).command,
  stop: async () => (await import('./commands/stop')).command,
};

function usage(): string {
  return [
    'usage: grpo-studio <command> [options]',
    '',
    'commands:',
    ...Object.keys(COMMANDS).sort().map((c) => `  ${c}`),
    '',
    "run 'grpo-studio <command> --help' for a command's options",
  ].join('\n');
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    io.out(usage() + '\n');
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.err(`grpo-studio: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  const cmd = await load();
  return cmd.run(rest, io);
}

if (require.main === module) {
  const io: CliIO = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    env: process.env,
    cwd: process.cwd(),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`grpo-studio: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
