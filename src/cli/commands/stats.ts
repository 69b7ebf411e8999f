/** `grpo-studio stats <file>`: what a rollout file holds, and where its learning signal is missing. */
import { resolve } from 'node:path';
import { RunningStats } from '../../core/rewards/group';
import { isVariantName, REWARD_VARIANTS, scoreRecord, type VariantName } from '../../core/rewards/variants';
import { GroupKeys } from '../../core/rollouts/groups';
import { SOURCE_HELP, SOURCE_OPTIONS, sourceOptions } from '../../core/ingest/options';
import { openSource, type OpenOptions } from '../../core/ingest/source';
import { followSteps } from '../../core/ingest/steps';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';
import { oneLine, reportSource } from '../sourceReport';

const HELP = `usage: grpo-studio stats <path> [--json] [--variant V] [--format F] [--follow [--poll]]

Summarises a v1 rollout file. --json prints exactly one JSON line with:
  completions           valid completions read
  groups                GRPO groups (the "group" field, else consecutive records with the same
                        step and identical prompt)
  steps                 [min, max] of "step", or null
  bad_lines             [{line, error}] for every line that is not a valid record
  rewards               {name: {mean, std}} over the LOGGED per-function rewards
  reward                {mean, std} over the LOGGED total ("reward", else the sum of "rewards"),
                        or null when nothing is logged
  zero_variance_groups  groups whose totals RECOMPUTED under --variant are all equal (no learning
                        signal; a group of one counts, its advantage is 0)
  format_failures       completions whose RECOMPUTED format reward is 0
std is the SAMPLE standard deviation (divides by N-1, like torch.std), 0 for fewer than two values.
--variant: ${Object.keys(REWARD_VARIANTS).join(', ')} (default grounding).
Bad lines and source notes also go to stderr, as <file>:<line>: <error> and
<file>[:<line>]: note: <message>. Exit 0 when the file was read (bad lines are reported, not
fatal); 2 for a missing or unreadable file or bad usage.
${SOURCE_HELP}
--follow              keep reading while the run writes (a file, a folder of per-step files, or a
                      quoted glob) and print one JSON line per step once the next step begins,
                      the same fields per step plus "step" ("update": true for late records);
                      Ctrl-C summarises the open steps and exits 0. --poll: never use file events.
`;

interface GroupTally {
  first: number;
  equal: boolean;
}

export interface FileStats {
  completions: number;
  groups: number;
  steps: [number, number] | null;
  bad_lines: { line: number; error: string }[];
  rewards: Record<string, { mean: number; std: number }>;
  reward: { mean: number; std: number } | null;
  zero_variance_groups: number;
  format_failures: number;
}

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    let file: string;
    let json: boolean;
    let variant: VariantName = 'grounding';
    let source: OpenOptions;
    let follow: { poll: boolean } | null;
    try {
      const a = parseArgs(args, { flags: ['help', 'json', 'follow', 'poll'], options: ['variant', ...SOURCE_OPTIONS] });
      if (a.flags.has('help')) {
        io.out(HELP);
        return 0;
      }
      if (a.positionals.length !== 1) throw new UsageError('stats needs exactly one <file>');
      file = a.positionals[0]!;
      json = a.flags.has('json');
      const so = sourceOptions(a.options);
      if (typeof so === 'string') throw new UsageError(so);
      source = so;
      follow = a.flags.has('follow') ? { poll: a.flags.has('poll') } : null;
      const v = a.options.get('variant');
      if (v !== undefined) {
        if (!isVariantName(v)) throw new UsageError(`unknown --variant '${v}' (one of ${Object.keys(REWARD_VARIANTS).join(', ')})`);
        variant = v;
      }
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(`grpo-studio stats: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    if (follow) return followStats(resolve(io.cwd, file), { ...source, polling: follow.poll }, variant, io);

    const keys = new GroupKeys();
    const groups = new Map<string, GroupTally>();
    const perName = new Map<string, RunningStats>();
    const total = new RunningStats();
    let minStep = Infinity;
    let maxStep = -Infinity;
    let formatFailures = 0;
    let summary;
    try {
      summary = await (await openSource(resolve(io.cwd, file), source)).read((rec) => {
        if (rec.step !== undefined) {
          minStep = Math.min(minStep, rec.step);
          maxStep = Math.max(maxStep, rec.step);
        }
        for (const [k, v] of Object.entries(rec.rewards ?? {})) {
          let s = perName.get(k);
          if (!s) perName.set(k, (s = new RunningStats()));
          s.add(v);
        }
        const logged = rec.reward ?? (rec.rewards ? Object.values(rec.rewards).reduce((a, b) => a + b, 0) : undefined);
        if (logged !== undefined) total.add(logged);
        const score = scoreRecord(rec, variant);
        if (score.rewards.format === 0) formatFailures++;
        const key = keys.keyOf(rec);
        const g = groups.get(key);
        if (!g) groups.set(key, { first: score.reward, equal: true });
        else if (score.reward !== g.first) g.equal = false;
      });
    } catch (e) {
      io.err(`grpo-studio stats: cannot read ${file}: ${oneLine(e)}\n`);
      return 2;
    }

    reportSource(io, file, resolve(io.cwd, file), summary);
    const stats: FileStats = {
      completions: summary.completions,
      groups: groups.size,
      steps: minStep <= maxStep ? [minStep, maxStep] : null,
      bad_lines: summary.badLines.map((b) => ({ line: b.line, error: b.error })),
      rewards: Object.fromEntries([...perName].map(([k, s]) => [k, { mean: s.mean, std: s.std }])),
      reward: total.n ? { mean: total.mean, std: total.std } : null,
      zero_variance_groups: [...groups.values()].filter((g) => g.equal).length,
      format_failures: formatFailures,
    };
    io.out(json ? JSON.stringify(stats) + '\n' : table(file, variant, stats));
    return 0;
  },
};

function table(file: string, variant: VariantName, s: FileStats): string {
  const num = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(4));
  const ms = (x: { mean: number; std: number }): string => `mean ${num(x.mean)}  std ${num(x.std)}`;
  const rows: [string, string][] = [
    ['file', file],
    ['completions', String(s.completions)],
    ['groups', `${s.groups} (${s.zero_variance_groups} with zero variance under ${variant})`],
    ['steps', s.steps ? `${s.steps[0]}..${s.steps[1]}` : '-'],
    ['format failures', `${s.format_failures} (recomputed under ${variant})`],
    ['reward (logged)', s.reward ? ms(s.reward) : '-'],
    ...Object.entries(s.rewards).map(([k, v]): [string, string] => [`  ${k}`, ms(v)]),
    ['bad lines', String(s.bad_lines.length)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  const shown = s.bad_lines.slice(0, 20);
  for (const b of shown) out.push(`  line ${b.line}: ${b.error}`);
  if (s.bad_lines.length > shown.length) out.push(`  … ${s.bad_lines.length - shown.length} more (see --json)`);
  return out.join('\n') + '\n';
}

/** `--follow`: one JSON line per completed step until SIGINT/SIGTERM. */
async function followStats(path: string, opts: OpenOptions & { polling: boolean }, variant: VariantName, io: CliIO): Promise<number> {
  const run = await followSteps(
    path,
    { format: opts.format, numGenerations: opts.numGenerations, polling: opts.polling },
    variant,
    (s) => io.out(JSON.stringify(s) + '\n'),
    (b) => io.err(`${b.file ?? path}:${b.line}: ${b.error}\n`),
    (e) => io.err(`grpo-studio stats: ${e instanceof Error ? e.message : String(e)}\n`),
  );
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await run.stop();
  return 0;
}
