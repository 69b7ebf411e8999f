/**
 * One byte range of a native v1 file scanned into column chunks, the part of the parallel index
 * build (parallel.ts) that runs in a worker thread. A line joins the chunk only when the fast
 * scanner takes it and it writes its `group`; every other line (bad, blank, segments, escapes,
 * no `group`, so its key is derived from the lines before it) is handed back as bytes for the
 * index to read itself, in order, so those lines come out exactly as the sequential `update`
 * makes them. The line after such a line, and the range's first line, are handed back too: a
 * written group ends a derived run, and only the index knows whether one was running.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { LineSplitter } from '../ingest/lines';
import { LineScanner } from './scan';

/** `completionAt` when the completion's place in the line is not known (the index's NO_COMPLETION_AT). */
const NO_COMPLETION_AT = 0xffff;
/** The index's FLAG.formatOk. */
const FORMAT_OK = 1;

export interface ScanJob {
  file: string;
  /** Byte range; `start` is a line start, `end` a line start or the end of the file. */
  start: number;
  end: number;
  /** The range reaches the end of the file: a last line without "\n" is a line (unless following). */
  last: boolean;
  /** Following a live file: a last line without "\n" is left for the index to hold. */
  follow: boolean;
  chunkBytes?: number;
}

/** What one range gives: `rows` fast rows in column chunks, and the lines the index must read itself. */
export interface ScanChunk {
  start: number;
  /** Just past the last complete line taken (the range's end unless a held partial line follows). */
  committed: number;
  /** Lines in the range (complete ones, plus the last line of the file when not following). */
  lines: number;
  rows: number;
  offsetLow: Uint32Array;
  /** Null when every offset is below 4 GiB. */
  offsetHigh: Uint8Array | null;
  byteLength: Int32Array;
  /** 1-based line numbers counted from the range's start. */
  line: Int32Array;
  step: Int32Array;
  index: Int32Array;
  total: Float32Array;
  advantage: Float32Array;
  length: Int32Array;
  flags: Uint8Array;
  completionAt: Uint16Array;
  /** Per row an id into `groupKeys` (ids follow first appearance in the range). */
  group: Int32Array;
  groupKeys: string[];
  /** Logged rewards in order of first appearance, each with its first row (NaN where a row lacks it). */
  rewardNames: string[];
  rewardFirstRow: number[];
  rewards: Float32Array[];
  /** The lines handed back: bytes concatenated, and per line its offset, length, range line, fast rows before it. */
  slowBytes: Uint8Array;
  slowOffset: Float64Array;
  slowLength: Int32Array;
  slowLine: Int32Array;
  slowRow: Int32Array;
}

/** Grows a typed array to at least `n` (doubling), new room filled with `fill`. */
function grow<T extends Uint32Array | Uint8Array | Int32Array | Float32Array | Uint16Array | Float64Array>(a: T, n: number, fill = 0): T {
  if (n <= a.length) return a;
  const next = new (a.constructor as new (n: number) => T)(Math.max(n, a.length * 2, 1024));
  next.set(a);
  if (fill !== 0) next.fill(fill, a.length);
  return next;
}

class ChunkBuilder {
  rows = 0;
  offsetLow = new Uint32Array(0);
  offsetHigh = new Uint8Array(0);
  anyHigh = false;
  byteLength = new Int32Array(0);
  line = new Int32Array(0);
  step = new Int32Array(0);
  index = new Int32Array(0);
  total = new Float32Array(0);
  advantage = new Float32Array(0);
  length = new Int32Array(0);
  flags = new Uint8Array(0);
  completionAt = new Uint16Array(0);
  group = new Int32Array(0);
  readonly groupKeys: string[] = [];
  private readonly groupIds = new Map<string, number>();
  private lastKey: string | null = null;
  private lastId = -1;
  readonly rewardNames: string[] = [];
  readonly rewardFirstRow: number[] = [];
  rewards: Float32Array[] = [];
  private readonly rewardIds = new Map<string, number>();
  slowBytes = new Uint8Array(0);
  slowUsed = 0;
  slowCount = 0;
  slowOffset = new Float64Array(0);
  slowLength = new Int32Array(0);
  slowLine = new Int32Array(0);
  slowRow = new Int32Array(0);

  addRow(s: LineScanner, offset: number, bytes: number, line: number): void {
    const i = this.rows;
    const n = i + 1;
    if (n > this.offsetLow.length) this.reserve(n);

      this.offsetHigh = grow(this.offsetHigh, n);
    const high = Math.floor(offset / 2 ** 32);
    this.offsetLow[i] = offset >>> 0;
    this.offsetHigh[i] = high;
    if (high) this.anyHigh = true;
    this.byteLength[i] = bytes;
    this.line[i] = line;
    this.step[i] = s.step;
    this.index[i] = s.index;
    this.advantage[i] = s.advantage;
    this.length[i] = s.length;
    this.flags[i] = s.formatOk ? FORMAT_OK : 0;
    this.completionAt[i] = s.completionStart < NO_COMPLETION_AT ? s.completionStart : NO_COMPLETION_AT;
    for (let k = 0; k < s.rewardNames.length; k++) {
      const name = s.rewardNames[k]!;
      let r = this.rewardIds.get(name);
      if (r === undefined) {
        r = this.rewards.length;
        this.rewardIds.set(name, r);
        this.rewardNames.push(name);
        this.rewardFirstRow.push(i);
        this.rewards.push(new Float32Array(this.offsetLow.length).fill(NaN));
      }
      this.rewards[r]![i] = s.rewardValues[k]!;
    }
    this.total[i] = Number.isNaN(s.reward) ? loggedSum(s.rewardNames, s.rewardValues) : s.reward;
    const key = s.group!;
    let g = key === this.lastKey ? this.lastId : this.groupIds.get(key);
    if (g === undefined) {
      g = this.groupKeys.push(key) - 1;
      this.groupIds.set(key, g);
    }
    this.lastKey = key;
    this.lastId = g;
    this.group[i] = g;
    this.rows = n;
  }

  /** Room for `n` rows in every column (grown by doubling, or once to an estimate). */
  reserve(n: number): void {
    this.offsetLow = grow(this.offsetLow, n);
    this.offsetHigh = grow(this.offsetHigh, n);
    this.byteLength = grow(this.byteLength, n);
    this.line = grow(this.line, n);
    this.step = grow(this.step, n);
    this.index = grow(this.index, n);
    this.total = grow(this.total, n);
    this.advantage = grow(this.advantage, n);
    this.length = grow(this.length, n);
    this.flags = grow(this.flags, n);
    this.completionAt = grow(this.completionAt, n);
    this.group = grow(this.group, n);
    this.rewards = this.rewards.map((r) => grow(r, n, NaN));
  }

  addSlow(b: Uint8Array, offset: number, line: number): void {
    const k = this.slowCount++;
    if (k >= this.slowOffset.length) {
      this.slowOffset = grow(this.slowOffset, k + 1);
      this.slowLength = grow(this.slowLength, k + 1);
      this.slowLine = grow(this.slowLine, k + 1);
      this.slowRow = grow(this.slowRow, k + 1);
    }
    this.slowBytes = grow(this.slowBytes, this.slowUsed + b.length);
    this.slowBytes.set(b, this.slowUsed);
    this.slowUsed += b.length;
    this.slowOffset[k] = offset;
    this.slowLength[k] = b.length;
    this.slowLine[k] = line;
    this.slowRow[k] = this.rows;
  }

  finish(start: number, committed: number, lines: number): ScanChunk {
    const n = this.rows;
    const m = this.slowCount;
    return {
      start, committed, lines, rows: n,
      offsetLow: this.offsetLow.slice(0, n), offsetHigh: this.anyHigh ? this.offsetHigh.slice(0, n) : null,
      byteLength: this.byteLength.slice(0, n), line: this.line.slice(0, n), step: this.step.slice(0, n),
      index: this.index.slice(0, n), total: this.total.slice(0, n), advantage: this.advantage.slice(0, n),
      length: this.length.slice(0, n), flags: this.flags.slice(0, n), completionAt: this.completionAt.slice(0, n),
      group: this.group.slice(0, n), groupKeys: this.groupKeys,
      rewardNames: this.rewardNames, rewardFirstRow: this.rewardFirstRow, rewards: this.rewards.map((r) => r.slice(0, n)),
      slowBytes: this.slowBytes.slice(0, this.slowUsed), slowOffset: this.slowOffset.slice(0, m),
      slowLength: this.slowLength.slice(0, m), slowLine: this.slowLine.slice(0, m), slowRow: this.slowRow.slice(0, m),
    };
  }
}

/** The index's total when a line logs no `reward`: its rewards summed in name order (as `addRow` does); NaN when none. */
function loggedSum(names: readonly string[], values: readonly number[]): number {
  if (names.length === 0) return NaN;
  const order = names.map((_, k) => k).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  let sum = 0;
  for (const k of order) sum += values[k]!;
  return sum;
}

/** Scans `job`'s range; `onBytes` hears how many bytes were read so far (progress). */
export function scanRange(job: ScanJob, onBytes?: (bytes: number, rows: number) => void): ScanChunk {
  const out = new ChunkBuilder();
  const s = new LineScanner();
  let handBack = true; // the range's first line: the index decides whether a derived run ends
  const splitter = new LineSplitter((bytes, offset, line) => {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const fast = isUtf8(b) && s.scan(b) && s.group !== undefined;
    if (fast && !handBack) out.addRow(s, offset, b.length, line);
    else out.addSlow(b, offset, line);
    handBack = !fast;
  }, job.start, 0);
  const fd = openSync(job.file, 'r');
  try {
    const buf = Buffer.allocUnsafe(job.chunkBytes ?? 1 << 20);
    let pos = job.start;
    while (pos < job.end) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, job.end - pos), pos);
      if (n === 0) break;
      splitter.push(buf.subarray(0, n));
      // After the first read, room for the whole range at this line length: columns grow once.
      if (pos === job.start && out.rows > 0) out.reserve(Math.ceil((out.rows * (job.end - job.start)) / n * 1.05) + 16);
      pos += n;
      onBytes?.(pos - job.start, out.rows);
    }
  } finally {
    closeSync(fd);
  }
  if (job.last && !job.follow) splitter.finish();
  return out.finish(job.start, splitter.committed, splitter.lines);
}

/** The chunk's buffers, to transfer rather than copy. */
export function chunkBuffers(c: ScanChunk): ArrayBuffer[] {
  const arrays = [c.offsetLow, c.offsetHigh, c.byteLength, c.line, c.step, c.index, c.total, c.advantage, c.length, c.flags,
    c.completionAt, c.group, ...c.rewards, c.slowBytes, c.slowOffset, c.slowLength, c.slowLine, c.slowRow];
  return arrays.filter((a): a is NonNullable<typeof a> => a !== null).map((a) => a.buffer as ArrayBuffer);
}
