/**
 * Prediction files to prediction items (docs/eval.md "Prediction files"): our JSONL, lmms-eval's
 * samples JSONL, VLMEvalKit's prediction files written as TSV / CSV / JSON (PRED_FORMAT=tsv or
 * json). An .xlsx is refused with what to do instead. One bad line never drops the others.
 */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDelimited } from './delimited';
import { answerList, isLmmsResults, isLmmsSample, lmmsResults, lmmsSampleItem, pythonStringList, type LoggedTask } from './lmmsEval';
import type { BadLine, PredictionItem, PredictionSet, Where } from './types';

/** A file that cannot be read as predictions at all (missing, xlsx, aggregates only): exit 2. */
export class PredictionsError extends Error {}

export type PredictionFormat = 'auto' | 'jsonl' | 'lmms-eval' | 'vlmevalkit';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function readText(file: string): string {
  let buf: Buffer;
  try {
    if (statSync(file).isDirectory()) throw new PredictionsError(`${file} is a folder: name a predictions file (a folder is read by 'grpo-studio report')`);
    buf = readFileSync(file);
  } catch (e) {
    if (e instanceof PredictionsError) throw e;
    throw new PredictionsError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    // TextDecoder drops a UTF-8 byte-order mark itself (as Excel's "CSV UTF-8" and utf-8-sig write).
    return UTF8.decode(buf);
  } catch {
    throw new PredictionsError(`${file} is not UTF-8 text`);
  }
}

const str = (v: unknown): v is string => typeof v === 'string';

/**
 * One record (a JSONL object, a JSON record, a table row) to an item. Fields: id (or
 * question_id / index), prediction or predictions, answer (or answers), correct, n, question.
 * `listInString`: a gold answer written as a Python list repr is a list (VLMEvalKit's VQA files).
 */
export function recordItem(o: Record<string, unknown>, where: Where, listInString: boolean): PredictionItem | string {
  const rawId = o.id ?? o.question_id ?? o.index;
  if (typeof rawId !== 'string' && typeof rawId !== 'number') return 'no "id" (a string or a number; "question_id" and "index" are read too)';
  if (rawId === '') return '"id" is empty';
  const item: PredictionItem = { id: String(rawId), where };
  if (o.prediction !== undefined && o.prediction !== null) {
    if (!str(o.prediction)) return `"prediction" must be a string, got ${typeof o.prediction}`;
    item.prediction = o.prediction;
  }
  if (o.predictions !== undefined) {
    if (!Array.isArray(o.predictions) || !o.predictions.every(str)) return '"predictions" must be a list of strings';
    item.predictions = o.predictions;
  }
  const gold = o.answer ?? o.answers;
  if (gold !== undefined && gold !== null) {
    if (str(gold)) item.answer = (listInString && pythonStringList(gold)) || gold;
    else if (typeof gold === 'number' || typeof gold === 'boolean') item.answer = String(gold);
    else {
      const list = answerList(gold);
      if (!list) return '"answer" must be a string, a list of strings, or a list of {"answer": …} objects';
      item.answer = list;
    }
  }
  const c = o.correct;
  if (c !== undefined && c !== null) {
    if (typeof c === 'boolean' || (Array.isArray(c) && c.every((x) => typeof x === 'boolean'))) item.correct = c;
    else if (typeof c === 'number' && Number.isInteger(c) && c >= 0) item.correct = c;
    else return '"correct" must be true/false, a list of them, or a count of correct generations';
  }
  if (o.n !== undefined) {
    if (typeof o.n !== 'number' || !Number.isInteger(o.n) || o.n < 1) return '"n" must be a positive integer';
    item.n = o.n;
  }
  const q = o.question ?? o.prompt;
  if (str(q)) item.question = q;
  if (item.prediction === undefined && item.predictions === undefined && item.correct === undefined) {
    return 'no "prediction", "predictions" or "correct"';
  }
  return item;
}

function jsonlItems(text: string, file: string, format: PredictionFormat): PredictionSet {
  const items: PredictionItem[] = [];
  const bad: BadLine[] = [];
  let kind: 'jsonl' | 'lmms-eval' | null = format === 'jsonl' ? 'jsonl' : format === 'lmms-eval' ? 'lmms-eval' : null;
  const lines = text.split('\n');
  lines.forEach((raw, k) => {
    const line = k + 1;
    const t = raw.trim();
    if (!t) return;
    let o: unknown;
    try {
      o = JSON.parse(t);
    } catch (e) {
      bad.push({ file, line, error: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) {
      bad.push({ file, line, error: 'not a JSON object' });
      return;
    }
    const rec = o as Record<string, unknown>;
    kind ??= isLmmsSample(rec) ? 'lmms-eval' : 'jsonl';
    const item = kind === 'lmms-eval' ? lmmsSampleItem(rec, { file, line }) : recordItem(rec, { file, line }, false);
    if (typeof item === 'string') bad.push({ file, line, error: item });
    else items.push(item);
  });
  return { format: kind === 'lmms-eval' ? 'lmms-eval-samples' : 'jsonl', files: [file], items, bad, notes: [] };
}

function tableItems(text: string, file: string, sep: ',' | '\t'): PredictionSet {
  const { header, rows, bad } = parseDelimited(text, sep, file);
  const items: PredictionItem[] = [];
  if (!header.some((h) => ['id', 'index', 'question_id'].includes(h))) {
    throw new PredictionsError(`${file}:1: the header has no "index" or "id" column (found: ${header.slice(0, 12).join(', ')})`);
  }
  for (const r of rows) {
    // pandas writes a missing value (NaN) as an empty field: such a cell is absent.
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.cells)) if (v !== '') o[k] = v;
    const item = recordItem(o, { file, line: r.line }, true);
    if (typeof item === 'string') bad.push({ file, line: r.line, error: item });
    else items.push(item);
  }
  return { format: 'vlmevalkit', files: [file], items, bad, notes: [] };
}

/** The line each top-level record of a JSON array starts on (for error messages). */
function recordLines(text: string, count: number): number[] {
  const out: number[] = [];
  let depth = 0;
  let line = 1;
  let inStr = false;
  for (let i = 0; i < text.length && out.length < count; i++) {
    const ch = text[i]!;
    if (ch === '\n') line++;
    if (inStr) {
      if (ch === '\\') i++;
      else if (ch === '"') inStr = false;
    } else if (ch === '"') inStr = true;
    else if (ch === '{' || ch === '[') {
      if (depth === 1) out.push(line);
      depth++;
    } else if (ch === '}' || ch === ']') depth--;
  }
  return out;
}

function jsonItems(text: string, file: string): PredictionSet {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new PredictionsError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  if (isLmmsResults(v)) {
    throw new PredictionsError(`${file} is lmms-eval's aggregated results (no per-question predictions): pass the <date>_samples_<task>.jsonl beside it (lmms-eval --log_samples)`);
  }
  if (!Array.isArray(v)) throw new PredictionsError(`${file}: expected a JSON list of records (VLMEvalKit PRED_FORMAT=json)`);
  const lines = recordLines(text, v.length);
  const items: PredictionItem[] = [];
  const bad: BadLine[] = [];
  v.forEach((o, k) => {
    const line = lines[k] ?? 1;
    if (!o || typeof o !== 'object' || Array.isArray(o)) {
      bad.push({ file, line, error: `record ${k + 1} is not an object` });
      return;
    }
    const rec = o as Record<string, unknown>;
    const item = isLmmsSample(rec) ? lmmsSampleItem(rec, { file, line }) : recordItem(rec, { file, line }, true);
    if (typeof item === 'string') bad.push({ file, line, error: item });
    else items.push(item);
  });
  return { format: 'vlmevalkit', files: [file], items, bad, notes: [] };
}

/** Read one predictions file; its format from `format`, else from its extension and content. */
export function readPredictions(file: string, format: PredictionFormat = 'auto'): PredictionSet {
  const ext = extname(file).toLowerCase();
  if (ext === '.xlsx' || ext === '.xls') {
    throw new PredictionsError(`${file}: Excel files are not read; run VLMEvalKit with PRED_FORMAT=tsv (or json), or save the sheet as TSV`);
  }
  const text = readText(file);
  if (ext === '.tsv') return tableItems(text, file, '\t');
  if (ext === '.csv') return tableItems(text, file, ',');
  if (ext === '.json') return jsonItems(text, file);
  return jsonlItems(text, file, format === 'vlmevalkit' ? 'auto' : format);
}

/** lmms-eval's <date>_results.json: the logged aggregates per task. */
export function readLoggedResults(file: string): LoggedTask[] {
  const text = readText(file);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new PredictionsError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  if (!isLmmsResults(v)) throw new PredictionsError(`${file} is not an lmms-eval results.json (no "results" with "configs" / "versions" / "n-samples")`);
  return lmmsResults(v as Record<string, unknown>);
}
