/**
 * VLM-R1's format reward log: `Format reward` blocks of `Content:` / `Has format:` pairs
 * (GLM's: `Content:` / `match:` / `Reward:`), one block per reward call, written to
 * `<log>_format.txt` (grpo_jsonl.py since 2025-03-06, qwen/internvl format_reward_rec) or to the
 * log itself (grpo_jsonl.py before that, glm_module.py). Verdicts are joined to the accuracy
 * blocks by exact completion text (docs/formats.md, "VLM-R1 debug log").
 *
 * A call's block over 8 KiB reaches the file in several raw writes, and another rank's block can
 * land between them: a `Content:` then has no verdict after it, and its verdict shows up later
 * with no `Content:` before it. Such a stray verdict is joined only when exactly one content is
 * waiting for one; a verdict right after a content that may itself end a raw write
 * (src/core/ingest/pywrite.ts) while another content waits is not trusted either. What cannot be
 * joined is left out (the record then has no format verdict) and counted in a note.
 */
import type { Block } from './blocks';
import { possibleStarts } from './pywrite';
import type { RecordSink } from './types';
import { fieldStart, type VlmHeader } from './vlmr1Fields';

/** Completion text → has format. Bounded: oldest dropped first. */
export class FormatVerdicts {
  private readonly map = new Map<string, boolean>();
  constructor(private readonly cap = 100_000) {}
  set(content: string, ok: boolean): void {
    this.map.delete(content);
    this.map.set(content, ok);
    if (this.map.size > this.cap) this.map.delete(this.map.keys().next().value as string);
  }
  get(content: string): boolean | undefined {
    return this.map.get(content);
  }
  get size(): number {
    return this.map.size;
  }
}

/** Field text exactly as written: the first line's rest and the lines after it. */
export function exactValue(lines: readonly string[]): string {
  const rest = fieldStart(lines[0]!)?.rest ?? lines[0]!;
  return [rest, ...lines.slice(1)].join('\n');
}

const bytesOf = (lines: readonly string[]): number => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
const KEEP_ORPHANS = 4;

/** Pairs contents with verdicts across the blocks of one file. */
export class VerdictPairs {
  private orphans: { content: string; age: number }[] = [];
  private dropped = 0;
  private noted = false;

  constructor(
    private readonly verdicts: FormatVerdicts,
    private readonly sink: RecordSink,
  ) {}

  block(b: Block<VlmHeader>): void {
    for (const o of this.orphans) o.age++;
    this.expire();
    // Where raw writes could start if each field line began a write: only there can a new
    // `Content:` follow a content (another rank's write may come between); elsewhere a
    // field-like line is part of the completion, as is anything before its verdict.
    const sizes = [b.header.bytes, ...b.fields.map((f) => bytesOf(f.lines))];
    const starts = possibleStarts(sizes);
    let waiting: { lines: string[]; endsWrite: boolean } | null = null;
    const orphan = (w: { lines: string[] }): void => void this.orphans.push({ content: exactValue(w.lines), age: 0 });
    b.fields.forEach((f, i) => {
      const verdict = f.key === 'has_format' || f.key === 'match';
      if (f.key === 'content' && (!waiting || starts[i + 1])) {
        if (waiting) orphan(waiting);
        waiting = { lines: [...f.lines], endsWrite: starts[i + 2] ?? true };
      } else if (verdict) {
        const ok = f.value.trim().toLowerCase() === 'true';
        if (waiting && !(waiting.endsWrite && this.orphans.length > 0)) this.verdicts.set(exactValue(waiting.lines), ok);
        else {
          if (waiting) orphan(waiting);
          this.stray(ok, b.start.file);
        }
        waiting = null;
      } else if (waiting) {
        waiting.lines.push(...f.lines);
        waiting.endsWrite = starts[i + 2] ?? true;
      }
    });
    if (waiting) orphan(waiting);
  }

  private stray(ok: boolean, file: string): void {
    if (this.orphans.length === 1) {
      this.verdicts.set(this.orphans.pop()!.content, ok);
      return;
    }
    this.dropped++;
    this.note(file);
  }

  private expire(): void {
    const old = this.orphans.filter((o) => o.age > KEEP_ORPHANS).length;
    if (old) {
      this.orphans = this.orphans.filter((o) => o.age <= KEEP_ORPHANS);
      this.dropped += old;
    }
  }

  private note(file: string): void {
    if (this.noted) return;
    this.noted = true;
    this.sink.note?.({
      file,
      message: "format reward blocks of several ranks were interleaved (a block over 8 KiB is written in parts): verdicts that cannot be matched to their Content: are left out",
    });
  }

  end(file: string): void {
    this.dropped += this.orphans.length;
    this.orphans = [];
    if (this.dropped) this.note(file);
  }
}
