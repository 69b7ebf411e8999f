/**
 * The stateless parts of reading training metrics: one line, one file, one value at a time. Each
 * format as its trainer's code writes it is described in docs/formats.md ("Training metrics");
 * ./metrics holds the stateful stdout reader (which step an HF dict line belongs to).
 */
import { parsePythonLiteral, type PyValue } from './python-literal';

export interface MetricPoint {
  step: number;
  name: string;
  value: number;
}

/** torchrun / accelerate prefix each rank's line, e.g. "[rank0]: " or "[default0]:". */
const RANK_PREFIX = /^\s*(?:\[(?:rank|default)\d+\]:\s*)?/;
/** Colour codes (Ray colours its "(TaskRunner pid=…)" prefix on a terminal). */
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const SPECIAL = /^([-+]?)(nan|inf|infinity)$/i;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * A number written as text: Python's repr / `f"{v:.4g}"` ("0.0123", "1e-05", "nan", "-inf") and
 * JSON's spellings ("NaN", "-Infinity"). Anything else (a real text value) is undefined.
 */
export function numberFromText(text: string): number | undefined {
  const t = text.trim();
  if (DECIMAL.test(t)) return Number(t);
  const m = SPECIAL.exec(t);
  if (!m) return undefined;
  return m[2]!.toLowerCase() === 'nan' ? NaN : m[1] === '-' ? -Infinity : Infinity;
}

/** A logged value as a metric: numbers, and strings that spell one. Booleans, None and text are not metrics. */
export function metricValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return numberFromText(v);
  return undefined;
}

/**
 * Python's json writes NaN / Infinity bare, which JSON.parse rejects: quote them first (as
 * strings, which metricValue reads back). Only where a value starts, so text is left alone.
 */
export function parsePythonJson(text: string): unknown {
  return JSON.parse(text.replace(/(?<=[:[,]\s*)(-?)(NaN|Infinity)(?=\s*[,}\]])/g, '"$1$2"'));
}

/** The text looks like a logged dict ("{'loss': …}"), whether or not it parses. */
export function looksLikeDict(text: string): boolean {
  const t = text.replace(RANK_PREFIX, '').trim();
  return t.startsWith('{') && t.endsWith('}') && /^\{\s*['"][^'"]+['"]\s*:/.test(t);
}

/** The start of a logged dict whose end is elsewhere (stdout cut by block buffering). */
export function looksLikeDictHead(text: string): boolean {
  const t = text.replace(RANK_PREFIX, '').trim();
  return /^\{\s*['"][^'"]+['"]\s*:/.test(t) && !t.endsWith('}');
}

/** `step`: the line's own step, when it names one (a 'step' / 'global_step' key, or ms-swift's 'global_step/max_steps': '3/100'). */
export type DictLine = { entries: [string, number][]; step?: number } | { error: string };

/**
 * An HF Trainer log line -> its metric entries in printed order. ProgressCallback prints
 * `str(logs)`: older transformers with raw floats (`'loss': 0.0123`), newer ones with each float
 * as an `f"{v:.4g}"` string (`'loss': '0.0123'`); both count. Undefined if not a dict line.
 */
export function parseTrainerDict(line: string): DictLine | undefined {
  const t = line.replace(RANK_PREFIX, '').trim();
  if (!looksLikeDict(t)) return undefined;
  let v: PyValue;
  try {
    v = parsePythonLiteral(t);
  } catch (e) {
    return { error: `looks like a metrics dict but does not parse: ${(e as Error).message}` };
  }
  if (!isObj(v)) return undefined;
  const entries: [string, number][] = [];
  let step: number | undefined;
  for (const [k, x] of Object.entries(v)) {
    const n = metricValue(x);
    if ((k === 'step' || k === 'global_step') && n !== undefined) step = n;
    else if (k === 'global_step/max_steps' && typeof x === 'string' && /^\d+\/\d+$/.test(x)) step = Number(x.split('/')[0]);
    else if (n !== undefined) entries.push([k, n]);
  }
  return step === undefined ? { entries } : { entries, step };
}

/** The numeric entries of an HF Trainer dict line, its own step included (keyed by file content, so a Map), or undefined. */
export function parseTrainerDictLine(line: string): Map<string, number> | undefined {
  const d = parseTrainerDict(line);
  if (!d || 'error' in d || !d.entries.length) return undefined;
  return new Map(d.step === undefined ? d.entries : [['step', d.step], ...d.entries]);
}

/**
 * verl's console line (LocalLogger.log: `print(concat_dict_to_str(data, step))`), often behind
 * Ray's "(TaskRunner pid=1234) " prefix: "step:12 - actor/kl_loss:0.001 - val/x:np.float64(0.5)".
 * Values are `pprint.pformat` of numbers.Number: numpy 2 scalars print as np.float64(…).
 */
export function parseVerlLine(line: string): MetricPoint[] | undefined {
  const t = line.replace(ANSI, '').replace(RANK_PREFIX, '').replace(/\s*\[repeated \d+x across cluster\]\s*$/, '');
  const m = /(?:^|\s|\))step:(\d+)\s+-\s+(.*)$/.exec(t);
  if (!m) return undefined;
  const step = Number(m[1]);
  const out: MetricPoint[] = [];
  for (const part of m[2]!.split(/\s+-\s+/)) {
    const kv = /^\s*([^\s:][^:]*?):\s*(.+?)\s*$/.exec(part);
    if (!kv) continue;
    const value = numberFromText(kv[2]!.replace(/^np\.\w+\((.*)\)$/, '$1'));
    if (value !== undefined) out.push({ step, name: kv[1]!, value });
  }
  return out.length ? out : undefined;
}

/** `trainer_state.json` text -> points from log_history (each entry carries its own step). */
export function parseTrainerState(text: string): MetricPoint[] {
  const raw = parsePythonJson(text);
  if (!isObj(raw) || !Array.isArray(raw.log_history)) throw new Error('trainer_state.json has no log_history list');
  const out: MetricPoint[] = [];
  for (const e of raw.log_history) {
    if (!isObj(e) || typeof e.step !== 'number') continue;
    for (const [k, v] of Object.entries(e)) {
      if (k === 'step') continue;
      const value = metricValue(v);
      if (value !== undefined) out.push({ step: e.step, name: k, value });
    }
  }
  return out;
}

/**
 * One line of EasyR1's experiment_log.jsonl (FileLogger.log: `json.dumps({"step": step,
 * **unflatten_dict(data)})`); nested groups flatten back to "actor/kl_loss". An error text for a
 * line that is not such an object; [] for a blank line.
 */
export function easyR1Points(line: string): MetricPoint[] | string {
  const t = line.trim();
  if (!t) return [];
  let raw: unknown;
  try {
    raw = parsePythonJson(t);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (!isObj(raw)) return 'a metrics line must be a JSON object';
  if (typeof raw.step !== 'number') return '"step" is missing or not a number';
  const step = raw.step;
  const out: MetricPoint[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (!prefix && k === 'step') continue;
      const name = prefix ? `${prefix}/${k}` : k;
      const value = metricValue(v);
      if (value !== undefined) out.push({ step, name, value });
      else if (isObj(v)) walk(v, name);
    }
  };
  walk(raw, '');
  return out;
}

/** As easyR1Points, quiet about bad lines (the live follower has no one to tell). */
export function parseEasyR1Line(line: string): MetricPoint[] {
  const r = easyR1Points(line);
  return typeof r === 'string' ? [] : r;
}
