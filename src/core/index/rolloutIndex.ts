/**
 * The rollout index: per completion typed columns (where its body lies, its source file and line,
 * step, group, index, logged rewards, total, advantage, length, flags, recomputed rewards, the
 * judge's verdict) and per group its rows and summary; never a record body (docs/architecture.md).
 * Two ways in, one set of columns: `update`/`appendBytes` scan a native v1 file's bytes without
 * parsing them (the CLI, the bench), `addRecord` takes a canonical record any adapter emitted
 * with the place its body can be read back from (the viewer, every format). Full records are read
 * back on demand through a small cache.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { formatMatches } from '../chain/parse';
import { decodeLine, LineSplitter } from '../ingest/lines';
import { completionText, parseRecordLine, type BadLine, type RolloutRecord } from '../schema/record';
import type { RecordScore } from '../rewards/variants';
import { GroupKeys } from '../rollouts/groups';
import { f32, FLAG, i32, sparseU16, sparseU8, u32, u8, type AnyColumn, type Column } from './columns';
import { GroupTable } from './groupTable';
import { LineScanner } from './scan';
import { RecordCache } from './recordCache';

export interface IndexProgress {
  completions: number;
  badLines: number;
  /** File bytes consumed so far, and the file's size when this pass began. */
  bytes: number;
  totalBytes: number;
  done: boolean;
}

export interface UpdateOptions {
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
  /** Least time between two progress reports (50 ms). */
  progressIntervalMs?: number;
  /** Bytes per read (1 MiB): each chunk is indexed between two turns of the event loop. */
  chunkBytes?: number;
  /** Following a live file: a last line without "\n" is held until it is complete. */
  follow?: boolean;
  /** 'full' parses and validates every line like the v1 reader (slower, exact bad lines). */
  validate?: 'fast' | 'full';
}

export interface UpdateResult {
  /** Rows added by this pass. */
  added: number;
  /** The file shrank, so the index started over. */
  truncated: boolean;
  aborted: boolean;
}

export interface LocatedRow {
  record: RolloutRecord;
  /** The trainer's file and line; `offset` is the line's byte offset there (absent when the body was spilled). */
  loc: { file: string; line: number; offset?: number };
}

/** Where `addRecord` finds a record's body again: a line of a v1 file (the source itself, or a spill file). */
export interface BodyPlace {
  /** The file the body is read from. */
  path: string;
  offset: number;
  bytes: number;
  /** The body was spilled by us (a canonical record, trusted), not read from the trainer's file. */
  spilled?: boolean;
}

/** A row's line no longer parses (changed on disk, or a deep error the fast path skipped). */
export class RowReadError extends Error {
  constructor(readonly bad: BadLine) {
    super(`${bad.file ?? ''}:${bad.line}: ${bad.error}`);
  }
}

/** `completionAt` when the completion's place in the line is not known. */
export const NO_COMPLETION_AT = 0xffff;

/** The `verdict` column's codes (0: no verdict looked up or none found). */
export const VERDICT_CODE = { unjudged: 0, aligned: 1, misaligned: 2, uncertain: 3, failed: 4 } as const;
/** The `verdictType` column's codes (0: none). */
export const VERDICT_TYPE_CODE = { contradiction: 1, missing_detail: 2, irrelevant: 3, other: 4 } as const;

export class RolloutIndex {
  /** Completions indexed so far (the columns' valid length). */
  count = 0;
  readonly badLines: BadLine[] = [];
  readonly groups = new GroupTable();
  /** Source files rows came from (`fileOf` indexes it); the scanned file is the first. */
  readonly files: string[] = [];
  /** Files bodies are read from (`bodyOf` indexes it): the source itself, or a spill file. */
  readonly bodies: string[] = [];
  private readonly spilledBodies = new Set<number>();
  private readonly fileIds = new Map<string, number>();
  private readonly bodyIds = new Map<string, number>();
  readonly fileOf = sparseU16();
  readonly bodyOf = sparseU16();
  /** Low 32 bits of each body's byte offset; `offsetHigh` holds the 4 GiB multiples. */
  readonly offsetLow = u32();
  readonly offsetHigh = sparseU8();
  readonly byteLength = i32();
  readonly line = i32();
  readonly step = i32(-1);
  readonly group = i32();
  readonly index = i32(-1);
  /** Logged `reward`, else the sum of the logged per-function rewards; NaN when neither. */
  readonly total = f32(NaN);
  readonly advantage = f32(NaN);
  /** UTF-8 bytes of the completion text. */
  readonly length = i32();
  readonly flags = u8();
  /**
   * Where the completion's JSON string starts in its line (its opening quote), so a completion
   * search finds the text without walking the line; NO_COMPLETION_AT when unknown (the full-parse
   * path, segments, or a line longer than 64 KiB before it).
   */
  readonly completionAt = sparseU16(NO_COMPLETION_AT);
  /** Logged reward per function name; NaN where a line does not log it. */
  readonly rewards = new Map<string, Column<Float32Array>>();
  /** Recomputed reward per function of the variant (`setScore`); NaN until scored. */
  readonly scored = new Map<string, Column<Float32Array>>();
  /** Recomputed total, and the advantage it gives within the group (set when the group settles). */
  readonly scoredTotal = f32(NaN);
  readonly scoredAdvantage = f32(NaN);
  /** The judge's verdict (VERDICT_CODE) and its type (VERDICT_TYPE_CODE). */
  readonly verdict = sparseU8();
  readonly verdictType = sparseU8();

  private splitter: LineSplitter;
  private readonly scanner = new LineScanner();
  private derivedKeys = new GroupKeys();
  private readonly cache = new RecordCache<LocatedRow>(256);
  private readonly handles = new Map<number, Promise<FileHandle>>();
  private validate: 'fast' | 'full' = 'fast';
  private sortedRewardNames: string[] = [];
  /** The last full-parse line had no `group`: a written one must end that derived run. */
  private derivedRun = false;
  /** The current line's logged rewards by rank in `sortedRewardNames` (NaN: not logged). */
  private rankValue = new Float64Array(0);
  private readonly rankOf = new Map<string, number>();

  /** `file`: the native v1 file `update` scans (its rows get file and body 0); none for an index fed by `addRecord`. */
  constructor(readonly file = '') {
    this.splitter = this.newSplitter(0, 0);
    if (file) {
      this.files.push(file);
      this.bodies.push(file);
    }
  }

  /** Where a follower may take over from a scan: past the last complete line, and the lines up to it. */
  get resumeAt(): { offset: number; lines: number } {
    return { offset: this.splitter.committed, lines: this.splitter.lines };
  }

  /**
   * The group of a record added with `addRecord`, by the scan's own rule: its `group`, else a run
   * of consecutive records with the same step and prompt (derived keys continue a scan's).
   */
  groupKeyOf(rec: RolloutRecord): string {
    this.derivedRun = rec.group === undefined;
    return this.derivedKeys.keyOf(rec);
  }

  /** File bytes consumed (complete lines, plus a held partial line). */
  get bytesConsumed(): number {
    return this.splitter.committed + this.splitter.pending;
  }

  /**
   * Reads what the file gained since the last pass and indexes it. A file shorter than what was
   * consumed was truncated: the index starts over. Resolves when it reaches the end of the file
   * (or on abort, keeping what it indexed).
   */
  async update(opts: UpdateOptions = {}): Promise<UpdateResult> {
    this.validate = opts.validate ?? 'fast';
    const fh = await this.handle(0);
    const totalBytes = (await fh.stat()).size;
    let truncated = false;
    if (totalBytes < this.bytesConsumed) {
      this.clear();
      truncated = true;
    }
    const before = this.count;
    const chunk = Buffer.allocUnsafe(opts.chunkBytes ?? 1 << 20);
    let pos = this.bytesConsumed;
    let lastReport = 0;
    const report = (done: boolean): void => {
      opts.onProgress?.({ completions: this.count, badLines: this.badLines.length, bytes: pos, totalBytes, done });
    };
    let aborted = false;
    for (;;) {
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) break;
      this.push(chunk.subarray(0, bytesRead));
      pos += bytesRead;
      if (this.count > 0 && this.count >= this.offsetLow.data.length * 0.9) {
        // Room for the rest of the file at this line length, so columns grow once, not a dozen times.
        const expect = this.count + Math.ceil(((totalBytes - pos) / (pos - this.offsetOf(0))) * this.count * 1.05) + 64;
        for (const c of this.allColumns()) c.reserve(expect - 1, true);
      }
      const now = performance.now();
      if (now - lastReport >= (opts.progressIntervalMs ?? 50)) {
        lastReport = now;
        report(false);
      }
    }
    if (!aborted && !opts.follow) this.splitter.finish();
    if (!opts.follow) this.fit(); // a followed file keeps its spare room for what comes next
    report(!aborted);
    return { added: this.count - before, truncated, aborted };
  }

  /** Indexes bytes appended to the file (from a tailer); they must follow what was consumed. */
  appendBytes(bytes: Uint8Array): number {
    const before = this.count;
    this.push(bytes);
    return this.count - before;
  }

  /**
   * Indexes one line exactly as `update` does (`offset`: its first byte in the file; `line`: its
   * 1-based number; `bytes` without the "\n"). The parallel build sends here every line its
   * workers did not take, so bad lines and derived group keys are this class's own.
   */
  indexLine(bytes: Buffer, offset: number, line: number): void {
    this.onLine(bytes, offset, line);
  }

  /** The logged-reward column `name`, added (NaN so far) when new; rows appended in bulk fill it. */
  rewardColumn(name: string): Column<Float32Array> {
    return this.rewards.get(name) ?? this.addRewardColumn(name);
  }

  /** Room for `rows` rows in every column, so a bulk append writes `.data` directly. */
  reserveRows(rows: number): void {
    for (const c of this.allColumns()) c.reserve(rows - 1, true);
  }

  /**
   * After rows were appended without `update` (the parallel build): the next `update` resumes at
   * byte `offset` after `line` lines, and spare column room is dropped.
   */
  continueAt(offset: number, line: number): void {
    this.splitter = this.newSplitter(offset, line);
    this.fit();
  }

  private push(bytes: Uint8Array): void {
    this.splitter.push(bytes);
  }

  private newSplitter(offset: number, line: number): LineSplitter {
    return new LineSplitter((bytes, off, ln) => this.onLine(bytes, off, ln), offset, line);
  }

  private onLine(bytes: Uint8Array, offset: number, line: number): void {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const s = this.scanner;
    if (this.validate === 'fast' && isUtf8(b) && s.scan(b)) {
      if (s.group === undefined) {
        this.fullLine(b, offset, line); // derived keys need the decoded prompt
        return;
      }
      if (this.derivedRun) {
        this.derivedKeys.keyOf({ v: 1, completion: '', group: s.group }); // a written group ends the derived run
        this.derivedRun = false;
      }
      this.setRewards(s.rewardNames, s.rewardValues);
      this.addRow(offset, b.length, line, s.step, s.group, s.index, s.reward, s.advantage, s.length, s.formatOk ? FLAG.formatOk : 0,
        s.completionStart < NO_COMPLETION_AT ? s.completionStart : NO_COMPLETION_AT);
      return;
    }
    this.fullLine(b, offset, line);
  }

  /** The v1 reader's rules exactly: strict UTF-8, blank lines skipped, errors named. */
  private fullLine(b: Buffer, offset: number, line: number): void {
    const d = decodeLine(b, offset);
    if (!d.ok) {
      this.badLines.push({ line, file: this.file, error: d.error });
      return;
    }
    if (d.text.trim() === '') return;
    const r = parseRecordLine(d.text);
    if (!r.ok) {
      this.badLines.push({ line, file: this.file, error: r.error });
      return;
    }
    const rec = r.record;
    this.setRewards(Object.keys(rec.rewards ?? {}), Object.values(rec.rewards ?? {}));
    const text = completionText(rec);
    const flags = FLAG.fullParse | (formatMatches(text) ? FLAG.formatOk : 0);
    this.derivedRun = rec.group === undefined;
    this.addRow(offset, b.length, line, rec.step ?? -1, this.derivedKeys.keyOf(rec), rec.index ?? -1, rec.reward ?? NaN,
      rec.advantage ?? NaN, Buffer.byteLength(text), flags, NO_COMPLETION_AT);
    this.groups.notePrompt(this.group.data[this.count - 1]!, this.count - 1, rec.prompt);
  }

  /** Appends one row; its logged rewards were stored by `setRewards`. */
  private addRow(offset: number, bytes: number, line: number, step: number, group: string, index: number,
    reward: number, advantage: number, length: number, flags: number, completionAt: number): void {
    const i = this.count;
    if (i >= this.offsetLow.data.length) for (const c of this.allColumns()) c.reserve(i);
    // Summed in a fixed order (by name) so the total does not depend on key order in the line.
    let sum = 0;
    let any = false;
    const rv = this.rankValue;
    for (let r = 0; r < rv.length; r++) {
      const v = rv[r]!;
      if (v === v) {
        sum += v;
        any = true;
        rv[r] = NaN;
      }
    }
    const total = !Number.isNaN(reward) ? reward : any ? sum : NaN;
    this.offsetLow.data[i] = offset % 2 ** 32;
    this.offsetHigh.set(i, Math.floor(offset / 2 ** 32), this.offsetLow.data.length);
    this.byteLength.data[i] = bytes;
    this.line.data[i] = line;
    this.step.data[i] = step;
    this.index.data[i] = index;
    this.total.data[i] = total;
    this.advantage.data[i] = advantage;
    this.length.data[i] = length;
    this.flags.data[i] = flags;
    this.completionAt.set(i, completionAt, this.offsetLow.data.length);
    this.group.data[i] = this.groups.add(group, i, step, total);
    this.count = i + 1;
  }

  /** Stores the current line's logged rewards in their columns at row `count`. */
  private setRewards(names: readonly string[], values: readonly number[]): void {
    const i = this.count;
    if (i >= this.offsetLow.data.length) for (const c of this.allColumns()) c.reserve(i);
    for (const name of names) if (!this.rewards.has(name)) this.addRewardColumn(name); // ranks settle first
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      this.rewards.get(name)!.data[i] = values[k]!;
      this.rankValue[this.rankOf.get(name)!] = values[k]!;
    }
  }

  /**
   * Adds one canonical record (any adapter's) as a row: its logged values, length and format
   * check from the record, its body's place to read it back. Returns the row.
   */
  addRecord(rec: RolloutRecord, source: { file: string; line: number }, body: BodyPlace, group: string): number {
    const names = Object.keys(rec.rewards ?? {});
    this.setRewards(names, names.map((n) => rec.rewards![n]!));
    const text = completionText(rec);
    const i = this.count;
    this.addRow(body.offset, body.bytes, source.line, rec.step ?? -1, group, rec.index ?? -1, rec.reward ?? NaN, rec.advantage ?? NaN,
      Buffer.byteLength(text), FLAG.fullParse | (formatMatches(text) ? FLAG.formatOk : 0), NO_COMPLETION_AT);
    this.fileOf.set(i, this.idOf(this.files, this.fileIds, source.file), this.offsetLow.data.length);
    const b = this.idOf(this.bodies, this.bodyIds, body.path);
    this.bodyOf.set(i, b, this.offsetLow.data.length);
    if (body.spilled) this.spilledBodies.add(b);
    this.groups.notePrompt(this.group.data[i]!, i, rec.prompt);
    return i;
  }

  /** Stores row `i`'s recomputed rewards and total (its advantage comes when its group settles). */
  setScore(i: number, score: Pick<RecordScore, 'rewards' | 'reward'>): void {
    for (const [name, value] of Object.entries(score.rewards)) {
      if (value === undefined) continue;
      let col = this.scored.get(name);
      if (!col) {
        col = f32(NaN);
        col.fit(this.offsetLow.data.length);
        this.scored.set(name, col);
      }
      col.data[i] = value;
    }
    this.scoredTotal.data[i] = score.reward;
    this.flags.data[i] = this.flags.data[i]! | FLAG.scored;
  }

  /** Forgets every recomputed value (a new reward variant scores again). */
  clearScores(): void {
    for (const col of this.scored.values()) col.data.fill(NaN);
    this.scored.clear();
    this.scoredTotal.data.fill(NaN);
    this.scoredAdvantage.data.fill(NaN);
  }

  /** The file row `i` came from. */
  fileAt(i: number): string {
    return this.files[this.fileOf.get(i)]!;
  }

  /** Removes row `i` from its group (its file was truncated and is read again): its columns stay, unreferenced. */
  dropRow(i: number): void {
    const g = this.group.data[i]!;
    if (g < 0) return;
    this.group.data[i] = -1;
    this.groups.size.data[g]!--;
    this.cache.delete(i);
  }

  private addRewardColumn(name: string): Column<Float32Array> {
    const col = f32(NaN);
    col.fit(this.offsetLow.data.length); // same capacity as the others, NaN above
    this.rewards.set(name, col);
    this.sortedRewardNames = [...this.rewards.keys()].sort();
    this.rankOf.clear();
    this.sortedRewardNames.forEach((n, r) => this.rankOf.set(n, r));
    this.rankValue = new Float64Array(this.sortedRewardNames.length).fill(NaN);
    return col;
  }

  /** Reward function names seen so far, sorted. */
  get rewardNames(): readonly string[] {
    return this.sortedRewardNames;
  }

  private allColumns(): AnyColumn[] {
    return [this.fileOf, this.bodyOf, this.offsetLow, this.offsetHigh, this.byteLength, this.line, this.step, this.group, this.index,
      this.total, this.advantage, this.length, this.flags, this.completionAt, this.scoredTotal, this.scoredAdvantage, this.verdict,
      this.verdictType, ...this.rewards.values(), ...this.scored.values()];
  }

  private fit(): void {
    for (const c of this.allColumns()) c.fit(this.count);
    this.groups.fit();
  }

  /** Forgets everything (the file was truncated or replaced). */
  clear(): void {
    this.count = 0;
    this.badLines.length = 0;
    this.groups.clear();
    this.rewards.clear();
    this.scored.clear();
    this.sortedRewardNames = [];
    this.rankOf.clear();
    this.rankValue = new Float64Array(0);
    this.cache.clear();
    this.splitter = this.newSplitter(0, 0);
    this.derivedKeys = new GroupKeys();
    this.fit();
  }

  /** Index memory: every typed array's bytes plus the group table (keys estimated). */
  memoryBytes(): { total: number; perCompletion: number } {
    let total = this.groups.byteSize();
    for (const c of this.allColumns()) total += c.data.byteLength;
    return { total, perCompletion: this.count ? total / this.count : 0 };
  }

  /** Byte offset of row `i`'s body in its body file. */
  offsetOf(i: number): number {
    return this.offsetLow.data[i]! + this.offsetHigh.get(i) * 2 ** 32;
  }

  zeroVariance(row: number): boolean {
    return this.groups.zeroVariance(this.group.data[row]!);
  }

  /** Rows of group `g` in file order. */
  groupRows(g: number): Int32Array {
    const first = this.groups.first.data[g]!;
    const n = this.groups.size.data[g]!;
    if (this.groups.contiguous(g)) return Int32Array.from({ length: n }, (_, k) => first + k);
    const out = new Int32Array(n);
    let k = 0;
    const last = this.groups.last.data[g]!;
    for (let i = first; i <= last && k < n; i++) if (this.group.data[i] === g) out[k++] = i;
    return k === n ? out : out.subarray(0, k);
  }

  /** The id of `path` in `list`, added when new. */
  private idOf(list: string[], ids: Map<string, number>, path: string): number {
    let id = ids.get(path) ?? list.indexOf(path);
    if (id < 0) {
      if (list.length >= 0xffff) throw new Error('more than 65535 files in one rollout source');
      id = list.push(path) - 1;
    }
    ids.set(path, id);
    return id;
  }

  /** A read handle on body file `b`, opened once (reads that start together share the one open). */
  handle(b: number): Promise<FileHandle> {
    let fh = this.handles.get(b);
    if (!fh) this.handles.set(b, (fh = open(this.bodies[b]!, 'r')));
    return fh;
  }

  /** The full record of row `i`, read back from its body file (cached). */
  async readRecord(i: number): Promise<LocatedRow> {
    const hit = this.cache.get(i);
    if (hit) return hit;
    const len = this.byteLength.data[i]!;
    const buf = Buffer.allocUnsafe(len);
    await (await this.handle(this.bodyOf.get(i))).read(buf, 0, len, this.offsetOf(i));
    return this.parseRow(i, buf);
  }

  /** The records of group `g`, in row order: one read when its rows are consecutive in one body file. */
  async readGroup(g: number): Promise<LocatedRow[]> {
    const rows = this.groupRows(g);
    if (!this.groups.contiguous(g) || rows.length === 0 || rows.every((r) => this.cache.has(r)) || !this.oneSpan(rows)) {
      return Promise.all(Array.from(rows, (r) => this.readRecord(r)));
    }
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    const start = this.offsetOf(first);
    const span = this.offsetOf(last) + this.byteLength.data[last]! - start;
    const buf = Buffer.allocUnsafe(span);
    await (await this.handle(this.bodyOf.get(first))).read(buf, 0, span, start);
    return Array.from(rows, (r) => {
      const at = this.offsetOf(r) - start;
      return this.cache.get(r) ?? this.parseRow(r, buf.subarray(at, at + this.byteLength.data[r]!));
    });
  }

  /** Rows lie in one body file in increasing offsets, so one read covers them. */
  private oneSpan(rows: Int32Array): boolean {
    const b = this.bodyOf.get(rows[0]!);
    for (let k = 1; k < rows.length; k++) {
      if (this.bodyOf.get(rows[k]!) !== b || this.offsetOf(rows[k]!) < this.offsetOf(rows[k - 1]!)) return false;
    }
    return true;
  }

  /** Row `i`'s record from its body's bytes (a spilled body is our own canonical JSON, trusted). */
  parseRow(i: number, bytes: Buffer, cache = true): LocatedRow {
    const line = this.line.data[i]!;
    const file = this.fileAt(i);
    const b = this.bodyOf.get(i);
    const spilled = this.spilledBodies.has(b);
    const offset = this.offsetOf(i);
    let record: RolloutRecord;
    if (spilled) record = JSON.parse(bytes.toString('utf8')) as RolloutRecord;
    else {
      const d = decodeLine(bytes, offset);
      const r = d.ok ? parseRecordLine(d.text) : { ok: false as const, error: d.error };
      if (!r.ok) throw new RowReadError({ line, file, error: r.error });
      record = r.record;
    }
    const row: LocatedRow = { record, loc: spilled ? { file, line } : { file, line, offset } };
    if (cache) this.cache.set(i, row);
    return row;
  }

  async close(): Promise<void> {
    const opened = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(opened.map((p) => p.then((fh) => fh.close(), () => undefined)));
  }

  /** Drops spare column room beyond `count` plus `headroom` of it (a followed source keeps some for what comes next). */
  trim(headroom = 1 / 16): void {
    const keep = this.count + Math.ceil(this.count * headroom);
    for (const c of this.allColumns()) if (c.data.length > keep) c.fit(keep);
    this.groups.trim(headroom);
  }
}


