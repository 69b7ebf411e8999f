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

export class VerdictCache {
  private readonly byKey = new Map<string, JudgeVerdict>();
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
      if (v) cache.byKey.set(v.key, v);
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

  /** All verdicts, for the dashboard (tier agreement, per-step tables). */
  verdicts(): IterableIterator<JudgeVerdict> {
    return this.byKey.values();
  }

  /** Append one verdict as one line, written with a single write call. */
  put(v: JudgeVerdict): void {
    if (this.byKey.get(v.key)) return;
    this.byKey.set(v.key, v);
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
