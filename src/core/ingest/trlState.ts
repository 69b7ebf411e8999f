/**
 * What a TRL run's `trainer_state.json` (transformers' `TrainerState.save_to_json`, written in
 * every `checkpoint-N/` and by `save_state()` in the run folder) says that the completions files
 * do not: the reward function names (`rewards/<name>/mean` keys of `log_history`), the
 * `reward_weights` (the logged `reward` is Σ w·`rewards/<name>/mean` per entry), the steps an
 * evaluation was logged at, and the train logs with no scored generation batch. See docs/formats.md.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finiteNumber, isObj, stepValue } from './types';

const STATE_MAX_BYTES = 64 << 20;
const REWARD_KEY = /^(eval_)?rewards\/(.+)\/(mean|std)$/;

export interface TrlState {
  path: string;
  globalStep: number;
  /** Reward function names, sorted (the file's JSON is key-sorted, so it keeps no other order). */
  rewardNames: string[];
  /** `reward_weights` by name, when the train entries determine them (see `solveWeights`). */
  weights?: Map<string, number>;
  /** Steps with an evaluation entry (`eval_*` keys): TRL's eval log rewrote that step's file. */
  evalSteps: Set<number>;
  /** Train entries without a `reward` key: no generation batch was scored since the previous log. */
  unscoredSteps: Set<number>;
  /** Train entries' logged `reward` by step. */
  trainReward: Map<number, number>;
}

/**
 * Python's json.dumps writes NaN / Infinity for a float metric that is one (a NaN loss or
 * grad_norm); JSON.parse rejects them, so they become null, outside strings only.
 */
function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.replace(/("(?:[^"\\]|\\.)*")|-?\bInfinity\b|\bNaN\b/g, (m, str: string | undefined) => str ?? 'null'));
  }
}

/** The run folder's trainer_state.json and the newest checkpoint's, whichever exist. */
export async function stateCandidates(runFolder: string): Promise<string[]> {
  const out = [join(runFolder, 'trainer_state.json')];
  try {
    const newest = (await readdir(runFolder))
      .map((n) => /^checkpoint-(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(b[1]) - Number(a[1]))[0];
    if (newest) out.push(join(runFolder, newest[0], 'trainer_state.json'));
  } catch {
    // no run folder listing: only the first candidate
  }
  return out;
}

/** Size and mtime of each candidate that exists: the state is re-read when this key changes. */
export async function stateKey(paths: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const p of paths) {
    try {
      const s = await stat(p);
      parts.push(`${p}:${s.size}:${s.mtimeMs}`);
    } catch {
      // absent
    }
  }
  return parts.join('|');
}

const isTrainEntry = (e: Record<string, unknown>): boolean =>
  'loss' in e && !('train_runtime' in e) && !Object.keys(e).some((k) => k.startsWith('eval_'));

/** Parses one trainer_state.json; undefined when it is absent, too big or not a TrainerState. */
export async function readTrlState(path: string): Promise<TrlState | undefined> {
  let raw: unknown;
  try {
    if ((await stat(path)).size > STATE_MAX_BYTES) return undefined;
    raw = parsePythonJson(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isObj(raw) || !Array.isArray(raw.log_history)) return undefined;
  const names = new Set<string>();
  const evalSteps = new Set<number>();
  const unscoredSteps = new Set<number>();
  const trainReward = new Map<number, number>();
  const train: Record<string, unknown>[] = [];
  for (const e of raw.log_history) {
    if (!isObj(e)) continue;
    const step = stepValue(e.step);
    for (const k of Object.keys(e)) {
      const m = REWARD_KEY.exec(k);
      if (m) names.add(m[2]!);
    }
    if (step === undefined) continue;
    if (Object.keys(e).some((k) => k.startsWith('eval_'))) evalSteps.add(step);
    if (!isTrainEntry(e)) continue;
    train.push(e);
    if (!('reward' in e)) unscoredSteps.add(step);
    const r = finiteNumber(e.reward);
    if (r !== undefined) trainReward.set(step, r);
  }
  // Only a run whose trainer logs `reward` at all can have steps without it.
  if (!trainReward.size) unscoredSteps.clear();
  const rewardNames = [...names].sort();
  return {
    path,
    globalStep: stepValue(raw.global_step) ?? 0,
    rewardNames,
    weights: solveWeights(train, rewardNames),
    evalSteps,
    unscoredSteps,
    trainReward,
  };
}

/** The newest state of a run: of the candidates, the one with the highest global_step. */
export async function findTrlState(paths: readonly string[]): Promise<TrlState | undefined> {
  let best: TrlState | undefined;
  for (const p of paths) {
    const s = await readTrlState(p);
    if (s && (!best || s.globalStep > best.globalStep)) best = s;
  }
  return best;
}

/** Least squares by the normal equations (k is the number of reward functions: tiny). */
function leastSquares(a: number[][], b: number[]): number[] | undefined {
  const k = a[0]!.length;
  const m = Array.from({ length: k }, (_, i) => [...Array.from({ length: k }, (_, j) => a.reduce((s, r) => s + r[i]! * r[j]!, 0)), a.reduce((s, r, n) => s + r[i]! * b[n]!, 0)]);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < 1e-12) return undefined; // the entries do not determine the weights
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let j = c; j <= k; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row, i) => row[k]! / row[i]!);
}

/**
 * `reward_weights` from the train entries: each logged `reward` is Σ w·`rewards/<name>/mean`
 * (TRL ≥ 1.0; 0.28 logged the unweighted sum, which this finds as all ones). An
 * entry over a batch where a reward function returned None does not obey this (the means are
 * over different rows), so the worst-fitting entries are dropped while more than the unknowns
 * and at least half remain. Weights come out only when the fit is exact to float32 rounding and
 * over more entries than unknowns; else all-ones is tried against the same entries.
 */
export function solveWeights(entries: readonly Record<string, unknown>[], names: readonly string[]): Map<string, number> | undefined {
  if (!names.length) return undefined;
  const rows: { a: number[]; b: number }[] = [];
  for (const e of entries) {
    const b = finiteNumber(e.reward);
    const a = names.map((n) => finiteNumber(e[`rewards/${n}/mean`]));
    if (b !== undefined && a.every((x) => x !== undefined)) rows.push({ a: a as number[], b });
  }
  const fits = (w: number[], r: { a: number[]; b: number }): boolean => {
    const pred = r.a.reduce((s, x, i) => s + x * w[i]!, 0);
    return Math.abs(pred - r.b) <= 1e-5 * Math.max(1, Math.abs(r.b), ...r.a.map((x, i) => Math.abs(x * w[i]!)));
  };
  const asMap = (w: number[]): Map<string, number> => new Map(names.map((n, i) => [n, Math.round(w[i]! * 1e6) / 1e6]));
  const need = Math.max(names.length + 1, Math.ceil(rows.length / 2));
  let kept = rows;
  while (kept.length >= need) {
    const w = leastSquares(kept.map((r) => r.a), kept.map((r) => r.b));
    if (!w) break;
    if (kept.every((r) => fits(w, r))) return asMap(w);
    const err = kept.map((r) => Math.abs(r.a.reduce((s, x, i) => s + x * w[i]!, 0) - r.b));
    const worst = err.indexOf(Math.max(...err));
    kept = kept.filter((_, i) => i !== worst);
  }
  const ones = names.map(() => 1);
  const agree = rows.filter((r) => fits(ones, r)).length;
  return rows.length && agree >= Math.ceil(rows.length / 2) ? asMap(ones) : undefined;
}
