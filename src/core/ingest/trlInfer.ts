/**
 * What a TRL completions file does not say outright, worked out from what it does: the group
 * size and which columns are reward functions. Both come from the logged `advantage`, which TRL
 * computes from the weighted reward sum per group (GRPOTrainer._generate_and_score_completions):
 * every group's advantages sum to zero, and only the true reward columns with the true group size
 * reproduce them. See docs/formats.md.
 */

/** TRL's `scale_rewards` ('group' | 'batch' | 'none') or `multi_objective_aggregation='normalize_then_sum'`. */
export type AdvantageMode = 'group' | 'batch' | 'none' | 'normalize_then_sum';
export const ADVANTAGE_MODES: readonly AdvantageMode[] = ['group', 'batch', 'none', 'normalize_then_sum'];

/**
 * How a row every reward function skipped (all NaN) counts: TRL ≥ 1.6 leaves it out of the
 * baseline and gives it advantage 0 ('nan'); earlier versions summed it to 0 ('zero').
 */
export type Unscorable = 'nan' | 'zero';

const EPS = 1e-4; // TRL's `std + 1e-4`

function nanmean(xs: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const x of xs) {
    if (Number.isNaN(x)) continue;
    s += x;
    n++;
  }
  return n ? s / n : NaN;
}

/** trl.trainer.utils.nanstd: Bessel-corrected (N−1), NaN when fewer than two values. */
function nanstd(xs: readonly number[]): number {
  const m = nanmean(xs);
  let s = 0;
  let n = 0;
  for (const x of xs) {
    if (Number.isNaN(x)) continue;
    s += (x - m) ** 2;
    n++;
  }
  return n > 1 ? Math.sqrt((s / n) * (n / (n - 1))) : NaN;
}

/** Weighted nansum per row; NaN for a row with no reward at all ('nan'), 0 for it ('zero'). */
function weightedSums(perFunc: readonly (readonly number[])[], w: readonly number[], unscorable: Unscorable): number[] {
  return perFunc.map((row) => {
    let s = 0;
    let any = false;
    row.forEach((x, i) => {
      if (Number.isNaN(x)) return;
      s += x * w[i]!;
      any = true;
    });
    return any || unscorable === 'zero' ? s : NaN;
  });
}

const chunks = <T>(xs: readonly T[], k: number): T[][] => Array.from({ length: xs.length / k }, (_, g) => xs.slice(g * k, g * k + k));

/**
 * The advantages TRL writes for one generation batch: rows × reward functions (NaN where a
 * function returned None), `reward_weights`, `num_generations` and the normalisation.
 */
export function trlAdvantages(perFunc: readonly (readonly number[])[], w: readonly number[], k: number, mode: AdvantageMode, unscorable: Unscorable = 'nan'): number[] {
  let adv: number[];
  if (mode === 'normalize_then_sum') {
    const cols = w.map((_, i) => perFunc.map((r) => r[i]!));
    const z = cols.map((col) =>
      chunks(col, k).flatMap((g) => {
        const m = nanmean(g);
        const s = k > 1 ? nanstd(g) : 0;
        return g.map((x) => (x - m) / (s + EPS));
      }),
    );
    const sums = weightedSums(perFunc.map((_, j) => z.map((c) => c[j]!)), w, 'zero').map((s, j) => (perFunc[j]!.every(Number.isNaN) && unscorable === 'nan' ? NaN : s));
    const m = nanmean(sums);
    const s = sums.length > 1 ? nanstd(sums) : 0;
    adv = sums.map((x) => (x - m) / (s + EPS));
  } else {
    const sums = weightedSums(perFunc, w, unscorable);
    const batchStd = sums.length > 1 ? nanstd(sums) : 0;
    adv = chunks(sums, k).flatMap((g) => {
      const m = nanmean(g);
      const s = mode === 'batch' ? batchStd : k > 1 ? nanstd(g) : 0;
      return g.map((x) => (mode === 'none' ? x - m : (x - m) / (s + EPS)));
    });
  }
  return adv.map((a) => (Number.isNaN(a) ? 0 : a)); // torch.nan_to_num
}

/** Logged values are float32 rounded: equal within a few float32 steps of the group's scale. */
export function sameAdvantages(ours: readonly number[], logged: readonly number[]): boolean {
  return ours.length === logged.length && ours.every((a, i) => Math.abs(a - logged[i]!) <= 2e-3 * Math.max(1, Math.abs(logged[i]!)));
}

/**
 * Group sizes the rows admit: every k ≥ 2 dividing the row count such that each consecutive
 * k-block has one prompt text and advantages summing to zero (TRL subtracts the group mean).
 * Ascending. A size admits its divisors wherever the advantages are all zero. Without `adv`,
 * the sizes whose blocks each hold one prompt text.
 */
export function groupSizeCandidates(prompts: readonly string[], adv: readonly number[] | undefined): number[] {
  const n = prompts.length;
  const out: number[] = [];
  for (let k = 2; k <= n; k++) {
    if (n % k) continue;
    let ok = true;
    for (let g = 0; ok && g < n; g += k) {
      let s = 0;
      let abs = 0;
      for (let j = g; j < g + k; j++) {
        if (prompts[j] !== prompts[g]) ok = false;
        s += adv?.[j] ?? 0;
        abs += Math.abs(adv?.[j] ?? 0);
      }
      if (Math.abs(s) > 1e-4 * Math.max(1, abs)) ok = false;
    }
    if (ok) out.push(k);
  }
  return out;
}

export interface Fit {
  k: number;
  /** How many of the candidate columns (a prefix, in file order) are the reward functions. */
  columns: number;
  mode: AdvantageMode;
  unscorable: Unscorable;
}

/**
 * Every (group size, reward-column prefix, normalisation) that reproduces the logged advantages.
 * `values[c][row]` are the candidate columns in file order (TRL writes the reward functions
 * first, then the `log_extra` columns); `prefixes` are the prefix lengths to try; `weights`, when
 * known, apply to the longest prefix tried (else all ones: equal weights reproduce the same
 * advantages whatever their common value).
 */
export function reproducingFits(values: readonly (readonly number[])[], adv: readonly number[], sizes: readonly number[], prefixes: readonly number[], weights?: readonly number[]): Fit[] {
  const fits: Fit[] = [];
  for (const columns of prefixes) {
    const rows = adv.map((_, j) => values.slice(0, columns).map((c) => c[j]!));
    const w = weights?.slice(0, columns) ?? rows[0]?.map(() => 1) ?? [];
    const anyUnscorable = rows.some((r) => r.every(Number.isNaN));
    for (const k of sizes) {
      if (adv.length % k) continue;
      for (const mode of ADVANTAGE_MODES) {
        for (const unscorable of anyUnscorable ? (['nan', 'zero'] as const) : (['nan'] as const)) {
          if (sameAdvantages(trlAdvantages(rows, w, k, mode, unscorable), adv)) fits.push({ k, columns, mode, unscorable });
        }
      }
    }
  }
  return fits;
}
