/**
 * Where a report's manifest comes from (docs/eval.md "A folder instead of a manifest"): a manifest
 * file, a folder holding `eval.json`, or a folder laid out as <checkpoint>/<benchmark>.<ext>,
 * whose metric per benchmark is inferred from the gold answers.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ManifestError, parseManifest, type Manifest } from './manifest';
import type { MetricName } from './metrics';
import { PredictionsError, readPredictions } from './readers';
import type { PredictionItem } from './types';

const PREDICTION_EXT = new Set(['.jsonl', '.json', '.tsv', '.csv']);
export const MANIFEST_NAME = 'eval.json';

/** The metric a benchmark's gold answers call for: pass@1, VQA, POPE, exam score, else exact match. */
export function inferMetric(items: readonly PredictionItem[]): MetricName {
  const golds = items.map((i) => i.answer).filter((a) => a !== undefined);
  if (items.some((i) => i.correct !== undefined || (i.predictions?.length ?? 0) > 1)) return 'pass@1';
  if (!golds.length) return 'exact-match';
  if (golds.every((a) => Array.isArray(a) && a.length >= 2)) return 'vqa';
  const one = (a: string | string[]): string => (typeof a === 'string' ? a : a.join(',')).trim();
  if (golds.every((a) => /^(yes|no)$/i.test(one(a!)))) return 'pope';
  if (golds.every((a) => /^[A-Z](\s*[,;/ ]\s*[A-Z])*$/.test(one(a!)))) return 'exam-score';
  return 'exact-match';
}

/** lmms-eval names samples "<date>_samples_<task>.jsonl": the task is the benchmark. */
function benchmarkName(file: string): string {
  const stem = basename(file, extname(file));
  const m = /_samples_(.+)$/.exec(stem);
  return m ? m[1]! : stem;
}

function stepOf(name: string): number | undefined {
  if (/^base$/i.test(name)) return 0;
  const m = /(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function fromLayout(dir: string): Manifest {
  const checkpoints: Manifest['checkpoints'] = [];
  const predictions: Manifest['predictions'] = [];
  const metrics = new Map<string, MetricName>();
  const subdirs = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort((a, b) => (stepOf(a) ?? Infinity) - (stepOf(b) ?? Infinity) || (a < b ? -1 : 1));
  for (const d of subdirs) {
    const files = readdirSync(join(dir, d)).filter((f) => PREDICTION_EXT.has(extname(f).toLowerCase()) && !/_results\.json$/.test(f)).sort();
    if (!files.length) continue;
    const step = stepOf(d);
    checkpoints.push(step === undefined ? { id: d, label: d } : { id: d, label: d, step });
    // lmms-eval writes a new <date>_samples_<task>.jsonl per run: the newest (last by name) counts.
    const newest = new Map(files.map((f) => [benchmarkName(f), f]));
    for (const [benchmark, f] of newest) {
      const file = join(dir, d, f);
      predictions.push({ checkpoint: d, benchmark, file });
      if (!metrics.has(benchmark)) {
        try {
          metrics.set(benchmark, inferMetric(readPredictions(file).items));
        } catch (e) {
          if (!(e instanceof PredictionsError)) throw e;
          metrics.set(benchmark, 'exact-match'); // the matrix reports the file's error in its place
        }
      }
    }
  }
  if (!checkpoints.length) throw new ManifestError(`${dir}: no ${MANIFEST_NAME}, and no <checkpoint>/<benchmark>.jsonl|.json|.tsv|.csv files under it`);
  const benchmarks = [...metrics.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([id, metric]) => ({ id, label: id, metric }));
  return { title: `Evaluation of ${basename(resolve(dir))}`, checkpoints, benchmarks, predictions };
}

/** A manifest file, a folder with eval.json, or a folder laid out by checkpoint. */
export function loadManifest(path: string): Manifest {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    throw new ManifestError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (stat.isDirectory()) {
    const inside = join(path, MANIFEST_NAME);
    if (!existsSync(inside)) return fromLayout(path);
    path = inside;
  }
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ManifestError(`${path}: invalid JSON: ${(e as Error).message}`);
  }
  const dir = dirname(resolve(path));
  return parseManifest(v, path, (p) => resolve(dir, p));
}
