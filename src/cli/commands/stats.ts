/** `grpo-studio stats <file>`: what a rollout file holds, and where its learning signal is missing. */
import { resolve } from 'node:path';
import { RunningStats } from '../../core/rewards/group';
import { isVariantName, REWARD_VARIANTS, scoreRecord, type VariantName } from '../../core/rewards/variants';
import { GroupKeys } from '../../core/rollouts/groups';
import { readRollouts } from '../../core/rollouts/read';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';

const HELP = `usage: grpo-studio stats <file> [--json] [--variant V]

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
Exit 0 when the file was read (bad lines are reported, not fatal); 2 for a missing or unreadable
file or bad usage.
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
    try {
      const a = parseArgs(args, { flags: ['help', 'json'], options: ['variant'] });
      if (a.flags.has('help')) {
        io.out(HELP);
        return 0;
      }
      if (a.positionals.length !== 1) throw new UsageError('stats needs exactly one <file>');
      file = a.positionals[0]!;
      json = a.flags.has('json');
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

    const keys = new GroupKeys();
    const groups = new Map<string, GroupTally>();
    const perName = new Map<string, RunningStats>();
    const total = new RunningStats();
    let minStep = Infinity;
    let maxStep = -Infinity;
    let formatFailures = 0;
    let summary;
    try {
      summary = await readRollouts(resolve(io.cwd, file), (rec) => {
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
      io.err(`grpo-studio stats: cannot read ${file}: ${(e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ')}\n`);
      return 2;
    }

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
