/**
 * TRL GRPOTrainer (`log_completions=True`): `output_dir/completions/completions_<step:05d>.parquet`,
 * written by `GRPOTrainer.log()` at every logging step from its last generation batch: `step`,
 * `prompt`, `completion` (decoded text), one float column per reward function (null where it
 * returned None), the reward functions' `log_extra` columns (sorted by name), `advantage`. No
 * images, no total, no group size. Which columns are rewards and how big a group is come from
 * trlLayout.ts; a repeated batch or an eval pass under the same name is told in a note.
 * See docs/formats.md.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { RolloutRecord } from '../schema/record';
import { stepFromName } from './files';
import { resolveLayout, type FileColumns, type Layout } from './trlLayout';
import { batchHash, runFolderOf, TrlRun } from './trlRun';
import { finiteNumber, isObj, type AdapterOptions, type RecordSink } from './types';

export { findNumGenerations, inferNumGenerations, runFolderOf, TrlRun, type GroupSize } from './trlRun';

type Row = Record<string, unknown>;

// hyparquet decodes uncompressed and snappy itself; gzip and brotli come from node:zlib.
const COMPRESSORS = {
  GZIP: (input: Uint8Array): Uint8Array => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array): Uint8Array => new Uint8Array(brotliDecompressSync(input)),
};

const FIXED = new Set(['step', 'prompt', 'completion', 'advantage', 'image', 'images']);

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

const num = (v: unknown): number => (typeof v === 'boolean' ? NaN : (finiteNumber(v) ?? NaN));

/** A meta value from a cell: bigints as numbers, NaN / null left out (undefined). */
function metaValue(v: unknown): unknown {
  if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return undefined;
  if (typeof v === 'bigint') return Number(v);
  return v;
}

/** One parquet row → a v1 record, or an error naming the bad cell. */
export function trlRowToRecord(row: Row, layout: Pick<Layout, 'rewards' | 'weights'>): { ok: true; record: RolloutRecord } | { ok: false; error: string } {
  const completion = cellText(row.completion);
  if (completion === undefined) return { ok: false, error: row.completion === undefined || row.completion === null ? '"completion" is missing' : '"completion" is not text' };
  const rec: RolloutRecord = { v: 1, completion };
  const meta: Record<string, unknown> = Object.create(null);
  if (row.step !== undefined && row.step !== null) {
    const s = stepOf(row.step);
    if (s === undefined) return { ok: false, error: `"step" is not a non-negative integer` };
    rec.step = s;
  }
  const prompt = cellText(row.prompt);
  if (prompt !== undefined) rec.prompt = { text: prompt };
  if (Array.isArray(row.prompt)) meta.prompt_messages = row.prompt;
  if (Array.isArray(row.completion)) meta.completion_messages = row.completion;
  if (row.advantage !== undefined && row.advantage !== null) {
    const a = finiteNumber(row.advantage);
    if (a === undefined) return { ok: false, error: '"advantage" is not a finite number' };
    rec.advantage = a;
  }
  for (const k of ['image', 'images']) {
    if (!(k in row)) continue;
    const imgs = imagesOf(row[k]);
    if (imgs) (rec.prompt ??= {}).images = imgs;
    else if (metaValue(row[k]) !== undefined) meta[k] = row[k];
  }
  const rewards: Record<string, number> = Object.create(null);
  const missing: string[] = [];
  let total = 0;
  let scored = false;
  layout.rewards.forEach((k, i) => {
    const v = row[k];
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return void missing.push(k); // the function returned None
    const n = typeof v === 'boolean' ? undefined : finiteNumber(v);
    if (n === undefined) {
      meta[k] = metaValue(v); // not a number: not a reward after all
      return;
    }
    rewards[k] = n;
    total += n * (layout.weights?.[i] ?? 1);
    scored = true;
  });
  const isReward = new Set(layout.rewards);
  for (const [k, v] of Object.entries(row)) {
    if (FIXED.has(k) || isReward.has(k)) continue;
    const m = metaValue(v); // a log_extra column, or one not known to be a reward: a fact, never summed
    if (m !== undefined) meta[k] = m;
  }
  if (Object.keys(rewards).length) rec.rewards = { ...rewards };
  // TRL's per-completion total is Σ reward_weights·reward (nansum); only written when the weights are known.
  if (layout.weights && scored) rec.reward = total;
  if (missing.length) meta.rewards_missing = missing;
  if (Object.keys(meta).length) rec.meta = { ...meta };
  return { ok: true, record: rec };
}

interface ParquetFile {
  /** Top-level columns in file order, with their physical type. */
  columns: { name: string; type: string | undefined }[];
  rows: Row[];
}

async function readParquet(path: string): Promise<ParquetFile> {
  // hyparquet is an ES module; loaded on first use so activation never pays for it.
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } = await import('hyparquet');
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const columns = parquetSchema(metadata).children.map((c) => ({ name: c.element.name, type: c.element.type }));
  const rows: Row[] = [];
  let start = 0;
  // Row group by row group, so a large file is decoded in pieces.
  for (const g of metadata.row_groups) {
    const end = start + Number(g.num_rows);
    rows.push(...((await parquetReadObjects({ file, metadata, rowStart: start, rowEnd: end, compressors: COMPRESSORS })) as Row[]));
    start = end;
  }
  return { columns, rows };
}

function fileColumns(pq: ParquetFile): FileColumns {
  const middle = pq.columns.map((c) => c.name).filter((n) => !FIXED.has(n));
  const types = new Map(pq.columns.map((c) => [c.name, c.type]));
  const firstOther = middle.findIndex((n) => types.get(n) !== 'DOUBLE' && types.get(n) !== 'FLOAT');
  const adv = types.has('advantage') ? pq.rows.map((r) => num(r.advantage)) : undefined;
  return {
    middle,
    floatRun: firstOther < 0 ? middle : middle.slice(0, firstOther),
    values: (c) => pq.rows.map((r) => num(r[c])),
    prompts: pq.rows.map((r) => cellText(r.prompt) ?? JSON.stringify(r.prompt ?? null)),
    advantages: adv && adv.every(Number.isFinite) ? adv : undefined,
  };
}

type Seen = ReturnType<TrlRun['remember']>;

/** The step a file holds: its rows' (TRL writes global_step into every row), else its name's. */
function fileStep(path: string, pq: ParquetFile): { step: number | undefined; note?: string } {
  const named = stepFromName(path);
  const rowStep = pq.rows.map((r) => stepOf(r.step)).find((s) => s !== undefined);
  if (named !== undefined && rowStep !== undefined && rowStep !== named) {
    return { step: rowStep, note: `rows say step ${rowStep}, the file name says ${named}: TRL names the file after the step it writes (a copied or renamed file?)` };
  }
  return { step: rowStep ?? named };
}

/** What the run's record and earlier files say about this whole file: a repeat, an eval pass, a rewrite. */
function fileNotes(step: number | undefined, seen: Seen | undefined, run: TrlRun, layout: Layout, path: string): { notes: string[]; meta: Record<string, unknown> } {
  const notes = [...layout.notes];
  const meta: Record<string, unknown> = Object.create(null);
  const state = run.state;
  if (step !== undefined && state?.evalSteps.has(step)) {
    meta.logged_by = 'eval';
    notes.push(
      `${state.path} logs an evaluation at step ${step}: TRL's eval pass writes completions_${String(step).padStart(5, '0')}.parquet too, replacing that step's training file, ` +
        `so these rows are the evaluation's (after any training rows still held in its log buffer)`,
    );
  }
  if (seen?.kind === 'rewritten') {
    notes.push(`rewritten with other rows after it was read (TRL's eval pass writes the step's file again after its training log): both versions are kept`);
  }
  if (seen?.kind === 'repeat') {
    meta.same_batch_as_step = seen.step;
    notes.push(
      `the same rows (prompts, completions, advantages) as ${seen.file}: TRL logs its last generation batch at every logging step, so with num_iterations > 1 ` +
        `(or steps_per_generation > gradient_accumulation_steps) one batch, generated for step ${seen.step}, is logged again`,
    );
  } else if (step !== undefined && state?.unscoredSteps.has(step) && !meta.logged_by) {
    notes.push(`${state.path} logs no reward at step ${step}: no generation batch was scored since the previous log, so this file holds an earlier batch again`);
  }
  const size = layout.size?.value;
  if (size !== undefined && run.lastSize && run.lastSize.value !== size && !meta.logged_by) {
    notes.push(`group size ${size} here, ${run.lastSize.value} in ${run.lastSize.file} (an eval pass with num_generations_eval, or a changed config?)`);
  }
  if (size !== undefined) run.lastSize = { value: size, file: path };
  return { notes, meta };
}

/**
 * Reads one completions parquet whole (TRL writes each at once, at its logging step) and emits its
 * rows as records located by 1-based row number, with notes for what cannot be settled. `run`
 * carries what earlier files of the same run settled; without it the file is read on its own.
 * Rejects when the file is not (yet) a readable parquet file, before touching `run`.
 */
export async function readTrlFile(path: string, sink: RecordSink, opts: AdapterOptions & { run?: TrlRun }): Promise<number> {
  const pq = await readParquet(path);
  if (!pq.rows.length) return 0;
  let run = opts.run;
  if (!run) {
    run = new TrlRun(runFolderOf(path));
    await run.refresh();
  }
  const cols = fileColumns(pq);
  const { step, note } = fileStep(path, pq);
  const hash = batchHash(pq.rows.map((r, i) => [cols.prompts[i], cellText(r.completion) ?? null, num(r.advantage)]));
  const seen = step !== undefined ? run.remember(step, hash, path) : undefined;
  if (seen?.kind === 'unchanged') return 0; // read before with these very rows (the end of train() logs again): nothing new
  const layout = resolveLayout(cols, run, path, opts.numGenerations);
  const { notes, meta: fileMeta } = fileNotes(step, seen, run, layout, path);
  if (note) notes.unshift(note);
  for (const message of notes) sink.note?.({ file: path, message });
  const size = layout.size;
  // A rewritten file's groups are other completions than its first version's: other group ids.
  const groupBase = seen?.kind === 'rewritten' ? `${step}/v${seen.version}.` : undefined;
  let emitted = 0;
  pq.rows.forEach((row, i) => {
    const r = trlRowToRecord(row, layout);
    if (!r.ok) {
      sink.bad({ file: path, line: i + 1, error: `row ${i + 1}: ${r.error}` });
      return;
    }
    const rec = r.record;
    if (size) {
      rec.group = `${groupBase ?? `${rec.step ?? '?'}/`}${Math.floor(i / size.value)}`;
      rec.index = i % size.value;
    }
    const meta = { ...rec.meta, ...fileMeta, ...(size ? { num_generations: size.value, num_generations_from: size.from } : {}) };
    if (Object.keys(meta).length) rec.meta = meta;
    emitted++;
    sink.record(rec, { file: path, line: i + 1, row: true });
  });
  return emitted;
}
