/** What a CLI command may touch, passed in so tests can run commands in-process too. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  run(args: string[], io: CliIO): Promise<number>;
}

/** A CLI error that ends the command with exit 2 and one line on stderr. */
export class UsageError extends Error {}

/** Minimal flag parser: `--name value`, `--flag`, positionals. Unknown flags are usage errors. */
export function parseArgs(
  args: string[],
  spec: { flags?: string[]; options?: string[]; multi?: string[] },
): { positionals: string[]; flags: Set<string>; options: Map<string, string>; multi: Map<string, string[]> } {
  const flags = new Set<string>();
  const options = new Map<string, string>();
  const multi = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const inline = eq > 0 ? a.slice(eq + 1) : undefined;
      if (spec.flags?.includes(name)) {
        flags.add(name);
      } else if (spec.options?.includes(name) || spec.multi?.includes(name)) {
        const v = inline ?? args[++i];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        if (spec.multi?.includes(name)) multi.set(name, [...(multi.get(name) ?? []), v]);
        else options.set(name, v);
      } else throw new UsageError(`unknown option --${name}`);
    } else positionals.push(a);
  }
  return { positionals, flags, options, multi };
}
