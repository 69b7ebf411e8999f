/**
 * The evaluation manifest (docs/eval.md "The manifest"): checkpoints, benchmarks and which
 * predictions file holds each pair. Validated field by field; an error names the manifest and the
 * field. Paths inside are relative to the manifest's folder.
 */
import { parseMetric, type MetricName } from './metrics';

export interface CheckpointSpec {
  id: string;
  label: string;
  step?: number;
  /** e.g. "SFT", "GRPO", "Base": the column of the train-data table, the Methods cell. */
  method?: string;
  /** Whether the model writes a reasoning chain (the alignment table's Reasoning column). */
  reasoning?: boolean;
  /** Which rewards GRPO trained with (the ablation table). */
  rewards?: { accuracy?: boolean; format?: boolean; iou?: boolean };
  train_data?: string;
  augmented?: boolean;
  /** Reasoning-answer alignment from the judge: a fraction, or aligned / judged counts. */
  alignment?: { value: number; n?: number };
}

export interface BenchmarkSpec {
  id: string;
  label: string;
  metric: MetricName;
  domain?: 'ood' | 'in-domain';
  /** Which part is the benchmark's headline number for letter-f1 / POPE (default f1 / accuracy). */
  headline?: string;
}

export interface PredictionEntry {
  checkpoint: string;
  benchmark: string;
  /** Absolute path (resolved against the manifest's folder). */
  file: string;
  format?: 'auto' | 'jsonl' | 'lmms-eval' | 'vlmevalkit';
  /** For an lmms-eval results.json: the task and the logged key, e.g. "pope_accuracy,none". */
  task?: string;
  key?: string;
  /** The logged value is divided by this (100 for a task that logs percentages); default 1. */
  scale?: number;
}

export interface Manifest {
  title: string;
  base?: string;
  checkpoints: CheckpointSpec[];
  benchmarks: BenchmarkSpec[];
  predictions: PredictionEntry[];
  /** The benchmark beside alignment in "model | reasoning | accuracy | alignment". */
  alignment_benchmark?: string;
  /** The benchmark of the "train data | SFT | GRPO" table. */
  train_data_benchmark?: string;
}

export class ManifestError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Validate a parsed manifest; `where` names it in errors, `resolvePath` makes file paths absolute. */
export function parseManifest(v: unknown, where: string, resolvePath: (p: string) => string): Manifest {
  const fail = (field: string, what: string): never => {
    throw new ManifestError(`${where}: ${field}: ${what}`);
  };
  if (!isObj(v)) fail('(top)', 'expected a JSON object');
  const o = v as Obj;
  const str = (x: unknown, field: string): string => (typeof x === 'string' && x !== '' ? x : fail(field, 'expected a non-empty string'));
  const optStr = (x: unknown, field: string): string | undefined => (x === undefined ? undefined : str(x, field));
  const optBool = (x: unknown, field: string): boolean | undefined => (x === undefined || typeof x === 'boolean' ? x : fail(field, 'expected true or false'));
  const list = (x: unknown, field: string): unknown[] => (Array.isArray(x) && x.length ? x : fail(field, 'expected a non-empty list'));

  const checkpoints = list(o.checkpoints, 'checkpoints').map((c, i): CheckpointSpec => {
    const f = `checkpoints[${i}]`;
    if (!isObj(c)) return fail(f, 'expected an object');
    const spec: CheckpointSpec = { id: str(c.id, `${f}.id`), label: optStr(c.label, `${f}.label`) ?? str(c.id, `${f}.id`) };
    if (c.step !== undefined) spec.step = typeof c.step === 'number' && Number.isFinite(c.step) ? c.step : fail(`${f}.step`, 'expected a number');
    const method = optStr(c.method, `${f}.method`);
    if (method) spec.method = method;
    const reasoning = optBool(c.reasoning, `${f}.reasoning`);
    if (reasoning !== undefined) spec.reasoning = reasoning;
    if (c.rewards !== undefined) {
      if (!isObj(c.rewards)) fail(`${f}.rewards`, 'expected {"accuracy", "format", "iou"} booleans');
      const r = c.rewards as Obj;
      spec.rewards = {};
      for (const k of ['accuracy', 'format', 'iou'] as const) {
        const b = optBool(r[k], `${f}.rewards.${k}`);
        if (b !== undefined) spec.rewards[k] = b;
      }
    }
    const td = optStr(c.train_data, `${f}.train_data`);
    if (td) spec.train_data = td;
    const aug = optBool(c.augmented, `${f}.augmented`);
    if (aug !== undefined) spec.augmented = aug;
    if (c.alignment !== undefined) {
      const a = c.alignment;
      const count = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
      if (typeof a === 'number' && a >= 0 && a <= 1) spec.alignment = { value: a };
      // grpo-studio judge --json's summary: alignment = 1 − misaligned / judged (docs/judge.md).
      else if (isObj(a) && count(a.judged) && count(a.misaligned) && a.judged > 0 && a.misaligned <= a.judged) {
        spec.alignment = { value: 1 - a.misaligned / a.judged, n: a.judged };
      } else if (isObj(a) && Number.isInteger(a.aligned) && Number.isInteger(a.n) && (a.n as number) > 0 && (a.aligned as number) >= 0 && (a.aligned as number) <= (a.n as number)) {
        spec.alignment = { value: (a.aligned as number) / (a.n as number), n: a.n as number };
      } else fail(`${f}.alignment`, 'expected a fraction 0-1, {"aligned": k, "n": judged} or {"judged": n, "misaligned": m}');
    }
    return spec;
  });
  const ids = new Set<string>();
  for (const c of checkpoints) {
    if (ids.has(c.id)) fail('checkpoints', `id "${c.id}" appears twice`);
    ids.add(c.id);
  }

  const benchmarks = list(o.benchmarks, 'benchmarks').map((b, i): BenchmarkSpec => {
    const f = `benchmarks[${i}]`;
    if (!isObj(b)) return fail(f, 'expected an object');
    const id = str(b.id, `${f}.id`);
    const metric = parseMetric(str(b.metric, `${f}.metric`)) ?? fail(`${f}.metric`, 'expected exam-score, letter-f1, exact-match, vqa, pope or pass@K');
    const spec: BenchmarkSpec = { id, label: optStr(b.label, `${f}.label`) ?? id, metric };
    if (b.domain !== undefined) spec.domain = b.domain === 'ood' || b.domain === 'in-domain' ? b.domain : fail(`${f}.domain`, 'expected "ood" or "in-domain"');
    const h = optStr(b.headline, `${f}.headline`);
    if (h) {
      const parts = metric === 'pope' ? ['accuracy', 'precision', 'recall', 'f1', 'yes_ratio'] : metric === 'letter-f1' ? ['precision', 'recall', 'f1'] : [];
      if (!parts.includes(h)) fail(`${f}.headline`, parts.length ? `expected one of ${parts.join(', ')}` : `${metric} has one number only`);
      spec.headline = h;
    }
    return spec;
  });
  const bids = new Set(benchmarks.map((b) => b.id));
  if (bids.size !== benchmarks.length) fail('benchmarks', 'two benchmarks share an id');

  const predictions = list(o.predictions, 'predictions').map((p, i): PredictionEntry => {
    const f = `predictions[${i}]`;
    if (!isObj(p)) return fail(f, 'expected an object');
    const checkpoint = str(p.checkpoint, `${f}.checkpoint`);
    if (!ids.has(checkpoint)) fail(`${f}.checkpoint`, `"${checkpoint}" is not a checkpoint id`);
    const benchmark = str(p.benchmark, `${f}.benchmark`);
    if (!bids.has(benchmark)) fail(`${f}.benchmark`, `"${benchmark}" is not a benchmark id`);
    const e: PredictionEntry = { checkpoint, benchmark, file: resolvePath(str(p.file, `${f}.file`)) };
    const fmt = optStr(p.format, `${f}.format`);
    if (fmt) e.format = ['auto', 'jsonl', 'lmms-eval', 'vlmevalkit'].includes(fmt) ? (fmt as PredictionEntry['format']) : fail(`${f}.format`, 'expected auto, jsonl, lmms-eval or vlmevalkit');
    const task = optStr(p.task, `${f}.task`);
    const key = optStr(p.key, `${f}.key`);
    if ((task === undefined) !== (key === undefined)) fail(f, '"task" and "key" go together (a logged value of an lmms-eval results.json)');
    if (task && key) Object.assign(e, { task, key });
    if (p.scale !== undefined) {
      if (!key) fail(`${f}.scale`, 'only a logged value ("task" and "key") has a scale');
      e.scale = typeof p.scale === 'number' && p.scale > 0 ? p.scale : fail(`${f}.scale`, 'expected a positive number');
    }
    return e;
  });
  const pairs = new Set<string>();
  for (const p of predictions) {
    const k = `${p.checkpoint}\u0000${p.benchmark}`;
    if (pairs.has(k)) fail('predictions', `two files for checkpoint "${p.checkpoint}" on benchmark "${p.benchmark}"`);
    pairs.add(k);
  }
  const m: Manifest = { title: optStr(o.title, 'title') ?? 'Evaluation report', checkpoints, benchmarks, predictions };
  const base = optStr(o.base, 'base');
  if (base !== undefined) m.base = ids.has(base) ? base : fail('base', `"${base}" is not a checkpoint id`);
  for (const k of ['alignment_benchmark', 'train_data_benchmark'] as const) {
    const b = optStr(o[k], k);
    if (b !== undefined) m[k] = bids.has(b) ? b : fail(k, `"${b}" is not a benchmark id`);
  }
  return m;
}
