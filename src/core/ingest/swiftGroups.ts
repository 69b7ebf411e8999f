/**
 * How big an ms-swift group is, for one completions.jsonl table. ms-swift's sampler repeats each
 * prompt `num_generations` times in a row and `_compute_advantages` views the gathered rewards
 * as `[-1, num_generations]`, so a group is that many consecutive rows; the table itself does not
 * say how many (docs/formats.md#ms-swift).
 */

export interface SizeCandidate {
  size: number;
  /** Where the size came from: `option`, `args.json`, `args.json (eval)`. */
  from: string;
}

export interface GroupSizing {
  /** Rows per group; 0 when the groups are runs of identical consecutive prompts instead. */
  size: number;
  from: string;
  /** Said to the reader: a given size that did not fit, an inference that failed. */
  note?: string;
}

/** True when `size` splits the rows into whole blocks of one prompt each. */
export function fits(prompts: readonly unknown[], size: number): boolean {
  if (size < 1 || prompts.length % size !== 0) return false;
  for (let b = 0; b < prompts.length; b += size) {
    for (let i = b + 1; i < b + size; i++) if (prompts[i] !== prompts[b]) return false;
  }
  return true;
}

/** Lengths of the runs of identical consecutive prompts. */
export function promptRuns(prompts: readonly unknown[]): number[] {
  const runs: number[] = [];
  for (let i = 0; i < prompts.length; i++) {
    if (i > 0 && prompts[i] === prompts[i - 1]) runs[runs.length - 1]!++;
    else runs.push(1);
  }
  return runs;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Every estimator ms-swift groups by (grpo, rloo, reinforce_plus_plus with group scaling)
 * subtracts the group mean, so a true group's advantages sum to zero (float32 rounding aside).
 * A smaller block inside a group does not, unless the whole group scored alike.
 */
function centred(adv: readonly number[], size: number): boolean {
  let any = false;
  for (let b = 0; b < adv.length; b += size) {
    let sum = 0;
    let abs = 0;
    for (let i = b; i < b + size; i++) {
      sum += adv[i]!;
      abs += Math.abs(adv[i]!);
    }
    if (Math.abs(sum) > 1e-4 * Math.max(1, abs)) return false;
    if (abs > 0) any = true;
  }
  return any;
}

/**
 * The group size of one table: the first given candidate that fits (the option, then
 * args.json), else inferred from the rows: the smallest divisor (≥ 2) of the prompt runs' common
 * length whose blocks have centred advantages, else that common length; else (prompts that do
 * not repeat in equal runs, e.g. multi-turn runs with dynamic sample counts) the runs themselves.
 */
export function groupSizing(prompts: readonly unknown[], advantages: readonly number[] | undefined, given: readonly SizeCandidate[]): GroupSizing {
  const rejected: string[] = [];
  for (const c of given) {
    if (fits(prompts, c.size)) return { size: c.size, from: c.from, note: rejected.length ? rejectedNote(rejected, c) : undefined };
    rejected.push(`${c.from} num_generations = ${c.size}`);
  }
  const runs = promptRuns(prompts);
  const common = runs.reduce(gcd, 0);
  const told = rejected.length ? `${rejected.join(', ')} does not fit (blocks that size would mix prompts or leave a remainder); ` : '';
  if (common >= 2) {
    const adv = advantages && advantages.every((a) => Number.isFinite(a)) ? advantages : undefined;
    let size = common;
    let how = 'the common length of its runs of identical prompts';
    for (let d = 2; d < common && adv; d++) {
      if (common % d === 0 && centred(adv, d)) {
        size = d;
        how = 'the smallest block of one prompt whose advantages sum to zero';
        break;
      }
    }
    return { size, from: 'inferred', note: told ? `${told}inferred ${size} from ${how}` : undefined };
  }
  const uneven = new Set(runs).size > 1;
  return {
    size: 0,
    from: 'prompt runs',
    note: told || uneven ? `${told}no group size fits: each run of identical consecutive prompts is read as one group` : undefined,
  };
}

function rejectedNote(rejected: string[], used: SizeCandidate): string {
  return `${rejected.join(', ')} does not fit; ${used.from} num_generations = ${used.size} does`;
}
