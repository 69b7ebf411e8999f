/**
 * Replay of a recorded run: appends its rollouts to a file at the original pace (from `meta.time`
 * when every record has one, else one step every `stepSeconds`) and prints its metrics as a
 * trainer would (tqdm progress + HF-style dict lines), so the whole live path — tailing, charts,
 * progress — runs on a machine without a GPU. Powers the demo.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseRecordLine, recordToJSON, type RolloutRecord } from '../schema/record';
import type { MetricPoint } from './metrics';

export interface Recording {
  rolloutsFile: string;
  records: RolloutRecord[];
  /** From `metrics.jsonl` next to the rollouts ({step, name, value} per line), if any. */
  metrics?: MetricPoint[];
  badLines: number;
}

/** A recorded run: a folder (rollouts.jsonl or *.rollouts.jsonl, optional metrics.jsonl) or a v1 file. */
export function loadRecording(source: string): Recording {
  let file = source;
  if (statSync(source).isDirectory()) {
    const names = readdirSync(source).sort();
    const pick = names.find((n) => n === 'rollouts.jsonl') ?? names.find((n) => n.endsWith('.rollouts.jsonl')) ?? names.find((n) => n.endsWith('.jsonl') && n !== 'metrics.jsonl');
    if (!pick) throw new Error(`${source}: no rollouts.jsonl (or *.rollouts.jsonl) to replay`);
    file = join(source, pick);
  }
  const base = dirname(resolve(file));
  const records: RolloutRecord[] = [];
  let badLines = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = parseRecordLine(line);
    if (!r.ok) {
      badLines++;
      continue;
    }
    records.push(absoluteImages(r.record, base));
  }
  const rec: Recording = { rolloutsFile: file, records, badLines };
  const metricsFile = join(base, 'metrics.jsonl');
  if (existsSync(metricsFile)) {
    rec.metrics = readFileSync(metricsFile, 'utf8')
      .split('\n')
      .flatMap((l): MetricPoint[] => {
        try {
          const o = JSON.parse(l) as Partial<MetricPoint>;
          return typeof o.step === 'number' && typeof o.name === 'string' && typeof o.value === 'number' ? [{ step: o.step, name: o.name, value: o.value }] : [];
        } catch {
          return [];
        }
      });
  }
  return rec;
}

/** Image paths are relative to the recorded file; the replayed file lives elsewhere. */
function absoluteImages(r: RolloutRecord, base: string): RolloutRecord {
  const abs = (p: string) => (isAbsolute(p) || /^[a-z][\w+.-]*:/i.test(p) ? p : join(base, p));
  const out: RolloutRecord = { ...r };
  if (r.prompt?.images) out.prompt = { ...r.prompt, images: r.prompt.images.map(abs) };
  if (Array.isArray(r.completion)) out.completion = r.completion.map((s) => (s.type === 'image' ? { ...s, path: abs(s.path) } : s));
  return out;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
/** Sample standard deviation (N − 1), as torch.std. */
function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Per-step metrics as TRL names them, computed from the step's records. */
export function stepMetrics(records: readonly RolloutRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  const names = new Set(records.flatMap((r) => Object.keys(r.rewards ?? {})));
  for (const n of names) out[`rewards/${n}`] = mean(records.flatMap((r) => (r.rewards?.[n] !== undefined ? [r.rewards[n]!] : [])));
  const total = (r: RolloutRecord) => r.reward ?? Object.values(r.rewards ?? {}).reduce((a, b) => a + b, 0);
  out.reward = mean(records.map(total));
  const groups = new Map<string, number[]>();
  for (const r of records) {
    const key = r.group ?? `${r.step}/${r.prompt?.text ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), total(r)]);
  }
  const stds = [...groups.values()].map(std);
  out.reward_std = mean(stds);
  out.frac_reward_zero_std = stds.filter((s) => s === 0).length / Math.max(stds.length, 1);
  // Tokens when the recorder logged them, else whitespace-separated words.
  out.completion_length = mean(
    records.map((r) => {
      const t = r.meta?.completion_tokens;
      if (typeof t === 'number') return t;
      const text = typeof r.completion === 'string' ? r.completion : r.completion.map((s) => (s.type === 'text' ? s.text : ' ')).join('');
      return text.split(/\s+/).filter(Boolean).length;
    }),
  );
  return out;
}

/** Python's float repr for the few cases that differ from JS. */
function pyNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

export function pythonDictLine(step: number, metrics: Record<string, number>): string {
  return `{${[`'step': ${step}`, ...Object.entries(metrics).map(([k, v]) => `'${k.replace(/'/g, "\\'")}': ${pyNumber(v)}`)].join(', ')}}`;
}

const clock = (s: number) => {
  const t = Math.max(0, Math.round(s));
  const mm = String(Math.floor(t / 60) % 60).padStart(2, '0');
  const ss = String(t % 60).padStart(2, '0');
  return t >= 3600 ? `${Math.floor(t / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
};

/** `done`: steps replayed since the first, for the rate (the first step lands at time 0). */
export function tqdmLine(step: number, total: number, elapsedS: number, done = step): string {
  const pct = total ? Math.floor((100 * step) / total) : 0;
  const filled = Math.round(pct / 10);
  const rate = elapsedS > 0 ? done / elapsedS : 0;
  const eta = rate > 0 ? (total - step) / rate : undefined;
  return `${String(pct).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(10 - filled)}| ${step}/${total} [${clock(elapsedS)}<${eta === undefined ? '?' : clock(eta)}, ${rate > 0 ? rate.toFixed(2) : '?'}it/s]`;
}

export interface ReplayOptions {
  out: string;
  /** 2 = twice as fast. */
  speed?: number;
  /** Pace when records carry no meta.time (seconds per step, before speed). */
  stepSeconds?: number;
  signal?: AbortSignal;
  /** Where metric and progress lines go (stdout in the CLI). */
  print: (line: string) => void;
}

function recordTime(r: RolloutRecord): number | undefined {
  const t = r.meta?.time;
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  if (typeof t === 'string' && !Number.isNaN(Date.parse(t))) return Date.parse(t) / 1000;
  return undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (ms <= 0 || signal?.aborted) return res();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Re-emit a recording. Resolves with the number of records written (fewer when aborted). */
export async function replay(rec: Recording, o: ReplayOptions): Promise<number> {
  const speed = o.speed && o.speed > 0 ? o.speed : 1;
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, '');
  const steps: number[] = [];
  const byStep = new Map<number, RolloutRecord[]>();
  rec.records.forEach((r, i) => {
    const s = r.step ?? i; // a record without a step stands alone
    let list = byStep.get(s);
    if (!list) {
      steps.push(s);
      byStep.set(s, (list = []));
    }
    list.push(r);
  });
  const times = rec.records.map(recordTime);
  const timed = times.length > 0 && times.every((t) => t !== undefined);
  const t0 = timed ? Math.min(...(times as number[])) : 0;
  const total = steps.length ? Math.max(...steps) : 0;
  const start = Date.now();
  let written = 0;
  for (const [i, step] of steps.entries()) {
    const recs = byStep.get(step)!;
    // Timed: each record at its own moment; untimed: the whole step at once, steps evenly spaced.
    const batches = timed ? recs.map((r) => [r]) : [recs];
    for (const batch of batches) {
      const at = timed ? (recordTime(batch[0]!)! - t0) * 1000 : i * (o.stepSeconds ?? 2) * 1000;
      await sleep(start + at / speed - Date.now(), o.signal);
      if (o.signal?.aborted) return written;
      appendFileSync(o.out, batch.map((r) => JSON.stringify(recordToJSON(r)) + '\n').join(''));
      written += batch.length;
    }
    const metrics = rec.metrics ? Object.fromEntries(rec.metrics.filter((m) => m.step === step).map((m) => [m.name, m.value])) : stepMetrics(recs);
    o.print(tqdmLine(step, total, (Date.now() - start) / 1000, step - (steps[0] ?? 0)));
    o.print(pythonDictLine(step, metrics));
  }
  return written;
}
