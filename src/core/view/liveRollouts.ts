/**
 * A RolloutView fed by the follower: what a file, a folder of per-step files or a glob holds now,
 * then whatever is appended, in any trainer format. Each batch the follower reads goes into the
 * set at once (rescoring only the groups it touched); what its listeners are told is coalesced
 * into at most one update per `intervalMs`, so a fast writer costs one message per interval and
 * nothing queues. Several views of one source (a viewer and the Run Overview) listen to one
 * instance (src/viewer/liveSources.ts shares it): one follower, one index, one rescore when the
 * settings change. Pure core: the host turns updates into webview messages.
 */
import { stat } from 'node:fs/promises';
import { detectFormat } from '../ingest/detect';
import { followRollouts, type FollowBatch, type FollowOptions, type RolloutFollower } from '../ingest/follow';
import { isDirectory } from '../ingest/files';
import { sourceFiles } from '../ingest/source';
import type { FormatName, LocatedRecord, SourceNote } from '../ingest/types';
import { RolloutView, type ScoreOptions } from './rolloutView';
import type { LiveStatus } from './types';

export interface LiveUpdate {
  /** The list was rebuilt (a file was truncated): the viewer starts its list over. */
  replaced: boolean;
  /** Groups were added or changed in place since the last update. */
  grown: boolean;
  /** Keys of existing groups that gained completions. */
  grew: Set<string>;
  /** Ids of every group a settle scored since the last update (new and grown). */
  touched: Set<number>;
  /**
   * Rows changed other than by arriving (a file truncated and read again, every row rescored):
   * a view that keeps numbers beside the index counts everything again. `touched` then says nothing.
   */
  recount: boolean;
}

/** One consumer of a LiveRollouts: told of every coalesced update (and, if it asks, of notes and rescores). */
export interface LiveListener {
  update(u: LiveUpdate): void;
  /** Each batch's new source notes, as they arrive. */
  notes?(notes: readonly SourceNote[]): void;
  /** A rescore begins: `set.onScored` hears every row again before the update that says `recount`. */
  rescoring?(): void;
}

export interface LiveOptions {
  intervalMs?: number;
  follow?: FollowOptions;
  /** Each batch's new source notes, as they arrive (the host logs them); a listener can ask too. */
  onNotes?: (notes: readonly SourceNote[]) => void;
}

/**
 * How long without a batch, once the first look is done, before the initial read counts as
 * finished although its last bytes gave no record (bad lines, a block still held). Counted from
 * the end of the last batch's work: parsing and scoring a big batch can take a second on its own.
 */
const QUIET_MS = 3000;

export class LiveRollouts {
  readonly set: RolloutView;
  format: FormatName | null = null;
  stepsInferred = false;
  /** What the adapters noted about the input (not bad lines), in arrival order. */
  notes: SourceNote[] = [];
  private follower: RolloutFollower | null = null;
  private pending: LiveUpdate = emptyUpdate();
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private lastPost = 0;
  private closed = false;
  private readonly sizes = new Map<string, number>();
  private readonly readTo = new Map<string, number>();
  private bytesTotal: number | null = null;
  private firstLookDone = false;
  private lastBatch = 0;
  private loadingDone = false;
  private problem: string | null = null;
  private readonly intervalMs: number;
  private readonly listeners = new Set<LiveListener>();
  /** The rescore in progress (updates wait for it), and the chain later ones queue on. */
  private rescores = 0;
  private lastRescore: Promise<void> = Promise.resolve();
  /** What the rows are scored with now. */
  options: ScoreOptions;

  /** `onUpdate`: a first listener (more with `subscribe`). */
  constructor(
    readonly target: string,
    options: ScoreOptions,
    onUpdate?: (u: LiveUpdate) => void,
    private readonly opts: LiveOptions = {},
  ) {
    this.options = options;
    this.set = new RolloutView(options);
    this.intervalMs = opts.intervalMs ?? 150;
    if (onUpdate) this.listeners.add({ update: onUpdate });
  }

  /**
   * Adds a listener; returns the unsubscribe. One joining late is handed the notes so far at once
   * (its first update comes with the next change: what exists now it reads from `set`).
   */
  subscribe(listener: LiveListener | ((u: LiveUpdate) => void)): () => void {
    const l: LiveListener = typeof listener === 'function' ? { update: listener } : listener;
    this.listeners.add(l);
    if (l.notes && this.notes.length) l.notes(this.notes.slice());
    return () => void this.listeners.delete(l);
  }

  /**
   * Scores every row again under `options` (the bodies are read back once), then tells every
   * listener one update that says `recount` and `replaced`. Rescores queue: one at a time, and
   * no update goes out while one runs (its rows are half scored until it ends).
   */
  rescore(options: ScoreOptions): Promise<void> {
    const run = this.lastRescore.then(async () => {
      if (this.closed) return;
      this.rescores++;
      try {
        this.options = options;
        for (const l of this.listeners) l.rescoring?.();
        await this.set.rescore(options);
      } finally {
        // Even a rescore that failed half way changed the rows: every view counts again.
        this.rescores--;
        this.pending.replaced = true;
        this.pending.recount = true;
        this.changed();
      }
    });
    this.lastRescore = run.catch(() => undefined);
    return run;
  }

  /** True while a rescore runs. */
  get rescoring(): boolean {
    return this.rescores > 0;
  }

  /** Resolves once the rescores asked for so far are done. */
  afterRescores(): Promise<void> {
    return this.lastRescore;
  }

  /** Tells every listener to draw again (settings that change no score, e.g. the box frame). */
  redraw(): void {
    this.pending.replaced = true;
    this.changed();
  }

  /** Starts reading; resolves once following has begun (not when the first read ends). */
  async start(): Promise<void> {
    const detected = await detectFormat(this.target).catch(() => null);
    // A file nothing recognises is read as native v1 so its lines are reported (as the CLI does);
    // an empty one waits for its first bytes to say what it is.
    let format: FormatName | undefined = this.opts.follow?.format ?? detected?.format;
    if (!format && !(await isDirectory(this.target)) && ((await stat(this.target).catch(() => null))?.size ?? 0) > 0) format = 'native';
    this.format = format ?? null;
    this.set.readBack = format === 'native';
    await this.measure(format);
    if (this.closed) return;
    const startAt = format === 'native' && (await stat(this.target).catch(() => null))?.isFile() ? await this.scan() : undefined;
    if (this.closed) return;
    this.follower = await followRollouts(this.target, (b) => this.take(b), { ...this.opts.follow, format, ...(startAt ? { startAt } : {}) }, (e) => {
      this.problem = e instanceof Error ? e.message : String(e);
      this.changed();
    });
    void this.follower.ready.then(() => {
      this.firstLookDone = true;
      this.format ??= this.follower?.format ?? null;
      this.set.readBack = this.format === 'native';
      this.watchLoading();
    });
  }

  /**
   * A native file is scanned first (every group listed on the logged values at the index's
   * speed), then scored from its records read back while the follower takes over where the scan
   * stopped. Returns that place.
   */
  private async scan(): Promise<Map<string, { offset: number; lines: number }>> {
    const file = this.target;
    const at = await this.set.scanNative(file, {
      onProgress: (bytes, _total, touched) => {
        this.readTo.set(file, bytes);
        this.lastBatch = Date.now();
        this.pending.grown = true;
        for (const g of touched) this.pending.touched.add(g);
        this.changed();
      },
    });
    this.readTo.set(file, at.offset);
    this.pending.grown = true;
    // The last tick's groups, and any a final line completed.
    for (let g = 0; g < this.set.index.groups.count; g++) this.pending.touched.add(g);
    this.changed();
    void this.set.scoreScanned({
      onBatch: (touched) => {
        // Flags and recomputed values fill in: the same list, rows updated in place.
        this.pending.grown = true;
        for (const g of touched) this.pending.touched.add(g);
        this.changed();
      },
    }).then(() => this.changed(), (e: unknown) => {
      // A truncation or a rescore cancels the pass (they cover its rows): not a problem.
      if (this.closed || (e instanceof Error && e.name === 'AbortError')) return;
      this.problem = `scoring ${file}: ${e instanceof Error ? e.message : String(e)}`;
      this.changed();
    });
    return new Map([[file, at]]);
  }

  /** Sizes of what exists now: the loading progress is measured against them. */
  private async measure(format: FormatName | undefined): Promise<void> {
    if (!format) return;
    try {
      let total = 0;
      for (const f of await sourceFiles(this.target, format)) {
        const size = (await stat(f.path)).size;
        this.sizes.set(f.path, size);
        total += size;
      }
      this.bytesTotal = total;
    } catch {
      this.bytesTotal = null;
    }
  }

  /** One batch from the follower (public so a test can hand one over as the follower would). */
  take(b: FollowBatch): void {
    if (this.closed) return;
    this.lastBatch = Date.now();
    for (const e of b.events) {
      if (e.event !== 'truncated') continue;
      this.set.dropFile(e.file);
      // The file is read again from its start: its notes come again with it.
      this.notes = this.notes.filter((n) => n.file !== e.file);
      this.readTo.delete(e.file);
      this.pending.replaced = true;
      this.pending.recount = true;
    }
    const items: LocatedRecord[] = [];
    for (const item of b.records) {
      const { record, loc } = item;
      if (isVerdictFile(loc.file)) continue;
      items.push(item);
      const at = loc.offset ?? this.sizes.get(loc.file) ?? 0;
      if (at > (this.readTo.get(loc.file) ?? 0)) this.readTo.set(loc.file, at);
      if (!this.stepsInferred && record.meta?.step_inferred === true) this.stepsInferred = true;
    }
    this.set.append(items, b.badLines.filter((l) => !l.file || !isVerdictFile(l.file)));
    const notes = b.notes.filter((n) => !isVerdictFile(n.file));
    if (notes.length) {
      for (const n of notes) this.notes.push(n);
      this.opts.onNotes?.(notes);
      for (const l of this.listeners) l.notes?.(notes);
    }
    const r = this.set.settle();
    this.lastBatch = Date.now();
    if (r.added > 0 || r.grew.length > 0) this.pending.grown = true;
    if (r.reordered) this.pending.replaced = true;
    for (const k of r.grew) this.pending.grew.add(k);
    for (const g of r.touched) this.pending.touched.add(g);
    this.changed();
  }

  /** Schedules one update: at once if the last was long enough ago, else at the interval's end. */
  private changed(): void {
    this.dirty = true;
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastPost + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    if (!this.dirty || this.closed) return;
    if (this.rescores > 0) {
      // Rows are half rescored: the update waits for the rescore's own, which follows it.
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      return;
    }
    this.dirty = false;
    this.lastPost = Date.now();
    const u = this.pending;
    this.pending = emptyUpdate();
    for (const l of [...this.listeners]) {
      if (this.listeners.has(l)) l.update(u);
    }
  }

  /** Ends `loading` once the first read is through (or went quiet), and says so. */
  private watchLoading(): void {
    if (this.closed || this.loadingDone) return;
    const read = [...this.readTo.values()].reduce((a, b) => a + b, 0);
    const caughtUp = this.bytesTotal !== null && read >= this.bytesTotal * 0.999;
    // A scanned file is read once its rows are scored too (what the views show is final then).
    const scored = this.set.unscoredCount === 0;
    if (scored && (caughtUp || Date.now() - this.lastBatch >= QUIET_MS)) {
      this.loadingDone = true;
      this.changed();
      return;
    }
    setTimeout(() => this.watchLoading(), 100).unref?.();
  }

  status(): LiveStatus {
    const read = [...this.readTo.values()].reduce((a, b) => a + b, 0);
    return {
      mode: this.problem && !this.follower ? 'stopped' : (this.follower?.mode ?? 'watch'),
      loading: !this.loadingDone,
      bytesRead: this.bytesTotal === null ? read : Math.min(read, this.bytesTotal),
      bytesTotal: this.bytesTotal,
      problem: this.problem,
      ...(this.set.unscoredCount > 0 ? { unscored: this.set.unscoredCount } : {}),
    };
  }

  /** True once the first read finished. */
  get loaded(): boolean {
    return this.loadingDone && this.firstLookDone;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.follower?.close();
    await this.set.close();
  }
}

/** The judge's `<rollouts>.verdicts.jsonl` sits beside the rollouts in a native folder: not rollouts. */
const isVerdictFile = (file: string): boolean => file.endsWith('.verdicts.jsonl');

function emptyUpdate(): LiveUpdate {
  return { replaced: false, grown: false, grew: new Set(), touched: new Set(), recount: false };
}
