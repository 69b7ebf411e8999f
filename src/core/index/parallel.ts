/**
 * The index build in parallel: a native v1 file is cut into byte ranges on line boundaries, each
 * range is scanned in a worker thread (scanRange.ts) into column chunks, and the chunks are merged
 * into the RolloutIndex in file order as they arrive. A worker gives each line the index's own
 * treatment (the fast scan, else the full parse, bad lines worded alike); what depends on the
 * lines before (a derived group key, where a derived run ends) the merge asks of the index in file
 * order (`groupKeyOf`), so the result is the sequential `update()`'s exactly: the same columns,
 * group table, reward columns and bad lines (test/unit/index-parallel.test.ts builds files both
 * ways and compares them).
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AnyColumn, Column } from './columns';
import type { IndexProgress, RolloutIndex, UpdateOptions, UpdateResult } from './rolloutIndex';
import type { ScanChunk, ScanJob } from './scanRange';
import type { WorkerReply, WorkerRequest } from './scanWorker';

export interface ParallelOptions extends UpdateOptions {
  /** Worker threads (the machine's cores, at most 8). Fewer than 2: the sequential `update`. */
  workers?: number;
  /** Byte ranges the file is cut into (8 per worker, each at least 8 MiB). */
  ranges?: number;
  /** Files smaller than this are indexed sequentially (16 MiB): starting workers costs more. */
  minBytes?: number;
  /** The worker script (default: index-worker.js beside the bundle, else scanWorker.ts under tsx). */
  workerPath?: string;
  /** How long idle workers stay warm for the next build (15 s). */
  keepWorkersMs?: number;
}

const MIN_RANGE = 8 << 20;
const FIRST_RANGE = 4 << 20;

export interface ParallelResult extends UpdateResult {
  /** Worker threads that scanned (0: the sequential `update` ran) and byte ranges they scanned. */
  workers: number;
  ranges: number;
  /** Why the build finished sequentially after starting in parallel (a worker failed), if it did. */
  fallback?: string;
}

/** The bundled worker beside the running bundle (dist/), else the source file (tests, bench); null when neither exists. */
export function defaultWorkerPath(): string | null {
  for (const name of ['index-worker.js', 'scanWorker.ts']) {
    const p = join(__dirname, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * `index.update(opts)` with workers: a fresh index on a file of at least `minBytes` is built in
 * parallel; anything else (an index that already holds rows, `validate: 'full'`, one core, no
 * worker file) takes the sequential `update`. Progress, abort and follow behave as in `update`.
 */
export async function updateParallel(index: RolloutIndex, opts: ParallelOptions = {}): Promise<ParallelResult> {
  const workers = Math.min(opts.workers ?? Math.min(availableParallelism(), 8), 64);
  const workerPath = opts.workerPath ?? defaultWorkerPath();
  const fresh = index.count === 0 && index.bytesConsumed === 0 && index.badLines.length === 0 && index.file !== '';
  const size = fresh ? statSync(index.file).size : 0;
  if (!fresh || workers < 2 || !workerPath || opts.validate === 'full' || size < (opts.minBytes ?? 16 << 20)) {
    return { ...(await index.update(opts)), workers: 0, ranges: 0 };
  }
  const n = opts.ranges ?? Math.max(workers, Math.min(workers * 8, Math.floor(size / MIN_RANGE)));
  // The first range is small, so the first rows are indexed (and a viewer lists them) at once.
  const ranges = splitRanges(index.file, size, n, Math.min(FIRST_RANGE, size / n));
  return new ParallelBuild(index, opts, size, ranges, Math.min(workers, Math.max(ranges.length, 1)), workerPath).run();
}

/**
 * `n` ranges `[start, end)`, each starting at a line start, the first about `first` bytes and the
 * others of about equal size (all equal by default); empty ones dropped.
 */
export function splitRanges(file: string, size: number, n: number, first = size / n): [number, number][] {
  const cuts = [0];
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(64 << 10);
    for (let i = 1; i < n; i++) {
      let p = Math.max(Math.round(first + ((size - first) * (i - 1)) / Math.max(n - 1, 1)), cuts[cuts.length - 1]!);
      // The cut moves to just past the first "\n" at or after p - 1 (p itself when p - 1 ends a line).
      let at = p - 1;
      for (;;) {
        const got = at < size ? readSync(fd, buf, 0, buf.length, at) : 0;
        if (got === 0) {
          p = size;
          break;
        }
        const nl = buf.subarray(0, got).indexOf(0x0a);
        if (nl >= 0) {
          p = at + nl + 1;
          break;
        }
        at += got;
      }
      cuts.push(p);
    }
  } finally {
    closeSync(fd);
  }
  cuts.push(size);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < cuts.length; i++) if (cuts[i + 1]! > cuts[i]!) out.push([cuts[i]!, cuts[i + 1]!]);
  return out;
}

/** What the merge needs from the index beyond its public fields (and `groupKeyOf`): reward columns, room, where to resume. */
interface IndexHooks {
  rewardColumn(name: string): Column<Float32Array>;
  reserveRows(rows: number): void;
  continueAt(offset: number, line: number): void;
}

// Until rolloutIndex.ts has rewardColumn/reserveRows/continueAt as public methods, the
// merge reaches the private members they would call (bracket access, checked by tsc).
function indexHooks(index: RolloutIndex): IndexHooks {
  return {
    rewardColumn: (name) => index.rewardColumn(name),
    reserveRows: (rows) => index.reserveRows(rows),
    continueAt: (offset, line) => index.continueAt(offset, line),
  };
}

interface Pending {
  job: ScanJob;
  bytes: number;
  rows: number;
  chunk: ScanChunk | null;
}

class ParallelBuild {
  private readonly hooks: IndexHooks;
  private readonly pending: Pending[];
  private readonly pool: Worker[] = [];
  private nextJob = 0;
  private nextMerge = 0;
  /** Lines and bytes merged so far. */
  private lines = 0;
  private committed = 0;
  private lastReport = -Infinity;
  private failure: Error | null = null;
  private wake: () => void = () => undefined;

  constructor(private readonly index: RolloutIndex, private readonly opts: ParallelOptions, private readonly size: number,
    ranges: [number, number][], private readonly workers: number, private readonly workerPath: string) {
    this.hooks = indexHooks(index);
    this.pending = ranges.map(([start, end]) => ({
      job: { file: index.file, start, end, last: end === size, follow: !!opts.follow, chunkBytes: opts.chunkBytes },
      bytes: 0, rows: 0, chunk: null,
    }));
  }

  async run(): Promise<ParallelResult> {
    const { index, opts } = this;
    let aborted = false;
    try {
      for (let w = 0; w < this.workers && this.nextJob < this.pending.length; w++) this.startWorker();
      while (this.nextMerge < this.pending.length) {
        if (opts.signal?.aborted) {
          aborted = true;
          break;
        }
        if (this.failure) break;
        const p = this.pending[this.nextMerge]!;
        if (!p.chunk) {
          await new Promise<void>((r) => (this.wake = r));
          continue;
        }
        this.merge(p.chunk);
        p.chunk = null;
        this.nextMerge++;
        this.report(false);
        await new Promise<void>((r) => setImmediate(r)); // a turn of the event loop between chunks, as `update` gives
      }
    } finally {
      await this.release(!aborted && !this.failure && this.nextMerge === this.pending.length ? (opts.keepWorkersMs ?? IDLE_MS) : 0);
    }
    this.hooks.continueAt(this.committed, this.lines);
    if (this.failure && !aborted) {
      // A worker failed (it could not start, or a read failed): the index finishes sequentially from what was merged.
      const rest = await index.update(opts);
      return { added: index.count, truncated: false, aborted: rest.aborted, workers: this.workers, ranges: this.pending.length,
        fallback: this.failure.message };
    }
    if (!aborted && opts.follow && this.committed < this.size) index.appendBytes(readBytes(index.file, this.committed, this.size));
    this.report(!aborted, true);
    return { added: index.count, truncated: false, aborted, workers: this.workers, ranges: this.pending.length };
  }

  private startWorker(): void {
    const worker = takeWorker(this.workerPath);
    this.pool.push(worker);
    const give = (): void => {
      if (this.nextJob >= this.pending.length) return;
      const id = this.nextJob++;
      worker.postMessage({ id, job: this.pending[id]!.job } satisfies WorkerRequest);
    };
    this.listen(worker, 'message', (m: WorkerReply) => {
      const p = this.pending[m.id]!;
      if (m.kind === 'progress') {
        p.bytes = m.bytes;
        p.rows = m.rows;
        this.report(false);
        return;
      }
      if (m.kind === 'error') this.fail(new Error(m.error));
      else {
        p.chunk = m.chunk;
        p.bytes = p.job.end - p.job.start;
        p.rows = m.chunk.rows;
        give();
      }
      this.wake();
    });
    this.listen(worker, 'error', (e: Error) => this.fail(e));
    this.listen(worker, 'exit', (code: number) => this.fail(new Error(`index worker exited with code ${code}`)));
    // Two jobs queued per worker: it starts the next while this thread is still merging (a reply
    // is only read, and a new job only sent, between merges).
    give();
    give();
  }

  private readonly listeners: [Worker, string, (...a: unknown[]) => void][] = [];

  private listen<A extends unknown[]>(w: Worker, event: string, f: (...a: A) => void): void {
    const g = f as unknown as (...a: unknown[]) => void;
    w.on(event, g);
    this.listeners.push([w, event, g]);
  }

  /** Workers go back to the warm pool (for `keepMs`) when every job they were given is done, else they are stopped. */
  private async release(keepMs: number): Promise<void> {
    for (const [w, event, f] of this.listeners) w.off(event, f);
    this.listeners.length = 0;
    await Promise.all(this.pool.map((w) => (keepMs > 0 ? giveBackWorker(this.workerPath, w, keepMs) : w.terminate())));
    this.pool.length = 0;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  private report(done: boolean, force = false): void {
    const on = this.opts.onProgress;
    if (!on) return;
    const now = performance.now();
    if (!force && now - this.lastReport < (this.opts.progressIntervalMs ?? 50)) return;
    this.lastReport = now;
    let bytes = this.committed;
    let rows = this.index.count;
    for (let k = this.nextMerge; k < this.pending.length; k++) {
      bytes += this.pending[k]!.bytes;
      rows += this.pending[k]!.rows;
    }
    const p: IndexProgress = { completions: rows, badLines: this.index.badLines.length, bytes: done ? this.size : Math.min(bytes, this.size),
      totalBytes: this.size, done };
    on(p);
  }

  /** Appends one range's rows and bad lines, in file order. */
  private merge(c: ScanChunk): void {
    const { index, hooks } = this;
    const before = this.lines;
    for (let k = 0; k < c.rows; k++) c.line[k]! += before;
    const need = index.count + c.rows;
    if (need > index.offsetLow.data.length) {
      // Room for the rest of the file at this density of rows, so columns grow once, not per chunk.
      const expect = Math.ceil((need * this.size) / Math.max(c.committed, 1) * 1.02) + 64;
      hooks.reserveRows(Math.max(need, expect));
    }
    // Reward columns open in order of first appearance, as `update` opens them (bad lines open none).
    for (const name of c.rewardNames) hooks.rewardColumn(name);
    this.append(c);
    for (let k = 0; k < c.badError.length; k++) index.badLines.push({ line: c.badLine[k]! + before, file: index.file, error: c.badError[k]! });
    this.lines += c.lines;
    this.committed = c.committed;
  }

  /** A line without `group` ran last: the next written group ends that derived run (the index's own rule). */
  private inDerivedRun = false;

  /** The chunk's rows appended at the index's end; group keys of rows without `group` are derived by the index, in order. */
  private append(c: ScanChunk): void {
    const index = this.index;
    const at = index.count;
    const n = c.rows;
    if (at + n > index.offsetLow.data.length) this.hooks.reserveRows(at + n);
    const cap = index.offsetLow.data.length;
    index.offsetLow.data.set(c.offsetLow, at);
    if (c.offsetHigh) putSparse(index.offsetHigh, c.offsetHigh, at, 0, cap);
    index.byteLength.data.set(c.byteLength, at);
    index.line.data.set(c.line, at);
    index.step.data.set(c.step, at);
    index.index.data.set(c.index, at);
    index.total.data.set(c.total, at);
    index.advantage.data.set(c.advantage, at);
    index.length.data.set(c.length, at);
    index.flags.data.set(c.flags, at);
    putSparse(index.completionAt, c.completionAt, at, 0xffff, cap);
    c.rewardNames.forEach((name, r) => index.rewards.get(name)!.data.set(c.rewards[r]!, at));
    const groups = index.groups;
    const group = index.group.data;
    const keys = c.groupKeys;
    for (let k = 0; k < n; k++) {
      const id = c.group[k]!;
      let key: string;
      if (id < 0) {
        const step = c.step[k]!;
        key = index.groupKeyOf({ v: 1, completion: '', step: step < 0 ? undefined : step, prompt: c.derivedPrompts[-1 - id] ?? undefined });
        this.inDerivedRun = true;
      } else {
        key = keys[id]!;
        if (this.inDerivedRun) {
          index.groupKeyOf({ v: 1, completion: '', group: key });
          this.inDerivedRun = false;
        }
      }
      group[at + k] = groups.add(key, at + k, c.step[k]!, c.total[k]!);
    }
    index.count = at + n;
  }
}

/** Idle workers by script, kept warm (their compiled code too) for the next build; let go after `keepWorkersMs`. */
const idleWorkers = new Map<string, Worker[]>();
const IDLE_MS = 15_000;
let idleTimer: ReturnType<typeof setTimeout> | null = null;

function takeWorker(path: string): Worker {
  let w = idleWorkers.get(path)?.pop();
  if (!w) {
    // Running from source (tests, bench): a worker does not inherit `--import tsx`, so it loads tsx's CommonJS hook itself.
    w = new Worker(path, path.endsWith('.ts') ? { execArgv: ['--require', 'tsx/cjs'] } : {});
    const self = w;
    // While idle nobody listens: an idle worker that dies only leaves the pool.
    w.on('error', () => undefined);
    w.on('exit', () => {
      const list = idleWorkers.get(path);
      if (list?.includes(self)) list.splice(list.indexOf(self), 1);
    });
  }
  w.ref();
  return w;
}

function giveBackWorker(path: string, w: Worker, keepMs: number): void {
  w.unref(); // an idle worker does not keep the process alive
  let list = idleWorkers.get(path);
  if (!list) idleWorkers.set(path, (list = []));
  list.push(w);
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = null;
    for (const ws of idleWorkers.values()) for (const x of ws.splice(0)) void x.terminate();
  }, keepMs);
  idleTimer.unref();
}

/** Writes `src` at row `at` of a sparse column, waking it (at `cap` rows) only when a value differs from its fill. */
function putSparse(col: AnyColumn, src: Uint8Array | Uint16Array, at: number, fill: number, cap: number): void {
  if (col.data.length < at + src.length) {
    let k = 0;
    while (k < src.length && src[k] === fill) k++;
    if (k === src.length) return;
    col.set(at + k, src[k]!, cap);
  }
  col.data.set(src, at);
}

function readBytes(file: string, start: number, end: number): Buffer {
  const buf = Buffer.allocUnsafe(end - start);
  const fd = openSync(file, 'r');
  try {
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
