/**
 * The verdict cache: an append-only JSONL file beside the run (`<run>.verdicts.jsonl`), one
 * verdict per line, keyed by its content hash. Append-only so a killed judge loses at most the
 * line it was writing; reading skips such a torn line and keeps every complete one.
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { toVerdict, type JudgeVerdict } from './verdict';

export function cachePathFor(runFile: string): string {
  return `${runFile}.verdicts.jsonl`;
}

/** A step set's member for verdict lines that name no step (older caches): they count at every step. */
const ANY_STEP = 'any';

export class VerdictCache {
  /** The first verdict of each key: what a lookup by content returns. */
  private readonly byKey = new Map<string, JudgeVerdict>();
  /** Every line, in file order: one per (key, step) asked (the dashboard's per-step counts). */
  private readonly lines: JudgeVerdict[] = [];
  private readonly stepsOf = new Map<string, Set<number | null | typeof ANY_STEP>>();
  /** Lines that were not a complete verdict (a torn last line, or foreign text). */
  readonly skippedLines: number[] = [];
  private fd: number | null = null;
  /** The file ends mid-line: the next append must start a fresh line. */
  private needsNewline = false;

  private constructor(readonly path: string) {}

  /** Read the cache if it exists; nothing is created until the first verdict is stored. */
  static open(path: string): VerdictCache {
    const cache = new VerdictCache(path);
    if (!existsSync(path)) return cache;
    const text = readFileSync(path, 'utf8');
    cache.needsNewline = text.length > 0 && !text.endsWith('\n');
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        cache.skippedLines.push(i + 1);
        return;
      }
      const v = toVerdict(raw);
      if (v) cache.remember(v);
      else cache.skippedLines.push(i + 1);
    });
    return cache;
  }

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): JudgeVerdict | undefined {
    return this.byKey.get(key);
  }

  /** All verdict lines, for the dashboard (tier agreement, per-step tables). */
  verdicts(): IterableIterator<JudgeVerdict> {
    return this.lines.values();
  }

  /** True when the cache holds `v`'s key at `v`'s step (or at every step). */
  private has(v: JudgeVerdict): boolean {
    const steps = this.stepsOf.get(v.key);
    return steps !== undefined && (v.step === undefined || steps.has(ANY_STEP) || steps.has(v.step));
  }

  private remember(v: JudgeVerdict): void {
    if (!this.byKey.has(v.key)) this.byKey.set(v.key, v);
    let steps = this.stepsOf.get(v.key);
    if (!steps) this.stepsOf.set(v.key, (steps = new Set()));
    steps.add(v.step === undefined ? ANY_STEP : v.step);
    this.lines.push(v);
  }

  /**
   * Append one verdict as one line, written with a single write call; nothing when the cache
   * holds its key at its step already (a verdict found again at a new step adds one line).
   */
  put(v: JudgeVerdict): void {
    if (this.has(v)) return;
    this.remember(v);
    this.fd ??= openSync(this.path, 'a');
    const line = `${this.needsNewline ? '\n' : ''}${JSON.stringify(v)}\n`;
    this.needsNewline = false;
    writeSync(this.fd, line);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
