/**
 * An eval profile's results folder (docs/eval-profiles.md):
 * `<results>/<checkpoint>/checkpoint.json` says which folder was evaluated (and its step), and the
 * benchmarks' predictions files sit beside it. `evalManifest` turns the folder into the manifest
 * the matrix and the reports are computed from, with each benchmark's metric from the profile.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../training/checkpoints';
import { ManifestError, type Manifest } from './manifest';
import { evaluate } from './metrics';
import { PredictionsError, readPredictions } from './readers';
import type { Interval } from './stats';
import { checkpointRef, predictionsFile, resultsDir, type CheckpointRef, type EvalBenchmark, type EvalProfile } from './profiles';

export const CHECKPOINT_RECORD = 'checkpoint.json';

interface Recorded {
  path: string;
  step?: number;
}

function readRecord(dir: string): Recorded | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dir, CHECKPOINT_RECORD), 'utf8')) as unknown;
    if (typeof v === 'object' && v !== null && typeof (v as Recorded).path === 'string') {
      const step = (v as Recorded).step;
      return { path: (v as Recorded).path, ...(typeof step === 'number' && Number.isFinite(step) ? { step } : {}) };
    }
  } catch {
    // no record: a folder someone made by hand
  }
  return undefined;
}

/**
 * Claim `<results>/<id>/` for this checkpoint. Two folders with one name (checkpoint-500 of two
 * runs) would mix their predictions: the second is refused, naming both.
 */
export function recordCheckpoint(profile: EvalProfile, c: CheckpointRef): string {
  const dir = resultsDir(profile, c);
  const prev = readRecord(dir);
  if (prev && prev.path !== c.path) {
    throw new Error(`results for "${c.id}" in ${dir} are of ${prev.path}, not ${c.path}: give the other run its own eval profile (or "results" folder)`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, CHECKPOINT_RECORD), JSON.stringify({ path: c.path, ...(c.step !== undefined ? { step: c.step } : {}), evaluatedAt: new Date().toISOString() }, null, 2) + '\n');
  return dir;
}

/** The checkpoints a profile can evaluate: its base, then every checkpoint-N of its run folders by step. */
export function candidateCheckpoints(profile: EvalProfile): CheckpointRef[] {
  const out: CheckpointRef[] = [];
  if (profile.base && existsSync(profile.base)) out.push(checkpointRef(profile, profile.base));
  for (const folder of profile.checkpoints) for (const c of listCheckpoints(folder)) out.push(checkpointRef(profile, c.path));
  return out;
}

/** The results evaluated so far as a manifest: one checkpoint per results subfolder, one file per benchmark. */
export function evalManifest(profile: EvalProfile): Manifest {
  const checkpoints: Manifest['checkpoints'] = [];
  const predictions: Manifest['predictions'] = [];
  const dirs = existsSync(profile.results) ? readdirSync(profile.results, { withFileTypes: true }).filter((d) => d.isDirectory()) : [];
  for (const d of dirs) {
    const rec = readRecord(join(profile.results, d.name));
    const ref: CheckpointRef = rec ? { ...checkpointRef(profile, rec.path), id: d.name, ...(rec.step !== undefined ? { step: rec.step } : {}) } : checkpointRef(profile, join(profile.results, d.name));
    if (!rec && d.name === 'base') ref.step = 0;
    const files = profile.benchmarks.map((b) => ({ b, file: predictionsFile(profile, b, ref) })).filter((x) => existsSync(x.file));
    if (!files.length) continue;
    const folder = rec?.path.split(/[\\/]/).pop();
    const label = d.name === 'base' && folder && folder !== 'base' ? `base (${folder})` : d.name;
    checkpoints.push({ id: d.name, label, ...(ref.step !== undefined ? { step: ref.step } : {}) });
    for (const { b, file } of files) predictions.push({ checkpoint: d.name, benchmark: b.id, file, ...(b.format ? { format: b.format } : {}) });
  }
  if (!checkpoints.length) throw new ManifestError(`${profile.results}: no predictions yet for eval profile "${profile.name}": run "Evaluate Checkpoint…" first`);
  checkpoints.sort((a, b) => (a.step ?? Infinity) - (b.step ?? Infinity) || (a.id < b.id ? -1 : 1));
  const benchmarks = profile.benchmarks.map((b) => ({ id: b.id, label: b.label, metric: b.metric, ...(b.domain ? { domain: b.domain } : {}), ...(b.headline ? { headline: b.headline } : {}) }));
  const m: Manifest = { title: `Evaluation: ${profile.name}`, checkpoints, benchmarks, predictions };
  if (checkpoints.some((c) => c.id === 'base')) m.base = 'base';
  return m;
}

/** One benchmark's headline number in one predictions file (as the matrix shows it), or why there is none. */
export function benchmarkValue(b: EvalBenchmark, file: string): { value: number; ci95: Interval; n: number } | { error: string } {
  try {
    const r = evaluate(readPredictions(file, b.format ?? 'auto').items, b.metric);
    if (r.n === 0) return { error: `no question of ${file} could be scored with ${b.metric}` };
    const part = b.headline ?? (b.metric === 'letter-f1' ? 'f1' : b.metric === 'pope' ? 'accuracy' : undefined);
    const p = part ? r.parts?.[part] : undefined;
    return { ...(p ?? { value: r.value, ci95: r.ci95 }), n: r.n };
  } catch (e) {
    if (e instanceof PredictionsError) return { error: e.message };
    throw e;
  }
}
