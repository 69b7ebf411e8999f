/**
 * One followed file: reads only the bytes appended since the last look, holds a partial last
 * line (the splitter) or an open block (the parser) until it is complete, starts over when the
 * file was truncated or rewritten, and on rotation by rename finishes the old file through the
 * descriptor it still holds before the follower moves on to the new one.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { LineSplitter } from './lines';
import { lineFeeder } from './text';
import { readTrlFile, type TrlRun } from './trl';
import type { AdapterOptions, RecordSink, SourceNote, TextParser } from './types';

/** Bytes before the read position kept to notice a file rewritten in place past its old size. */
const TAIL_BYTES = 64;

export type CursorEvent = 'opened' | 'truncated' | 'rotated';

export interface CursorTiming {
  chunkBytes: number;
  /** Flush a held block after the file was quiet this long (0: only at the next block or the end). */
  blockIdleMs: number;
  /** After a rotation, how long to wait for the old file's unfinished last line. */
  rotateGraceMs: number;
  /** Most bytes read from one file in one pass, so one huge file does not starve the rest. */
  passBytes: number;
  /**
   * The read buffer (`chunkBytes` long), shared by every cursor of one follower: they pump one
   * after another and the line splitter copies what it keeps, so a folder of a thousand per-step
   * files holds one buffer, not a thousand.
   */
  buffer?: Buffer;
}

export interface FileCursor {
  readonly path: string;
  /** Reads what is new; true when it stopped early and more is waiting. */
  pump(now: number): Promise<boolean>;
  close(): Promise<void>;
}

const gone = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'ENOENT';

export class TextCursor implements FileCursor {
  private fh: FileHandle | null = null;
  private ino = -1;
  private position = 0;
  private tail: Buffer = Buffer.alloc(0);
  private lines!: LineSplitter;
  private parser!: TextParser;
  private lastGrowth = 0;
  private rotatedAt: number | null = null;
  private readonly buf: Buffer;
  /** Passes that stopped at their byte limit: each limit doubles from one chunk up to `passBytes`. */
  private longPasses = 0;

  constructor(
    readonly path: string,
    private readonly makeParser: () => TextParser,
    private readonly sink: RecordSink,
    private readonly timing: CursorTiming,
    private readonly onEvent: (e: CursorEvent, path: string) => void,
    /** Where the first open starts (what was read elsewhere); later restarts start at 0. */
    private startAt?: { offset: number; lines: number },
  ) {
    this.buf = timing.buffer ?? Buffer.allocUnsafe(timing.chunkBytes);
    this.restart();
  }

  private restart(): void {
    const from = this.startAt ?? { offset: 0, lines: 0 };
    this.position = from.offset;
    this.tail = Buffer.alloc(0);
    this.parser = this.makeParser();
    this.lines = new LineSplitter(lineFeeder(this.path, this.parser, this.sink), from.offset, from.lines);
  }

  async pump(now: number): Promise<boolean> {
    if (!this.fh) {
      try {
        this.fh = await open(this.path, 'r');
      } catch (e) {
        if (gone(e)) return false;
        throw e;
      }
      this.ino = (await this.fh.stat()).ino;
      this.restart();
      this.startAt = undefined; // used once: a rotation or truncation reads the new file from its start
      this.lastGrowth = now;
      this.onEvent('opened', this.path);
    }
    let current: number | null;
    try {
      current = (await stat(this.path)).ino;
    } catch (e) {
      if (!gone(e)) throw e;
      current = null;
    }
    if (current !== this.ino) return this.finishRotated(now, current !== null);

    const size = (await this.fh.stat()).size;
    if (size < this.position || !(await this.tailStillThere())) {
      // Truncated (or rewritten from the start): what was complete stays emitted, the rest starts over.
      this.parser.end();
      this.restart();
      this.onEvent('truncated', this.path);
    }
    const { bytes, more } = await this.drain();
    if (bytes > 0) this.lastGrowth = now;
    else if (this.parser.holding && this.timing.blockIdleMs > 0 && now - this.lastGrowth >= this.timing.blockIdleMs && this.lines.pending === 0) {
      this.parser.flush();
    }
    return more;
  }

  /** The path now names another file, or nothing: finish the old one, then follow the new one. */
  private async finishRotated(now: number, replaced: boolean): Promise<boolean> {
    const { bytes, more } = await this.drain();
    if (more) return true;
    this.rotatedAt ??= now;
    // A writer may rename first and finish its last line through the old descriptor afterwards:
    // wait for a clean end that stayed quiet for one pass, or give up after the grace period.
    const clean = this.lines.pending === 0 && bytes === 0;
    if (!clean && now - this.rotatedAt < this.timing.rotateGraceMs) return false;
    this.lines.finish();
    this.parser.end();
    await this.fh?.close();
    this.fh = null;
    this.rotatedAt = null;
    this.onEvent('rotated', this.path);
    return replaced; // read the new file in the next pass
  }

  private async tailStillThere(): Promise<boolean> {
    if (!this.tail.length || !this.fh) return true;
    const probe = Buffer.alloc(this.tail.length);
    const { bytesRead } = await this.fh.read(probe, 0, probe.length, this.position - this.tail.length);
    return bytesRead === probe.length && probe.equals(this.tail);
  }

  private async drain(): Promise<{ bytes: number; more: boolean }> {
    let total = 0;
    while (this.fh) {
      const { bytesRead } = await this.fh.read(this.buf, 0, this.buf.length, this.position);
      if (bytesRead === 0) return { bytes: total, more: false };
      const chunk = this.buf.subarray(0, bytesRead);
      this.lines.push(chunk);
      this.position += bytesRead;
      total += bytesRead;
      const keep = Math.min(TAIL_BYTES, this.position);
      this.tail = bytesRead >= keep ? Buffer.from(chunk.subarray(bytesRead - keep)) : Buffer.concat([this.tail, chunk]).subarray(-keep);
      // The first pass of a big file is one chunk, so its first records are handed over (and
      // shown) within milliseconds; later passes double up to passBytes, keeping batches few.
      const limit = Math.min(this.timing.passBytes, this.timing.chunkBytes * 2 ** Math.min(this.longPasses, 20));
      if (total >= limit) {
        this.longPasses++;
        return { bytes: total, more: true };
      }
    }
    return { bytes: total, more: false };
  }

  async close(): Promise<void> {
    this.parser.end(); // a held block is made of complete lines: hand it over
    await this.fh?.close();
    this.fh = null;
  }
}

/**
 * A TRL completions parquet: written whole at its logging step. It is read when it parses; a file
 * that keeps failing at the same size for `settleMs` is reported once. TRL writes a step's file
 * again when an eval pass logs at that step (and at the end of train()), so a file that changes
 * after it was read is read again; the run tells a rewrite with the same rows from new rows.
 */
export class ParquetCursor implements FileCursor {
  /** Size and mtime of the version read. */
  private readAt: { size: number; mtime: number } | null = null;
  private failure: { size: number; mtime: number; since: number; reported: boolean } | null = null;

  constructor(
    readonly path: string,
    private readonly sink: RecordSink,
    private readonly opts: AdapterOptions,
    /** The file's run (shared by the run's cursors, refreshed): what earlier files settled. */
    private readonly run: () => Promise<TrlRun>,
    private readonly onEvent: (e: CursorEvent, path: string) => void,
    private readonly settleMs = 2000,
  ) {}

  async pump(now: number): Promise<boolean> {
    let st;
    try {
      st = await stat(this.path);
    } catch (e) {
      if (gone(e)) return false;
      throw e;
    }
    if (st.size === 0) return false;
    if (this.readAt && this.readAt.size === st.size && this.readAt.mtime === st.mtimeMs) return false;
    const f = this.failure;
    if (f && f.size === st.size && f.mtime === st.mtimeMs) {
      if (!f.reported && now - f.since >= this.settleMs) {
        f.reported = true;
        this.sink.bad({ file: this.path, line: 0, error: 'not a readable parquet file (it stopped growing while incomplete or damaged)' });
      }
      return false;
    }
    // Rows go to a holding sink first: a file that fails half-way must not emit a partial row set.
    const held: Parameters<RecordSink['record']>[] = [];
    const bad: Parameters<RecordSink['bad']>[0][] = [];
    const notes: SourceNote[] = [];
    try {
      const run = await this.run();
      await readTrlFile(this.path, { record: (r, l) => held.push([r, l]), bad: (b) => bad.push(b), note: (n) => notes.push(n) }, { ...this.opts, run });
    } catch {
      this.failure = { size: st.size, mtime: st.mtimeMs, since: now, reported: false };
      return false;
    }
    this.onEvent(this.readAt ? 'truncated' : 'opened', this.path);
    this.readAt = { size: st.size, mtime: st.mtimeMs };
    this.failure = null;
    for (const [r, l] of held) this.sink.record(r, l);
    for (const b of bad) this.sink.bad(b);
    for (const n of notes) this.sink.note?.(n);
    return false;
  }

  async close(): Promise<void> {}
}
