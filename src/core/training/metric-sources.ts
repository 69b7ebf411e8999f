/**
 * Where a run's metrics are, and reading them all at once: the same sources and parsers the Run
 * Metrics panel follows live (RunWatch), for `grpo-studio metrics` and tests. A path may be one of
 * our run folders (.grpo-studio/runs/<id>/: stdout.log + stderr.log and the files its profile
 * names), a trainer_state.json or a folder holding one (output_dir, checkpoint-N), an EasyR1
 * experiment_log.jsonl or its folder, or a captured stdout log. See docs/cli.md ("metrics").
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { newestCheckpoint } from './checkpoints';
import { easyR1Points, parsePythonJson, parseTrainerState, SegmentSplitter, StdoutMetrics, type MetricPoint } from './metrics';
import { readRun } from './run-folder';

export type MetricSourceKind = 'stdout' | 'trainer_state' | 'easyr1';

/** `files`: for stdout, the streams of one process, bars' stream (stderr) first. */
export interface MetricSource {
  kind: MetricSourceKind;
  files: string[];
}

export interface MetricsBadLine {
  file: string;
  line?: number;
  error: string;
}

export interface MetricsRead {
  sources: MetricSource[];
  /** Every point in reading order (sources in order; a later one may log a step again). */
  points: MetricPoint[];
  bad: MetricsBadLine[];
  /** Facts the reader should know: a named file that is missing, steps that were counted. */
  notes: string[];
}

/** The path cannot be read at all (missing, no permission). */
export class MetricsPathError extends Error {}

/** trainer_state.json for a path: the file, else `<dir>/trainer_state.json`, else the newest checkpoint's. */
export function trainerStateFile(path: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) return path;
  const direct = join(path, 'trainer_state.json');
  if (existsSync(direct)) return direct;
  const ckpt = newestCheckpoint(path);
  return ckpt ? join(ckpt.path, 'trainer_state.json') : direct;
}

function statOf(path: string) {
  try {
    return statSync(path);
  } catch (e) {
    throw new MetricsPathError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The first `n` bytes as text (enough to tell a trainer_state.json or a JSONL from a log). */
function headOf(file: string, n = 65536): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function fileKind(file: string): MetricSourceKind {
  const name = basename(file);
  if (name === 'trainer_state.json') return 'trainer_state';
  if (name === 'experiment_log.jsonl') return 'easyr1';
  const head = headOf(file);
  const t = head.trimStart();
  if (t.startsWith('{') && /"log_history"\s*:/.test(head)) return 'trainer_state';
  const first = t.split('\n', 1)[0]!;
  if (first.startsWith('{"')) {
    try {
      const o = parsePythonJson(first) as { step?: unknown };
      if (typeof o === 'object' && o !== null && typeof o.step === 'number') return 'easyr1';
    } catch {
      // not JSON: a log line that starts with a brace
    }
  }
  return 'stdout';
}

/** What to read for `path`, and notes on what a run's profile names but is not there. */
export function findMetricSources(path: string): { sources: MetricSource[]; notes: string[] } {
  const st = statOf(path);
  const notes: string[] = [];
  if (!st.isDirectory()) return { sources: [{ kind: fileKind(path), files: [path] }], notes };
  const sources: MetricSource[] = [];
  const run = readRun(path);
  if (run) {
    // As RunWatch follows them: both streams when metrics.stdout, then the named files.
    if (run.metrics?.stdout !== false) {
      const files = ['stderr.log', 'stdout.log'].map((f) => join(path, f)).filter((f) => existsSync(f));
      if (files.length) sources.push({ kind: 'stdout', files });
    }
    for (const [kind, named] of [['easyr1', run.metrics?.easyr1Log], ['trainer_state', run.metrics?.trainerState]] as const) {
      if (!named) continue;
      const file = kind === 'trainer_state' ? trainerStateFile(named) : named;
      if (existsSync(file)) sources.push({ kind, files: [file] });
      else notes.push(`the run's profile names ${named}, which is not there (yet)`);
    }
    return { sources, notes };
  }
  const state = trainerStateFile(path);
  if (existsSync(state)) sources.push({ kind: 'trainer_state', files: [state] });
  const easy = join(path, 'experiment_log.jsonl');
  if (existsSync(easy)) sources.push({ kind: 'easyr1', files: [easy] });
  return { sources, notes };
}

/** Stream a file's text in pieces, so a multi-GB log is never held whole. */
function eachChunk(file: string, onText: (text: string) => void): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new MetricsPathError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.alloc(4 << 20);
  try {
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) onText(decoder.write(buf.subarray(0, n)));
    onText(decoder.end());
  } finally {
    closeSync(fd);
  }
}

/** Read one source to its end. */
export function readMetricSource(src: MetricSource): Omit<MetricsRead, 'sources'> {
  const points: MetricPoint[] = [];
  const bad: MetricsBadLine[] = [];
  const notes: string[] = [];
  if (src.kind === 'trainer_state') {
    const file = src.files[0]!;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new MetricsPathError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      points.push(...parseTrainerState(text));
    } catch (e) {
      bad.push({ file, error: e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message });
    }
    return { points, bad, notes };
  }
  if (src.kind === 'easyr1') {
    const file = src.files[0]!;
    let rest = '';
    let lineNo = 0;
    const line = (l: string) => {
      lineNo++;
      const r = easyR1Points(l);
      if (typeof r === 'string') bad.push({ file, line: lineNo, error: r });
      else points.push(...r);
    };
    eachChunk(file, (text) => {
      const parts = (rest + text).split('\n');
      rest = parts.pop()!;
      parts.forEach(line);
    });
    if (rest) line(rest);
    return { points, bad, notes };
  }
  let current = src.files[0]!;
  const metrics = new StdoutMetrics((error, line) => bad.push({ file: current, ...(line !== undefined ? { line } : {}), error }));
  for (const file of src.files) {
    current = file;
    const split = new SegmentSplitter(metrics);
    eachChunk(file, (text) => points.push(...split.write(text)));
    points.push(...split.end());
  }
  points.push(...metrics.flush());
  if (metrics.countedSteps) notes.push(`${src.files.join(' + ')}: ${metrics.countedSteps} dict lines had no step and no tqdm bar to take one from; their steps are counts (trainer_state.json has the real ones)`);
  return { points, bad, notes };
}

/** Everything at `path`, in the order the Run Metrics panel receives it. */
export function readMetrics(path: string): MetricsRead {
  const found = findMetricSources(path);
  const out: MetricsRead = { sources: found.sources, points: [], bad: [], notes: [...found.notes] };
  for (const src of found.sources) {
    const r = readMetricSource(src);
    out.points.push(...r.points);
    out.bad.push(...r.bad);
    out.notes.push(...r.notes);
  }
  return out;
}

/**
 * One value per (step, name), the last one read winning, as the charts keep them (trainer_state.json,
 * read last, has full precision where stdout had 4 digits). Sorted by step, then first appearance.
 */
export function latestPerStep(points: MetricPoint[]): MetricPoint[] {
  const at = new Map<string, number>();
  const out: MetricPoint[] = [];
  for (const p of points) {
    const key = `${p.step}\u0000${p.name}`;
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.length);
      out.push({ ...p });
    } else out[i]!.value = p.value;
  }
  return out.map((p, i) => ({ p, i })).sort((a, b) => a.p.step - b.p.step || a.i - b.i).map(({ p }) => p);
}
