/**
 * Checkpoints × benchmarks (docs/eval.md "The matrix"): every cell's headline metric with its 95%
 * interval, its difference from the base checkpoint with a paired test on the shared questions,
 * and a bias probe per benchmark. `buildMatrix` is pure given a loader; `loadMatrix` reads files.
 */
import { biasProbe, type BiasProbe } from './bias';
import { comparePaired, type Comparison } from './compare';
import type { LoggedTask } from './lmmsEval';
import type { BenchmarkSpec, CheckpointSpec, Manifest, PredictionEntry } from './manifest';
import { evaluate, type MetricResult } from './metrics';
import { PredictionsError, readLoggedResults, readPredictions } from './readers';
import { wilson, type Interval } from './stats';
import type { BadLine, PredictionSet } from './types';

export interface Cell {
  checkpoint: string;
  benchmark: string;
  /** The headline number (fraction 0-1) and its interval. */
  value: number;
  ci95: Interval;
  n: number;
  /** Every part for letter-f1 / POPE. */
  parts?: Record<string, { value: number; ci95: Interval }>;
  /** True when the value was read from an lmms-eval results.json, not computed here. */
  logged: boolean;
  /** Against the base checkpoint on the same benchmark (absent for the base itself). */
  delta?: { value: number; ci95?: Interval; p_value?: number; test?: string; significant?: boolean; n?: number };
  file: string;
  bad: number;
}

export interface Matrix {
  title: string;
  base: string;
  checkpoints: CheckpointSpec[];
  benchmarks: BenchmarkSpec[];
  /** cells[checkpoint id][benchmark id]; a missing pair is absent. */
  cells: Record<string, Record<string, Cell>>;
  bias: Record<string, BiasProbe | null>;
  alignment_benchmark?: string;
  train_data_benchmark?: string;
  bad: BadLine[];
  /** Files that could not be read at all, with why. */
  errors: { file: string; error: string }[];
}

export type Loaded = { kind: 'items'; set: PredictionSet } | { kind: 'logged'; tasks: LoggedTask[] };

export function defaultLoader(e: PredictionEntry): Loaded {
  if (e.task) return { kind: 'logged', tasks: readLoggedResults(e.file) };
  return { kind: 'items', set: readPredictions(e.file, e.format ?? 'auto') };
}

const defaultPart = (b: BenchmarkSpec): string | undefined => (b.metric === 'letter-f1' ? 'f1' : b.metric === 'pope' ? 'accuracy' : undefined);

function headlineOf(r: MetricResult, b: BenchmarkSpec): { value: number; ci95: Interval } {
  const part = b.headline ?? defaultPart(b);
  return part && r.parts?.[part] ? r.parts[part]! : { value: r.value, ci95: r.ci95 };
}

/** The manifest's base: as named, else a checkpoint called "base", else the lowest step, else the first. */
export function baseOf(m: Manifest): string {
  if (m.base) return m.base;
  const named = m.checkpoints.find((c) => c.id.toLowerCase() === 'base');
  if (named) return named.id;
  const stepped = m.checkpoints.filter((c) => c.step !== undefined).sort((a, b) => a.step! - b.step!);
  return (stepped[0] ?? m.checkpoints[0]!).id;
}

export function buildMatrix(m: Manifest, load: (e: PredictionEntry) => Loaded = defaultLoader): Matrix {
  const base = baseOf(m);
  // Null-prototype maps: ids come from manifests and folder names ("__proto__" is just an id).
  const cells: Matrix['cells'] = Object.create(null);
  const results = new Map<string, MetricResult>();
  const bias: Matrix['bias'] = Object.create(null);
  const bad: BadLine[] = [];
  const errors: Matrix['errors'] = [];
  const bench = new Map(m.benchmarks.map((b) => [b.id, b]));
  // The base's predictions first, so each benchmark's bias probe reads the base's file when it has one.
  const order = [...m.predictions].sort((a, b) => Number(b.checkpoint === base) - Number(a.checkpoint === base));
  for (const e of order) {
    const b = bench.get(e.benchmark)!;
    let loaded: Loaded;
    try {
      loaded = load(e);
    } catch (err) {
      if (!(err instanceof PredictionsError)) throw err;
      errors.push({ file: e.file, error: err.message });
      continue;
    }
    let cell: Cell;
    if (loaded.kind === 'logged') {
      const t = loaded.tasks.find((x) => x.task === e.task);
      const v = t?.metrics[e.key!];
      if (!t || v === undefined) {
        errors.push({ file: e.file, error: `no logged "${e.key}" for task "${e.task}" (tasks: ${loaded.tasks.map((x) => x.task).join(', ') || 'none'})` });
        continue;
      }
      const value = v / (e.scale ?? 1);
      if (!(value >= 0 && value <= 1)) {
        errors.push({ file: e.file, error: `logged "${e.key}" of task "${e.task}" is ${v}, not a fraction 0-1${e.scale ? ` after dividing by ${e.scale}` : ' (a task that logs percentages needs "scale": 100)'}` });
        continue;
      }
      cell = { checkpoint: e.checkpoint, benchmark: e.benchmark, value, ci95: t.n ? wilson(value * t.n, t.n) : [0, 1], n: t.n ?? 0, logged: true, file: e.file, bad: 0 };
    } else {
      const r = evaluate(loaded.set.items, b.metric);
      bad.push(...loaded.set.bad, ...r.bad);
      results.set(`${e.checkpoint}\u0000${e.benchmark}`, r);
      cell = { checkpoint: e.checkpoint, benchmark: e.benchmark, ...headlineOf(r, b), n: r.n, logged: false, file: e.file, bad: loaded.set.bad.length + r.bad.length };
      if (r.parts) cell.parts = r.parts;
      if (!(e.benchmark in bias)) bias[e.benchmark] = biasProbe(loaded.set.items, b.metric);
    }
    (cells[e.checkpoint] ??= Object.create(null) as Record<string, Cell>)[e.benchmark] = cell;
  }
  for (const b of m.benchmarks) {
    const ref = cells[base]?.[b.id];
    if (!ref) continue;
    for (const c of m.checkpoints) {
      const cell = cells[c.id]?.[b.id];
      if (!cell || c.id === base) continue;
      const ra = results.get(`${base}\u0000${b.id}`);
      const rb = results.get(`${c.id}\u0000${b.id}`);
      // The paired test compares the metric's own headline; another part gets a plain delta.
      if (ra && rb && (b.headline ?? defaultPart(b)) === defaultPart(b)) {
        const cmp: Comparison = comparePaired(ra, rb);
        if (cmp.n > 0) {
          cell.delta = { value: cmp.delta, ci95: cmp.delta_ci95, p_value: cmp.test.p_value, test: cmp.test.test, significant: cmp.significant, n: cmp.n };
          continue;
        }
      }
      cell.delta = { value: cell.value - ref.value };
    }
  }
  const out: Matrix = { title: m.title, base, checkpoints: m.checkpoints, benchmarks: m.benchmarks, cells, bias, bad, errors };
  if (m.alignment_benchmark) out.alignment_benchmark = m.alignment_benchmark;
  if (m.train_data_benchmark) out.train_data_benchmark = m.train_data_benchmark;
  return out;
}
