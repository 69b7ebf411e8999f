/**
 * Which columns of a TRL completions file are reward functions, with which weights, and how many
 * consecutive rows make a group. TRL's table is `step, prompt, completion, <one column per reward
 * function>, <log_extra columns, sorted>, advantage` (GRPOTrainer.log) and records neither split
 * nor group size beside it, so they come from the run's own record (trainer_state.json), else from
 * what reproduces the logged advantages; what stays open is said in a note, never guessed
 * silently, and a column not known to be a reward is a per-completion fact, never summed.
 * See docs/formats.md.
 */
import type { TrlRun, GroupSize } from './trlRun';
import { inferNumGenerations } from './trlRun';
import { groupSizeCandidates, reproducingFits, type Fit } from './trlInfer';

export interface FileColumns {
  /** Columns between `completion` and `advantage` (reward functions, then log_extra), in file order. */
  middle: string[];
  /** The leading run of `middle` stored as floats: TRL writes every reward as a float, first. */
  floatRun: string[];
  /** `values(c)[row]`: a column as numbers, NaN where null / not a number. */
  values(column: string): number[];
  prompts: string[];
  /** The `advantage` column, when present and finite throughout. */
  advantages: number[] | undefined;
}

export interface Layout {
  rewards: string[];
  /** `reward_weights` aligned with `rewards`, when trainer_state.json determines them. */
  weights: number[] | undefined;
  size: GroupSize | undefined;
  notes: string[];
}

const list = (xs: readonly (string | number)[]): string => xs.map((x) => (typeof x === 'string' ? `"${x}"` : String(x))).join(', ');
const uniq = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);

function rewardsFromState(cols: FileColumns, run: TrlRun, file: string, notes: string[]): { names: string[]; weights?: number[] } | undefined {
  const state = run.state;
  if (!state?.rewardNames.length) return undefined;
  const missing = state.rewardNames.filter((n) => !cols.middle.includes(n));
  if (missing.length) {
    if (run.first(`state-mismatch:${state.path}`)) notes.push(`${state.path} names reward functions ${list(missing)} that ${file} has no column for: the reward columns are worked out from the advantages instead`);
    return undefined;
  }
  const names = cols.middle.filter((c) => state.rewardNames.includes(c));
  const w = state.weights;
  return { names, weights: w ? names.map((n) => w.get(n)!) : undefined };
}

function chooseSize(fits: readonly Fit[], blockSizes: readonly number[], cols: FileColumns, run: TrlRun, opt: number | undefined, notes: string[]): GroupSize | undefined {
  const n = cols.prompts.length;
  if (opt !== undefined) return { value: opt, from: 'option' };
  const cfg = run.configSize;
  const admitted = fits.length ? uniq(fits.map((f) => f.k)) : [...blockSizes];
  const against = cfg && !admitted.includes(cfg.value) && admitted.length ? ` (${cfg.from.replace(/^config:/, '')} says num_generations=${cfg.value}, which the advantages rule out)` : '';
  if (admitted.length === 1) run.settledSize ??= admitted[0];
  if (cfg && admitted.includes(cfg.value)) return cfg;
  if (admitted.length === 1) {
    if (against) notes.push(`group size ${admitted[0]} from the advantages${against}`);
    return { value: admitted[0]!, from: 'inferred' };
  }
  if (admitted.length > 1) {
    const prev = run.settledSize !== undefined && admitted.includes(run.settledSize) ? run.settledSize : undefined;
    const value = prev ?? admitted[admitted.length - 1]!;
    const why = prev !== undefined ? 'as an earlier file of the run settled' : 'the largest; a smaller one is admitted wherever advantages are zero';
    notes.push(`the rows admit group sizes ${list(admitted)}${against}; using ${value} (${why}); --num-generations sets it`);
    return { value, from: 'inferred' };
  }
  const noSum = cols.advantages ? 'the advantages do not sum to zero over blocks of any size with one prompt' : 'the file has no advantage column';
  if (cfg) {
    if (cols.advantages) notes.push(`${noSum}; using num_generations=${cfg.value} from ${cfg.from.replace(/^config:/, '')}`);
    return cfg;
  }
  const k = inferNumGenerations(cols.prompts);
  if (k !== undefined && n % k === 0) {
    notes.push(`${noSum}; group size ${k} from runs of repeated prompts (two groups of one prompt text in a row would merge); --num-generations sets it`);
    return { value: k, from: 'prompts' };
  }
  notes.push(`${noSum}, and repeated prompts give no size: no groups written; --num-generations sets it`);
  return undefined;
}

/**
 * The reward columns when trainer_state.json does not name them: the prefix of the leading float
 * columns that reproduces the advantages, narrowed by what earlier files of the run admitted.
 */
function rewardsFromFits(atSize: readonly Fit[], cols: FileColumns, run: TrlRun, notes: string[]): string[] {
  const names = cols.floatRun;
  const here = uniq(atSize.map((f) => f.columns));
  const before = run.columnLens && list(run.columnLens.names) === list(names) ? run.columnLens.lens : undefined;
  const both = before ? here.filter((l) => before.includes(l)) : here;
  // A file that reproduces nothing (a mixed eval file) or contradicts the earlier ones says nothing new.
  const lens = both.length ? both : (before ?? []);
  if (lens.length) run.columnLens = { names, lens };
  if (lens.length === 1) return names.slice(0, lens[0]);
  if (lens.length > 1) {
    const sure = names.slice(0, lens[0]);
    const open = names.slice(lens[0], lens[lens.length - 1]);
    if (run.first(`columns-open:${list(names)}:${list(lens)}`)) {
      notes.push(
        `no trainer_state.json names the reward functions, and the advantages are reproduced by ${list(sure)} with or without ${list(open)} ` +
          `(a column constant within each group does not change them): ${list(open)} read as meta, not summed into the total; ` +
          `the run's trainer_state.json (in checkpoint-N/) settles it`,
      );
    }
    return sure;
  }
  if (names.length <= 1) return names;
  if (run.first(`columns-unknown:${list(names)}`)) {
    notes.push(
      `no trainer_state.json names the reward functions, and no leading set of ${list(names)} reproduces the logged advantages with equal weights: ` +
        `${list(names.slice(0, 1))} (TRL writes a reward function first) is read as the only reward, the others as meta, not summed; ` +
        `the run's trainer_state.json (in checkpoint-N/) settles it`,
    );
  }
  return names.slice(0, 1);
}

export function resolveLayout(cols: FileColumns, run: TrlRun, file: string, opt: number | undefined): Layout {
  const notes: string[] = [];
  const known = rewardsFromState(cols, run, file, notes);
  const adv = cols.advantages;
  const blockSizes = adv ? groupSizeCandidates(cols.prompts, adv) : [];
  const tried = known ? known.names : cols.floatRun;
  const prefixes = known ? [known.names.length] : tried.map((_, i) => i + 1);
  // normalize_then_sum advantages sum to zero over the batch, not per group: then every size whose blocks hold one prompt is tried.
  const sizes = opt !== undefined ? [opt] : blockSizes.length ? blockSizes : groupSizeCandidates(cols.prompts, undefined);
  const fits = adv && tried.length ? reproducingFits(tried.map((c) => cols.values(c)), adv, sizes, prefixes, known?.weights) : [];
  const size = chooseSize(fits, blockSizes, cols, run, opt, notes);
  if (size && cols.prompts.length % size.value) notes.push(`${cols.prompts.length} rows is not a multiple of the group size ${size.value}: the last group is short`);
  const atSize = size ? fits.filter((f) => f.k === size.value) : [];
  if (known) {
    if (adv && size && known.weights && !atSize.length) {
      notes.push(`the advantages are not TRL's for the reward columns ${list(known.names)}, weights ${list(known.weights)} and group size ${size.value}: the rows may mix batches (an eval pass) or come from another run`);
    }
    return { rewards: known.names, weights: known.weights, size, notes };
  }
  return { rewards: rewardsFromFits(atSize, cols, run, notes), weights: undefined, size, notes };
}
