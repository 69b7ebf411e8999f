/** `grpo-studio stats <file>`: what a rollout file holds, and where its learning signal is missing. */
import { resolve } from 'node:path';
import { RunningStats } from '../../core/rewards/group';
import { isVariantName, REWARD_VARIANTS, type VariantName } from '../../core/rewards/variants';
import { DEFAULT_SCORE_OPTIONS } from '../../core/rewards/scoreDefaults';
import { GROUP_FLAG_BITS } from '../../core/index/score';
import { RolloutView } from '../../core/view/rolloutView';
import type { LocatedRecord } from '../../core/ingest/types';
import type { BadLine } from '../../core/schema/record';
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
  zero_variance_groups  groups of two or more whose totals are all equal (no learning signal): the
                        LOGGED totals when every member logs one, else the RECOMPUTED ones under
                        --variant (the viewer's zero_variance flag)
  format_failures       completions whose RECOMPUTED format reward is 0
Rewards are kept as float32 (as the rollout index keeps them): means are exact to ~7 digits.
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

    // The one model: the viewer's RolloutView (records scored as read, then dropped), so these
    // counts are the viewer's (its groups, its zero_variance flag, its format failures).
    const view = new RolloutView({ ...DEFAULT_SCORE_OPTIONS, variant });
    let summary;
    try {
      const src = await openSource(resolve(io.cwd, file), source);
      view.readBack = src.format === 'native';
      let batch: LocatedRecord[] = [];
      summary = await src.read((record, loc) => {
        batch.push({ record, loc });
        if (batch.length >= 4096) {
          view.append(batch);
          batch = [];
        }
      });
      view.append(batch);
      view.settle();
    } catch (e) {
      await view.close();
      io.err(`grpo-studio stats: cannot read ${file}: ${oneLine(e)}\n`);
      return 2;
    }
    const stats = fileStats(view, summary.badLines);
    await view.close();
    reportSource(io, file, resolve(io.cwd, file), summary);
    io.out(json ? JSON.stringify(stats) + '\n' : table(file, variant, stats));
    return 0;
  },
};

/** The summary from the model's columns (float32, as the index keeps them). */
function fileStats(view: RolloutView, badLines: readonly BadLine[]): FileStats {
  const index = view.index;
  const live: number[] = [];
  for (let r = 0; r < index.count; r++) if (index.group.data[r]! >= 0) live.push(r);
  let minStep = Infinity;
  let maxStep = -Infinity;
  for (const r of live) {
    const st = index.step.data[r]!;
    if (st < 0) continue;
    minStep = Math.min(minStep, st);
    maxStep = Math.max(maxStep, st);
  }
  const spread = (data: ArrayLike<number>): { mean: number; std: number } | null => {
    const s = new RunningStats();
    for (const r of live) if (!Number.isNaN(data[r]!)) s.add(data[r]!);
    return s.n ? { mean: s.mean, std: s.std } : null;
  };
  const rewards: FileStats['rewards'] = Object.create(null);
  for (const name of index.rewardNames) rewards[name] = spread(index.rewards.get(name)!.data)!;
  const format = index.scored.get('format')?.data;
  let zero = 0;
  for (let g = 0; g < index.groups.count; g++) if (index.groups.size.data[g]! > 0 && index.groups.flags.data[g]! & GROUP_FLAG_BITS.zero_variance) zero++;
  return {
    completions: view.completionCount,
    groups: view.groupCount,
    steps: minStep <= maxStep ? [minStep, maxStep] : null,
    bad_lines: badLines.map((b) => ({ line: b.line, error: b.error })),
    rewards,
    reward: spread(index.total.data),
    zero_variance_groups: zero,
    format_failures: format ? live.filter((r) => format[r] === 0).length : 0,
  };
}

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
