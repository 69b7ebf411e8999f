/**
 * One byte range of a native v1 file scanned into column chunks, the part of the parallel index
 * build (parallel.ts) that runs in a worker thread. Each line gets the index's own treatment: the
 * fast scan when it takes the line and the line writes its `group`, else the full parse the
 * index's `update` falls back to (same values, same flags, same bad-line errors). What only the
 * index can settle, in file order, is left to the merge: the group key of a line without `group`
 * (derived from the lines before it), so such a row carries its step and prompt instead.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { formatMatches } from '../chain/parse';
import { decodeLine, LineSplitter } from '../ingest/lines';
import { completionText, parseRecordLine, type RolloutRecord } from '../schema/record';
import { LineScanner } from './scan';

/** `completionAt` when the completion's place in the line is not known (the index's NO_COMPLETION_AT). */
const NO_COMPLETION_AT = 0xffff;
/** The index's FLAG.formatOk and FLAG.fullParse. */
const FORMAT_OK = 1;
const FULL_PARSE = 8;

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
  /** Per row an id into `groupKeys` (ids follow first appearance in the range); -1 - k: no `group`, its prompt is `derivedPrompts[k]`. */
  group: Int32Array;
  groupKeys: string[];
  derivedPrompts: (RolloutRecord['prompt'] | null)[];
  /** Logged rewards in order of first appearance, each with its first row (NaN where a row lacks it). */
  rewardNames: string[];
  rewardFirstRow: number[];
  rewards: Float32Array[];
  /** Bad lines: range line and the error, as the index words it. */
  badLine: Int32Array;
  badError: string[];
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
  readonly derivedPrompts: (RolloutRecord['prompt'] | null)[] = [];
  badLine = new Int32Array(0);
  readonly badError: string[] = [];

  /** One row; `group` null: the line has none (its key is derived at the merge from `prompt`). */
  addRow(offset: number, bytes: number, line: number, step: number, index: number, reward: number, advantage: number, length: number,
    flags: number, completionAt: number, names: readonly string[], values: readonly number[], group: string | null,
    prompt?: RolloutRecord['prompt']): void {
    const i = this.rows;
    const n = i + 1;
    if (n > this.offsetLow.length) this.reserve(n);
    const high = Math.floor(offset / 2 ** 32);
    this.offsetLow[i] = offset >>> 0;
    this.offsetHigh[i] = high;
    if (high) this.anyHigh = true;
    this.byteLength[i] = bytes;
    this.line[i] = line;
    this.step[i] = step;
    this.index[i] = index;
    this.advantage[i] = advantage;
    this.length[i] = length;
    this.flags[i] = flags;
    this.completionAt[i] = completionAt;
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      let r = this.rewardIds.get(name);
      if (r === undefined) {
        r = this.rewards.length;
        this.rewardIds.set(name, r);
        this.rewardNames.push(name);
        this.rewardFirstRow.push(i);
        this.rewards.push(new Float32Array(this.offsetLow.length).fill(NaN));
      }
      this.rewards[r]![i] = values[k]!;
    }
    this.total[i] = Number.isNaN(reward) ? loggedSum(names, values) : reward;
    if (group === null) {
      this.group[i] = -1 - this.derivedPrompts.length;
      this.derivedPrompts.push(prompt ?? null);
    } else {
      let g = group === this.lastKey ? this.lastId : this.groupIds.get(group);
      if (g === undefined) {
        g = this.groupKeys.push(group) - 1;
        this.groupIds.set(group, g);
      }
      this.lastKey = group;
      this.lastId = g;
      this.group[i] = g;
    }
    this.rows = n;
  }

  addBad(line: number, error: string): void {
    const k = this.badError.push(error) - 1;
    this.badLine = grow(this.badLine, k + 1);
    this.badLine[k] = line;
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

  finish(start: number, committed: number, lines: number): ScanChunk {
    const n = this.rows;
    return {
      start, committed, lines, rows: n,
      offsetLow: this.offsetLow.slice(0, n), offsetHigh: this.anyHigh ? this.offsetHigh.slice(0, n) : null,
      byteLength: this.byteLength.slice(0, n), line: this.line.slice(0, n), step: this.step.slice(0, n),
      index: this.index.slice(0, n), total: this.total.slice(0, n), advantage: this.advantage.slice(0, n),
      length: this.length.slice(0, n), flags: this.flags.slice(0, n), completionAt: this.completionAt.slice(0, n),
      group: this.group.slice(0, n), groupKeys: this.groupKeys, derivedPrompts: this.derivedPrompts,
      rewardNames: this.rewardNames, rewardFirstRow: this.rewardFirstRow, rewards: this.rewards.map((r) => r.slice(0, n)),
      badLine: this.badLine.slice(0, this.badError.length), badError: this.badError,
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

/** The index's full parse of one line (its `fullLine`): the v1 reader's rules, errors worded alike, blank lines skipped. */
function fullLine(out: ChunkBuilder, b: Buffer, offset: number, line: number): void {
  const d = decodeLine(b, offset);
  if (!d.ok) return out.addBad(line, d.error);
  if (d.text.trim() === '') return;
  const r = parseRecordLine(d.text);
  if (!r.ok) return out.addBad(line, r.error);
  const rec = r.record;
  const names = Object.keys(rec.rewards ?? {});
  const text = completionText(rec);
  out.addRow(offset, b.length, line, rec.step ?? -1, rec.index ?? -1, rec.reward ?? NaN, rec.advantage ?? NaN, Buffer.byteLength(text),
    FULL_PARSE | (formatMatches(text) ? FORMAT_OK : 0), NO_COMPLETION_AT, names, Object.values(rec.rewards ?? {}), rec.group ?? null, rec.prompt);
}

/** Scans `job`'s range; `onBytes` hears how many bytes were read so far (progress). */
export function scanRange(job: ScanJob, onBytes?: (bytes: number, rows: number) => void): ScanChunk {
  const out = new ChunkBuilder();
  const s = new LineScanner();
  const splitter = new LineSplitter((bytes, offset, line) => {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (isUtf8(b) && s.scan(b) && s.group !== undefined) {
      out.addRow(offset, b.length, line, s.step, s.index, s.reward, s.advantage, s.length, s.formatOk ? FORMAT_OK : 0,
        s.completionStart < NO_COMPLETION_AT ? s.completionStart : NO_COMPLETION_AT, s.rewardNames, s.rewardValues, s.group);
    } else fullLine(out, b, offset, line);
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
    c.completionAt, c.group, ...c.rewards, c.badLine];
  return arrays.filter((a): a is NonNullable<typeof a> => a !== null).map((a) => a.buffer as ArrayBuffer);
}
