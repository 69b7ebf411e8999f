/**
 * Training metrics from every place trainers put them, as one series model `{step, name, value}`:
 * HF Trainer's per-step dict lines on stdout, `trainer_state.json` log_history, verl's console
 * lines, EasyR1's `experiment_log.jsonl`. Values may be NaN or ±Infinity (a diverging loss is news).
 */
import { parsePythonLiteral, type PyValue } from './python-literal';
import { parseProgress } from './progress';

export interface MetricPoint {
  step: number;
  name: string;
  value: number;
}

/** torchrun / accelerate prefix each rank's line, e.g. "[rank0]: " or "[default0]:". */
const RANK_PREFIX = /^\s*(?:\[(?:rank|default)\d+\]:\s*)?/;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function numbersOf(obj: Record<string, unknown>, prefix = '', out: [string, number][] = []): [string, number][] {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix ? `${prefix}/${k}` : k;
    if (typeof v === 'number') out.push([name, v]);
    else if (isObj(v)) numbersOf(v, name, out);
  }
  return out;
}

/** An HF Trainer log line `{'loss': 0.1, ...}` -> its numeric entries, or undefined if not one. */
export function parseTrainerDictLine(line: string): Record<string, number> | undefined {
  const t = line.replace(RANK_PREFIX, '').trim();
  if (!t.startsWith('{') || !t.endsWith('}') || !/['"][^'"]+['"]\s*:/.test(t)) return undefined;
  let v: PyValue;
  try {
    v = parsePythonLiteral(t);
  } catch {
    return undefined;
  }
  if (!isObj(v)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'number') out[k] = x;
  return Object.keys(out).length ? out : undefined;
}

/** verl console line "step:12 - actor/kl_loss:0.001 - critic/score/mean:0.5" -> points. */
export function parseVerlLine(line: string): MetricPoint[] | undefined {
  const t = line.replace(RANK_PREFIX, '');
  const m = /(?:^|\s)step:(\d+)\s+-\s+(.*)$/.exec(t);
  if (!m) return undefined;
  const step = Number(m[1]);
  const out: MetricPoint[] = [];
  for (const part of m[2]!.split(/\s+-\s+/)) {
    const kv = /^\s*([^\s:][^:]*?):\s*(.+?)\s*$/.exec(part);
    if (!kv) continue;
    // numpy 2 reprs: np.float64(0.5)
    const raw = kv[2]!.replace(/^np\.\w+\((.*)\)$/, '$1');
    const value = /^[-+]?inf$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(raw) ? NaN : Number(raw);
    const isNumber = /^nan$/i.test(raw) || !Number.isNaN(value);
    if (isNumber) out.push({ step, name: kv[1]!, value });
  }
  return out.length ? out : undefined;
}

/** `trainer_state.json` text -> points from log_history (each entry carries its own step). */
export function parseTrainerState(text: string): MetricPoint[] {
  // Python's json writes NaN / Infinity bare, which JSON.parse rejects.
  const fixed = text.replace(/(?<=[:\[,]\s*)(-?)(NaN|Infinity)(?=\s*[,}\]])/g, (_m, sign: string, w: string) => `"${sign}${w}"`);
  const raw: unknown = JSON.parse(fixed);
  if (!isObj(raw) || !Array.isArray(raw.log_history)) throw new Error('trainer_state.json has no log_history list');
  const out: MetricPoint[] = [];
  for (const e of raw.log_history) {
    if (!isObj(e) || typeof e.step !== 'number') continue;
    for (const [k, v] of Object.entries(e)) {
      if (k === 'step') continue;
      const value = typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : undefined;
      if (value !== undefined) out.push({ step: e.step, name: k, value });
    }
  }
  return out;
}

/** One line of EasyR1's experiment_log.jsonl; nested groups flatten to "actor/kl_loss". */
export function parseEasyR1Line(line: string): MetricPoint[] {
  const t = line.trim();
  if (!t) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(t.replace(/(?<=[:\[,]\s*)(-?)(NaN|Infinity)(?=\s*[,}\]])/g, '"$1$2"'));
  } catch {
    return [];
  }
  if (!isObj(raw) || typeof raw.step !== 'number') return [];
  const step = raw.step;
  const { step: _s, ...rest } = raw;
  const out = numbersOf(rest).map(([name, value]) => ({ step, name, value }));
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const name = prefix ? `${prefix}/${k}` : k;
      if (typeof v === 'string' && /^-?(NaN|Infinity)$/.test(v)) out.push({ step, name, value: Number(v) });
      else if (isObj(v)) walk(v, name);
    }
  };
  walk(rest, '');
  return out;
}

/**
 * Stdout metrics with state: HF dict lines carry no step, so the step is the newest tqdm step
 * seen (or an explicit 'step' / 'global_step' key), else a running count of dict lines.
 */
export class StdoutMetrics {
  private tqdmStep: number | undefined;
  private dictLines = 0;

  /** Feed one output segment (a line, or one '\r' redraw). */
  push(segment: string): MetricPoint[] {
    const p = parseProgress(segment);
    if (p) {
      this.tqdmStep = p.step;
      return [];
    }
    const verl = parseVerlLine(segment);
    if (verl) return verl;
    const d = parseTrainerDictLine(segment);
    if (!d) return [];
    this.dictLines++;
    const step = d.step ?? d.global_step ?? this.tqdmStep ?? this.dictLines;
    return Object.entries(d)
      .filter(([k]) => k !== 'step' && k !== 'global_step')
      .map(([name, value]) => ({ step, name, value }));
  }
}
