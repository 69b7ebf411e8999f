/**
 * Follows a training run's output as it grows: one file, a folder of per-step files (verl
 * `<step>.jsonl`, TRL `completions_<step>.parquet`), or a glob. `fs.watch` on the folders says
 * when to look; a timer looks anyway (a safety net when watching, the only signal when polling:
 * network file systems and Remote-SSH mounts often deliver no events). Each look reads only the
 * new bytes of each file and hands the records over in one batch, with their locations.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { BadLine } from '../schema/record';
import { ParquetCursor, TextCursor, type CursorEvent, type FileCursor } from './cursor';
import { detectFormat } from './detect';
import { filesMatching, globBase, isDirectory, isGlob } from './files';
import { newParserContext, sourceFiles, textParserFor, type ParserContext, type SourceFile } from './source';
import { runFolderOf, TrlRun } from './trl';
import type { AdapterOptions, FormatName, LocatedRecord, Metric, RecordSink, SourceNote } from './types';

export interface FollowOptions extends AdapterOptions {
  /** Skip detection. */
  format?: FormatName;
  /** Never use fs.watch; look every `pollMs`. */
  polling?: boolean;
  /** How often to look: default 250 ms when polling, 1000 ms as the safety net when watching. */
  pollMs?: number;
  /** Block formats: emit a held block once its file was quiet this long (default 1000 ms; 0 never). */
  blockIdleMs?: number;
  /** After a rename, how long to wait for the old file's unfinished last line (default 2000 ms). */
  rotateGraceMs?: number;
  chunkBytes?: number;
  /**
   * Files already read up to a complete line elsewhere (the viewer scans a native file first):
   * their first pass starts there, at that 1-based line count. A truncation still starts over.
   */
  startAt?: ReadonlyMap<string, { offset: number; lines: number }>;
}

export interface FollowEvent {
  file: string;
  event: CursorEvent;
}

export interface FollowBatch {
  records: LocatedRecord[];
  badLines: BadLine[];
  metrics: Metric[];
  events: FollowEvent[];
  notes: SourceNote[];
}

export type FollowTarget = { kind: 'file' | 'folder' | 'glob'; path: string };

/** Records that make a batch go out before a pass over the files ends. */
const DELIVER_RECORDS = 512;

export class RolloutFollower {
  /** 'watch' until fs.watch fails, then 'poll'. */
  mode: 'watch' | 'poll';
  /** The format in use once known (per file for a glob: the first one seen). */
  format: FormatName | undefined;
  /** Resolves after the first look (what already existed has been handed over). */
  readonly ready: Promise<void>;

  private readonly cursors = new Map<string, FileCursor>();
  private readonly order: string[] = [];
  private readonly formats = new Map<string, FormatName>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly ctx: ParserContext;
  private batch: FollowBatch = emptyBatch();
  private readonly sink: RecordSink;
  private timer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private markReady!: () => void;
  private readonly trlRuns = new Map<string, TrlRun>();

  constructor(
    private readonly target: FollowTarget,
    private readonly onBatch: (b: FollowBatch) => void,
    private readonly opts: FollowOptions = {},
    private readonly onError: (e: unknown) => void = () => {},
  ) {
    this.mode = opts.polling ? 'poll' : 'watch';
    this.format = opts.format;
    this.ctx = newParserContext(opts);
    this.sink = {
      record: (record, loc) => this.batch.records.push({ record, loc }),
      bad: (b) => this.batch.badLines.push(b),
      metric: (m) => this.batch.metrics.push(m),
      note: (n) => this.batch.notes.push(n),
    };
    this.ready = new Promise((r) => (this.markReady = r));
    this.startTimer();
    this.kick();
  }

  private startTimer(): void {
    if (this.timer) clearInterval(this.timer);
    const ms = this.opts.pollMs ?? (this.mode === 'poll' ? 250 : 1000);
    this.timer = setInterval(() => this.kick(), ms);
  }

  /** Asks for a look soon; looks never overlap, and asks during one coalesce into one more. */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.closed) return;
      this.running = this.look().finally(() => {
        this.running = null;
        this.markReady();
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
    });
  }

  private async look(): Promise<void> {
    let more = false;
    try {
      const files = await this.discover();
      this.watchFolders(files);
      for (const f of files) {
        if (this.closed) return;
        more = (await this.cursorFor(f).pump(Date.now())) || more;
        // A folder of many step files is not one batch: what a file gave goes out before the next
        // is read, so the first groups show at once and a pass never holds the whole folder.
        if (this.batch.records.length >= DELIVER_RECORDS) this.deliver();
      }
    } catch (e) {
      this.onError(e);
    }
    this.deliver();
    if (more) this.again = true;
  }

  private deliver(): void {
    const b = this.batch;
    if (b.records.length || b.badLines.length || b.metrics.length || b.events.length || b.notes.length) {
      this.batch = emptyBatch();
      this.onBatch(b);
    }
  }

  private async formatOf(path: string): Promise<FormatName | undefined> {
    if (this.opts.format) return this.opts.format;
    const known = this.formats.get(path);
    if (known) return known;
    const d = await detectFormat(path);
    if (d) {
      this.formats.set(path, d.format);
      this.format ??= d.format;
    }
    return d?.format;
  }

  private async discover(): Promise<(SourceFile & { format: FormatName })[]> {
    const { kind, path } = this.target;
    if (kind === 'glob') {
      const out: (SourceFile & { format: FormatName })[] = [];
      for (const p of await filesMatching(path)) {
        const format = await this.formatOf(p);
        if (format) out.push({ path: p, role: 'records', format });
      }
      return out;
    }
    const format = await this.formatOf(path);
    if (!format) return [];
    return (await sourceFiles(path, format)).map((f) => ({ ...f, format }));
  }

  /** One read buffer for every text cursor of this follower (they pump in turn). */
  private readBuffer: Buffer | null = null;

  private cursorFor(f: SourceFile & { format: FormatName }): FileCursor {
    let c = this.cursors.get(f.path);
    if (c) return c;
    const onEvent = (event: CursorEvent, file: string): void => void this.batch.events.push({ file, event });
    if (f.format === 'trl' && f.role === 'records') {
      c = new ParquetCursor(f.path, this.sink, this.opts, () => this.trlRun(f.path), onEvent);
    } else {
      const chunkBytes = this.opts.chunkBytes ?? 1 << 20;
      if (this.readBuffer?.length !== chunkBytes) this.readBuffer = Buffer.allocUnsafe(chunkBytes);
      const timing = {
        chunkBytes,
        buffer: this.readBuffer,
        blockIdleMs: this.opts.blockIdleMs ?? 1000,
        rotateGraceMs: this.opts.rotateGraceMs ?? 2000,
        passBytes: 16 << 20,
      };
      c = new TextCursor(f.path, () => textParserFor(f.format, f, this.sink, this.ctx)!, this.sink, timing, onEvent, this.opts.startAt?.get(f.path));
    }
    this.cursors.set(f.path, c);
    this.order.push(f.path);
    return c;
  }

  /** A parquet file's run, shared by its files; refreshed each time (the config and trainer_state.json may come later). */
  private async trlRun(parquet: string): Promise<TrlRun> {
    const folder = runFolderOf(parquet);
    let run = this.trlRuns.get(folder);
    if (!run) this.trlRuns.set(folder, (run = new TrlRun(folder)));
    await run.refresh();
    return run;
  }

  private watchFolders(files: SourceFile[]): void {
    if (this.mode !== 'watch') return;
    const { kind, path } = this.target;
    const folders = new Set<string>(files.map((f) => dirname(f.path)));
    folders.add(kind === 'glob' ? globBase(path) : kind === 'folder' ? path : dirname(path));
    if (kind === 'folder') folders.add(join(path, 'completions'));
    for (const dir of folders) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.kick());
        w.on('error', () => this.fallBackToPolling());
        this.watchers.set(dir, w);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // A folder that does not exist yet is watched once it does; anything else means no events here.
        if (code !== 'ENOENT' && code !== 'ENOTDIR') this.fallBackToPolling();
      }
    }
  }

  private fallBackToPolling(): void {
    if (this.mode === 'poll' || this.closed) return;
    this.mode = 'poll';
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.startTimer();
  }

  /** Stops watching. Held blocks (complete lines) are handed over in a last batch; partial lines are not. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.running;
    for (const p of this.order) await this.cursors.get(p)!.close();
    this.deliver();
  }
}

function emptyBatch(): FollowBatch {
  return { records: [], badLines: [], metrics: [], events: [], notes: [] };
}

/** What a path names: a glob if it has wildcards, a folder if it is one (or ends in "/"), else a file. */
export async function followTarget(path: string, cwd = process.cwd()): Promise<FollowTarget> {
  const abs = resolve(cwd, path);
  if (isGlob(path)) return { kind: 'glob', path: abs };
  if (path.endsWith('/') || (await isDirectory(abs))) return { kind: 'folder', path: abs };
  return { kind: 'file', path: abs };
}

/** Starts following `path` (file, folder or glob); `onBatch` gets every new record exactly once, in order. */
export async function followRollouts(
  path: string,
  onBatch: (b: FollowBatch) => void,
  opts: FollowOptions = {},
  onError?: (e: unknown) => void,
): Promise<RolloutFollower> {
  return new RolloutFollower(await followTarget(path), onBatch, opts, onError);
}
