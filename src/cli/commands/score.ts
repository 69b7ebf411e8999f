/** `grpo-studio score <file>`: every completion's rewards and advantage, recomputed. */
import { DEFAULT_SCORE_OPTIONS } from '../../core/rewards/scoreDefaults';
import { resolve } from 'node:path';
import { groupAdvantages, loggedMismatches, type LoggedValues } from '../../core/rewards/group';
import { isVariantName, REWARD_VARIANTS, scoreRecord, type RecordScore, type ScoreOptions, type VariantName } from '../../core/rewards/variants';
import { GroupKeys } from '../../core/rollouts/groups';
import { SOURCE_HELP, SOURCE_OPTIONS, sourceOptions } from '../../core/ingest/options';
import { openSource, type OpenOptions } from '../../core/ingest/source';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';
import { oneLine, reportSource } from '../sourceReport';

const HELP = `usage: grpo-studio score <path> [--format F] [--variant V] [--matching seed|optimal] [--min-pixels N] [--max-pixels N]

Recomputes the seed rewards of every valid completion and prints one JSON line per completion,
in file order:
  line           line number in the file
  group          GRPO group key (written "group", else derived: ~<step>/<n> for consecutive
                 records with the same step and identical prompt)
  rewards        {accuracy, format, bbox | image_count} under --variant
  reward         their unweighted sum
  advantage      (reward - group mean) / (group sample std + 1e-4)
  zero_variance  the whole group got equal rewards (no learning signal)
  reward_mismatch a logged value differs from the recomputed one (1e-6 abs / 1e-4 rel)
  mismatches     which: reward function names, "reward", "advantage"
  boxes          {pred, gold, ious, matched}: boxes read, and the IoU each predicted box scored
--variant: ${Object.values(REWARD_VARIANTS).map((v) => `\n  ${v.name.padEnd(11)} ${v.description}`).join('')}
--matching: seed (default; same label, else best IoU) or optimal (one-to-one assignment).
--min-pixels/--max-pixels: smart_resize bounds for vlmr1 (default ${DEFAULT_SCORE_OPTIONS.minPixels} / ${DEFAULT_SCORE_OPTIONS.maxPixels}, as in
  the viewer; the processor's own maximum is 12845056).
Bad lines go to stderr as <file>:<line>: <error>, source notes as <file>[:<line>]: note: <message>;
exit 0 when the file was read, 2 for a missing or unreadable file or bad usage.
${SOURCE_HELP}
`;

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

interface Scored {
  line: number;
  group: string;
  logged: LoggedValues;
  score: RecordScore;
}

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    let file: string;
    let variant: VariantName = 'grounding';
    const opts: ScoreOptions = {};
    let source: OpenOptions;
    try {
      const a = parseArgs(args, { flags: ['help'], options: ['variant', 'matching', 'min-pixels', 'max-pixels', ...SOURCE_OPTIONS] });
      if (a.flags.has('help')) {
        io.out(HELP);
        return 0;
      }
      if (a.positionals.length !== 1) throw new UsageError('score needs exactly one <file>');
      file = a.positionals[0]!;
      const so = sourceOptions(a.options);
      if (typeof so === 'string') throw new UsageError(so);
      source = so;
      const v = a.options.get('variant');
      if (v !== undefined) {
        if (!isVariantName(v)) throw new UsageError(`unknown --variant '${v}' (one of ${Object.keys(REWARD_VARIANTS).join(', ')})`);
        variant = v;
      }
      const m = a.options.get('matching');
      if (m !== undefined) {
        if (m !== 'seed' && m !== 'optimal') throw new UsageError(`--matching must be seed or optimal, got '${m}'`);
        opts.matching = m;
      }
      opts.minPixels = positiveInt('min-pixels', a.options.get('min-pixels')) ?? DEFAULT_SCORE_OPTIONS.minPixels;
      opts.maxPixels = positiveInt('max-pixels', a.options.get('max-pixels')) ?? DEFAULT_SCORE_OPTIONS.maxPixels;
      if (opts.minPixels !== undefined && opts.maxPixels !== undefined && opts.minPixels > opts.maxPixels) {
        throw new UsageError('--min-pixels must not exceed --max-pixels');
      }
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(`grpo-studio score: ${e.message}\n`);
        return 2;
      }
      throw e;
    }

    // Advantages need the whole group, and a group may be anywhere in the file, so scores
    // (not records) are kept until the end.
    const keys = new GroupKeys();
    const scored: Scored[] = [];
    const members = new Map<string, number[]>();
    let summary;
    try {
      summary = await (await openSource(resolve(io.cwd, file), source)).read((rec, loc) => {
        const group = keys.keyOf(rec);
        const i = scored.push({ line: loc.line, group, logged: { rewards: rec.rewards, reward: rec.reward, advantage: rec.advantage }, score: scoreRecord(rec, variant, opts) }) - 1;
        const list = members.get(group);
        if (list) list.push(i);
        else members.set(group, [i]);
      });
    } catch (e) {
      io.err(`grpo-studio score: cannot read ${file}: ${oneLine(e)}\n`);
      return 2;
    }

    const advantage = new Float64Array(scored.length);
    const zero = new Uint8Array(scored.length);
    for (const idx of members.values()) {
      const g = groupAdvantages(idx.map((i) => scored[i]!.score.reward));
      idx.forEach((i, k) => {
        advantage[i] = g.advantages[k]!;
        zero[i] = g.zeroVariance ? 1 : 0;
      });
    }
    let batch: string[] = [];
    let size = 0;
    scored.forEach((s, i) => {
      const mismatches = loggedMismatches(s.logged, { ...s.score, advantage: advantage[i] });
      const line = JSON.stringify({
        line: s.line,
        group: s.group,
        rewards: s.score.rewards,
        reward: s.score.reward,
        advantage: advantage[i],
        zero_variance: zero[i] === 1,
        reward_mismatch: mismatches.length > 0,
        mismatches,
        boxes: s.score.boxes,
      }) + '\n';
      batch.push(line);
      size += line.length;
      if (size > 1 << 16) {
        io.out(batch.join(''));
        batch = [];
        size = 0;
      }
    });
    if (batch.length) io.out(batch.join(''));
    reportSource(io, file, resolve(io.cwd, file), summary);
    return 0;
  },
};
