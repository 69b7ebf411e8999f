/**
 * lmms-eval's outputs (EvolvingLMMs-Lab/lmms-eval, loggers/evaluation_tracker.py), as written
 * with --log_samples --output_path: `<date>_samples_<task>.jsonl`, one object per document
 * ({doc_id, target, filtered_resps, resps?, input, doc_hash, <metric>: …}; lmms-eval ≤ 0.3 also
 * kept the `doc`), and `<date>_results.json` ({results: {<task>: {"<metric>,<filter>": x,
 * "<metric>_stderr,<filter>": s, alias}}, "n-samples": {<task>: {original, effective}}, …}).
 */
import { parsePythonLiteral } from '../training/python-literal';
import type { PredictionItem, Where } from './types';

export const isLmmsSample = (o: Record<string, unknown>): boolean => 'doc_id' in o && ('filtered_resps' in o || 'resps' in o);

/** filtered_resps: a string (0.4+, one request), or lists of them (older, or several generations). */
function generations(v: unknown): string[] | null {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) return null;
  const out: string[] = [];
  for (const x of v) {
    const g = generations(x);
    if (!g) return null;
    out.push(...g);
  }
  return out;
}

/** Annotator answers from a doc: strings, or VQA's {answer, answer_confidence, answer_id} dicts. */
export function answerList(v: unknown): string[] | null {
  if (!Array.isArray(v)) return null;
  const out: string[] = [];
  for (const a of v) {
    if (typeof a === 'string') out.push(a);
    else if (a && typeof a === 'object' && typeof (a as { answer?: unknown }).answer === 'string') out.push((a as { answer: string }).answer);
    else return null;
  }
  return out;
}

/** A Python list repr of strings, as `str(target)` writes a list target: "['yes', 'yes']". */
export function pythonStringList(s: string): string[] | null {
  if (!/^\s*\[/.test(s)) return null;
  try {
    const v = parsePythonLiteral(s.trim());
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

export function lmmsSampleItem(o: Record<string, unknown>, where: Where): PredictionItem | string {
  if (typeof o.doc_id !== 'number' && typeof o.doc_id !== 'string') return '"doc_id" must be a number or a string';
  const gens = generations(o.filtered_resps ?? o.resps);
  if (!gens || !gens.length) return '"filtered_resps" must be a string or a list of strings';
  const item: PredictionItem = { id: String(o.doc_id), prediction: gens[0]!, where };
  if (gens.length > 1) item.predictions = gens;
  const doc = o.doc && typeof o.doc === 'object' ? (o.doc as Record<string, unknown>) : null;
  const fromDoc = doc ? answerList(doc.answers) : null;
  if (fromDoc) item.answer = fromDoc;
  else if (typeof o.target === 'string') item.answer = pythonStringList(o.target) ?? o.target;
  else if (Array.isArray(o.target) && o.target.every((t) => typeof t === 'string')) item.answer = o.target as string[];
  if (doc && typeof doc.question === 'string') item.question = doc.question;
  else if (typeof o.input === 'string') item.question = o.input;
  return item;
}

export interface LoggedTask {
  task: string;
  /** "<metric>,<filter>" → value, as lmms-eval aggregated it. */
  metrics: Record<string, number>;
  stderr: Record<string, number>;
  /** Documents evaluated ("n-samples" effective), when the file says. */
  n?: number;
}

export const isLmmsResults = (o: unknown): boolean =>
  !!o && typeof o === 'object' && !Array.isArray(o) && typeof (o as { results?: unknown }).results === 'object' && ('configs' in o || 'versions' in o || 'n-samples' in o);

/** The aggregates of a results.json: per task, each logged metric (no per-question rows). */
export function lmmsResults(o: Record<string, unknown>): LoggedTask[] {
  const results = o.results as Record<string, Record<string, unknown>>;
  const counts = (o['n-samples'] ?? {}) as Record<string, { effective?: unknown }>;
  const out: LoggedTask[] = [];
  for (const [task, r] of Object.entries(results)) {
    if (!r || typeof r !== 'object') continue;
    const t: LoggedTask = { task, metrics: {}, stderr: {} };
    for (const [k, v] of Object.entries(r)) {
      if (typeof v !== 'number') continue;
      const m = /^(.*)_stderr(,.*)?$/.exec(k);
      if (m) t.stderr[m[1]! + (m[2] ?? '')] = v;
      else t.metrics[k] = v;
    }
    const eff = counts[task]?.effective;
    if (typeof eff === 'number') t.n = eff;
    out.push(t);
  }
  return out;
}
