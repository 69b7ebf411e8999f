/**
 * TRL GRPOTrainer (`log_completions`): `output_dir/completions/completions_<step:05d>.parquet`
 * with `step`, `prompt`, `completion`, one column per reward function and `advantage` (newer
 * versions add `images`). A GRPO group is `num_generations` consecutive rows, which TRL does not
 * write beside the rows, so it comes from, in order: the caller's option, a JSON file of the run
 * holding `num_generations` (see `findNumGenerations`), the rows themselves (consecutive repeats
 * of a prompt), else no group is written and readers group consecutive identical prompts.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { RolloutRecord } from '../schema/record';
import { finiteNumber, isObj, type AdapterOptions, type RecordSink } from './types';

type Row = Record<string, unknown>;

// hyparquet decodes uncompressed and snappy itself; gzip and brotli come from node:zlib.
const COMPRESSORS = {
  GZIP: (input: Uint8Array): Uint8Array => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array): Uint8Array => new Uint8Array(brotliDecompressSync(input)),
};

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

/** Text of a prompt / completion cell: a string, or chat messages whose text parts are joined. */
function cellText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return undefined;
  const parts: string[] = [];
  for (const m of v) {
    if (typeof m === 'string') parts.push(m);
    else if (isObj(m)) {
      const c = m.content;
      if (typeof c === 'string') parts.push(c);
      else if (Array.isArray(c)) for (const p of c) if (isObj(p) && typeof p.text === 'string') parts.push(p.text);
    }
  }
  return parts.join('\n');
}

function imagesOf(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

function stepOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : finiteNumber(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** One parquet row → a v1 record, or an error naming the bad cell. */
export function trlRowToRecord(row: Row): { ok: true; record: RolloutRecord } | { ok: false; error: string } {
  const completion = cellText(row.completion);
  if (completion === undefined) return { ok: false, error: row.completion === undefined || row.completion === null ? '"completion" is missing' : '"completion" is not text' };
  const rec: RolloutRecord = { v: 1, completion };
  const meta: Record<string, unknown> = {};
  if (row.step !== undefined && row.step !== null) {
    const s = stepOf(row.step);
    if (s === undefined) return { ok: false, error: `"step" is not a non-negative integer` };
    rec.step = s;
  }
  const prompt = cellText(row.prompt);
  if (prompt !== undefined) rec.prompt = { text: prompt };
  if (Array.isArray(row.prompt)) meta.prompt_messages = row.prompt;
  if (Array.isArray(row.completion)) meta.completion_messages = row.completion;
  const missing: string[] = [];
  for (const [k, v] of Object.entries(row)) {
    if (k === 'step' || k === 'prompt' || k === 'completion') continue;
    if (k === 'advantage') {
      const a = finiteNumber(v);
      if (a !== undefined) rec.advantage = a;
      else if (v !== null && v !== undefined) return { ok: false, error: '"advantage" is not a finite number' };
      continue;
    }
    if (k === 'image' || k === 'images') {
      const imgs = imagesOf(v);
      if (imgs) (rec.prompt ??= {}).images = imgs;
      else if (v !== null && v !== undefined) meta[k] = v;
      continue;
    }
    // Every other numeric column is a reward function; TRL writes NaN / null where one does not apply.
    const n = typeof v === 'boolean' ? undefined : finiteNumber(v);
    if (n !== undefined) (rec.rewards ??= {})[k] = n;
    else if (v === null || (typeof v === 'number' && Number.isNaN(v))) missing.push(k);
    else meta[k] = typeof v === 'bigint' ? Number(v) : v;
  }
  if (missing.length) meta.rewards_missing = missing;
  if (Object.keys(meta).length) rec.meta = meta;
  return { ok: true, record: rec };
}

/**
 * Reads one completions parquet whole (TRL writes each once, at the end of its step) and emits
 * its rows as records located by 1-based row number. Rejects when the file is not (yet) a
 * readable parquet file.
 */
export async function readTrlFile(path: string, sink: RecordSink, opts: AdapterOptions & { configSize?: GroupSize }): Promise<number> {
  // hyparquet is an ES module; loaded on first use so activation never pays for it.
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const rows: Row[] = [];
  let start = 0;
  // Row group by row group, so a large file is decoded in pieces.
  for (const g of metadata.row_groups) {
    const end = start + Number(g.num_rows);
    rows.push(...((await parquetReadObjects({ file, metadata, rowStart: start, rowEnd: end, compressors: COMPRESSORS })) as Row[]));
    start = end;
  }
  let size: GroupSize | undefined;
  if (opts.numGenerations !== undefined) size = { value: opts.numGenerations, from: 'option' };
  else if (opts.configSize) size = opts.configSize;
  else {
    const k = inferNumGenerations(rows.map((r) => r.prompt));
    if (k !== undefined && rows.length % k === 0) size = { value: k, from: 'inferred' };
  }
  let emitted = 0;
  rows.forEach((row, i) => {
    const r = trlRowToRecord(row);
    if (!r.ok) {
      sink.bad({ file: path, line: i + 1, error: `row ${i + 1}: ${r.error}` });
      return;
    }
    const rec = r.record;
    if (size) {
      rec.group = `${rec.step ?? '?'}/${Math.floor(i / size.value)}`;
      rec.index = i % size.value;
      rec.meta = { ...rec.meta, num_generations: size.value, num_generations_from: size.from };
    }
    emitted++;
    sink.record(rec, { file: path, line: i + 1, row: true });
  });
  return emitted;
}
