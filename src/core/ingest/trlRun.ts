/**
 * One TRL run folder (`output_dir`) as its completions files are read one after another: what
 * its JSON files say (a `num_generations` somewhere, the trainer_state.json), and what earlier
 * files settled (group size, reward columns, each step's batch), so a later file that repeats a
 * batch or admits several readings is told apart. See docs/formats.md.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { findTrlState, stateCandidates, stateKey, type TrlState } from './trlState';
import { isObj } from './types';

const CONFIG_NAMES = ['config.json', 'training_args.json', 'args.json', 'grpo_config.json', 'trainer_state.json'];
const CONFIG_MAX_BYTES = 16 << 20;

/** Where `num_generations` came from, for the record's meta and the UI. */
export interface GroupSize {
  value: number;
  from: string;
}

/** The run folder of a completions parquet: the parent of `completions/`, else its own folder. */
export function runFolderOf(parquetPath: string): string {
  const dir = dirname(parquetPath);
  return basename(dir) === 'completions' ? dirname(dir) : dir;
}

function numGenerationsIn(raw: unknown): number | undefined {
  if (!isObj(raw)) return undefined;
  const ok = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
  const top = ok(raw.num_generations);
  if (top !== undefined) return top;
  for (const v of Object.values(raw)) if (isObj(v) && ok(v.num_generations) !== undefined) return v.num_generations as number;
  return undefined;
}

/**
 * Looks for `num_generations` (top level, or one object deep such as `{"args": {…}}`) in the run
 * folder's config.json, training_args.json, args.json, grpo_config.json, trainer_state.json, then
 * in the same files of its checkpoint-N folders, newest first. TRL itself saves the arguments only
 * pickled (training_args.bin), so this finds what a launcher or the user wrote as JSON.
 */
export async function findNumGenerations(runFolder: string): Promise<GroupSize | undefined> {
  const candidates = CONFIG_NAMES.map((n) => join(runFolder, n));
  try {
    const checkpoints = (await readdir(runFolder))
      .map((n) => /^checkpoint-(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(b[1]) - Number(a[1]));
    for (const m of checkpoints) candidates.push(...CONFIG_NAMES.map((n) => join(runFolder, m[0], n)));
  } catch {
    return undefined;
  }
  for (const path of candidates) {
    try {
      if ((await stat(path)).size > CONFIG_MAX_BYTES) continue;
      const value = numGenerationsIn(JSON.parse(await readFile(path, 'utf8')));
      if (value !== undefined) return { value, from: `config:${path}` };
    } catch {
      // absent or not JSON: try the next one
    }
  }
  return undefined;
}

/** The greatest common length of runs of identical consecutive prompts, when it is at least 2. */
export function inferNumGenerations(prompts: readonly unknown[]): number | undefined {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let k = 0;
  let run = 0;
  let prev: string | undefined;
  for (const p of prompts) {
    const key = typeof p === 'string' ? p : JSON.stringify(p);
    if (run > 0 && key === prev) run++;
    else {
      if (run > 0) k = gcd(k, run);
      run = 1;
      prev = key;
    }
  }
  if (run > 0) k = gcd(k, run);
  return k >= 2 ? k : undefined;
}

/** A whole file's rows (prompt, completion, advantage), to see one generation batch logged twice. */
export function batchHash(rows: readonly (readonly unknown[])[]): string {
  const h = createHash('sha1');
  for (const r of rows) h.update(JSON.stringify(r)).update('\n');
  return h.digest('hex');
}

export class TrlRun {
  configSize: GroupSize | undefined;
  state: TrlState | undefined;
  /** A group size one file determined alone; used when a later file admits several. */
  settledSize: number | undefined;
  /**
   * The reward-column prefix lengths (of `names`, the leading float columns) every file read so
   * far admits: each file can only narrow them, so the run's answer is their intersection.
   */
  columnLens: { names: string[]; lens: number[] } | undefined;
  /** The group size of the last file read, to note a file whose size differs. */
  lastSize: { value: number; file: string } | undefined;
  private stateSeen: string | undefined;
  private readonly batches = new Map<number, { hash: string; file: string; origin: number; version?: number }>();
  private readonly said = new Set<string>();

  constructor(readonly folder: string) {}

  /** Looks for the config until found, and re-reads trainer_state.json when it changed. */
  async refresh(): Promise<void> {
    this.configSize ??= await findNumGenerations(this.folder);
    const paths = await stateCandidates(this.folder);
    const key = await stateKey(paths);
    if (key === this.stateSeen) return;
    this.stateSeen = key;
    this.state = key ? await findTrlState(paths) : undefined;
  }

  /**
   * Remembers a file's batch. `unchanged`: this file was read before with the same rows (TRL logs
   * again at the end of train()); `rewritten`: it was read before with other rows (an eval pass
   * logging at that step); `repeat`: the nearest earlier step's file holds the same rows, and
   * `step` is the step whose generation batch it first was (a chain of repeats points to its start).
   */
  remember(step: number, hash: string, file: string): { kind: 'new' | 'unchanged' } | { kind: 'rewritten'; version: number } | { kind: 'repeat'; step: number; file: string } {
    const before = this.batches.get(step);
    if (before?.file === file) {
      if (before.hash === hash) return { kind: 'unchanged' };
      const version = (before.version ?? 1) + 1;
      this.batches.set(step, { hash, file, origin: step, version });
      return { kind: 'rewritten', version };
    }
    let prev: { step: number; entry: { hash: string; file: string; origin: number } } | undefined;
    for (const [s, entry] of this.batches) if (s < step && (!prev || s > prev.step)) prev = { step: s, entry };
    const repeat = prev && prev.entry.hash === hash ? prev : undefined;
    this.batches.set(step, { hash, file, origin: repeat ? repeat.entry.origin : step });
    return repeat ? { kind: 'repeat', step: repeat.entry.origin, file: repeat.entry.file } : { kind: 'new' };
  }

  /** True the first time `key` is asked: a run-wide note is given once, not per file. */
  first(key: string): boolean {
    if (this.said.has(key)) return false;
    this.said.add(key);
    return true;
  }
}
