/**
 * What one viewer shows of a rollout source, served from the rollout index: records of any
 * format go in as a follower reads them (`append`), are scored at once and dropped; the index
 * keeps their numbers and where each body can be read back (a native line in its own file, or a
 * line of a spill file for the other formats). `settle` rescores only the groups a batch touched
 * and updates the filtered list in place; the list, a group's records and a judge's records are
 * read back on demand. The filter runs on the index's one evaluator (src/core/index/filter.ts).
 * Pure core: the host supplies records and settings, and asks for rows.
 */
import type { BadLine, RolloutRecord } from '../schema/record';
import { completionText } from '../schema/record';
import type { LocatedRecord } from '../ingest/types';
import { readRollouts } from '../ingest/v1Reader';
import { scoreRecord, isVariantName, type RecordScore, type VariantName } from '../rewards/variants';
import { groupAdvantages } from '../rewards/group';
import { RolloutIndex, VERDICT_CODE, VERDICT_TYPE_CODE, type BodyPlace, type LocatedRow } from '../index/rolloutIndex';
import { SpillFile } from '../index/spill';
import { GROUP_FLAG_BITS, scoreRow, settleGroup, type RowScoreOptions } from '../index/score';
import { bodyLeaves, bodyTerms, columnValue, evaluateRows, sortedOrder } from '../index/filter';
import { bodyTermMatches } from '../index/recordTerms';
import { forEachRecord } from '../index/bodyScan';
import { FLAG, u8, type Column } from '../index/columns';
import type { QueryNode } from '../index/query';
import { readFilterText, type FilterText } from './filterText';
import { GROUP_FLAGS, type GroupFlag, type GroupRow, type RowFilter, type VerdictView } from './types';

/** A record with the trainer's file and line (what the judge and the verdict caches key on). */
export interface LoadedRecord {
  record: RolloutRecord;
  file: string;
  line: number;
}

export interface ScoreOptions {
  variant: string;
  matching: 'seed' | 'optimal';
  minPixels: number;
  maxPixels: number;
}

/** A member's recomputed score plus its group-relative advantage. */
export interface MemberScore extends RecordScore {
  advantage: number;
}

export interface GroupInfo {
  key: string;
  step: number | null;
  /** Completions in the group now. */
  size: number;
}

export interface GroupScore {
  flags: GroupFlag[];
  /** Spread of the totals the zero-variance flag looks at: logged when every member has one, else recomputed. */
  min: number | null;
  max: number | null;
  mean: number | null;
}

/** What a `settle` changed. */
export interface SettleResult {
  added: number;
  /** Keys of groups that existed before and gained members. */
  grew: string[];
  /** The filtered list changed in a way other than growing at its end. */
  reordered: boolean;
  /** Ids of every group this settle scored (new and grown), ascending. */
  touched: number[];
}

/** Told of every record as it is scored (on arrival, and again on a rescore): what a view over the same rows keeps beside the index (the Run Overview's box IoUs). */
export type ScoredListener = (row: number, record: RolloutRecord, score: RecordScore) => void;

/** Why the filter text could not be applied (the previous filter stays). */
export interface FilterProblem {
  message: string;
  column: number;
}

/** The judge's verdict on a record, if any (the host reads the verdict caches). */
export type RecordVerdicts = (l: LoadedRecord) => VerdictView | null;

const SNIPPET = 120;

export class RolloutView {
  index = new RolloutIndex();
  readonly badLines: BadLine[] = [];
  /** Reward functions any record logged, for the query's `reward.<name>` check. */
  readonly rewardNames = new Set<string>();
  /** Meta keys any record has, for the query's `meta.<key>` check (a Set: keys are file content). */
  readonly metaKeys = new Set<string>();
  /** Native v1 lines are read back from their own file; any other format's records are spilled. */
  readBack = false;
  private spill: SpillFile | null = null;
  /** A scanned native file's rows not scored yet: `[from, to)` (see `scanNative`). */
  private unscored = { from: 0, to: 0 };
  private scanning: Promise<unknown> | null = null;
  /** The scoring pass over scanned rows, cancelled by a truncation or a rescore (which covers it). */
  private scoringRun: AbortController | null = null;
  private filtered: number[] = [];
  private sorted: number[] | null = null;
  private filter: RowFilter = { text: '', flags: [] };
  private reading: FilterText = { kind: 'none' };
  private readonly dirty = new Set<number>();
  private settledGroups = 0;
  private dropped = 0;
  filterProblem: FilterProblem | null = null;
  private verdictLookup: RecordVerdicts | null = null;
  /** Per row: the current query holds (1) or not; 1 everywhere without a query. */
  private rowMask = u8();
  /** The body terms (text, meta) of the query in force or being applied, per row, kept as records arrive. */
  private leaves = new Map<QueryNode, Column<Uint8Array>>();
  private filterRun: AbortController | null = null;
  private readonly scoredListeners = new Set<ScoredListener>();

  constructor(private options: ScoreOptions) {}

  /** Reads native v1 files whole and settles (tests, scripts); the viewer appends as a follower reads. */
  static async load(files: readonly string[], options: ScoreOptions): Promise<RolloutView> {
    const view = new RolloutView(options);
    view.readBack = true;
    for (const file of files) {
      const batch: LocatedRecord[] = [];
      const result = await readRollouts(file, (record, loc) => batch.push({ record, loc }));
      view.append(batch, result.badLines.map((b) => ({ ...b, file })));
    }
    view.settle();
    return view;
  }

  /** Calls `fn` for every record scored from now on; returns the unsubscribe. */
  onScored(fn: ScoredListener): () => void {
    this.scoredListeners.add(fn);
    return () => this.scoredListeners.delete(fn);
  }

  private get scoring(): RowScoreOptions {
    const o = this.options;
    const variant: VariantName = isVariantName(o.variant) ? o.variant : 'grounding';
    return { variant, matching: o.matching, minPixels: o.minPixels, maxPixels: o.maxPixels };
  }

  /** Adds records in arrival order (scored now, bodies left where they can be read back); groups they join settle at the next `settle`. */
  append(items: readonly LocatedRecord[], badLines: readonly BadLine[] = []): void {
    for (const b of badLines) this.badLines.push(b);
    if (items.length === 0) return;
    const places = this.bodiesOf(items);
    const index = this.index;
    const scoring = this.scoring;
    items.forEach(({ record, loc }, k) => {
      for (const name of Object.keys(record.rewards ?? {})) this.rewardNames.add(name);
      for (const key of Object.keys(record.meta ?? {})) this.metaKeys.add(key);
      const row = index.addRecord(record, loc, places[k]!, index.groupKeyOf(record));
      this.rowMask.reserve(row);
      for (const [node, col] of this.leaves) {
        col.reserve(row);
        col.data[row] = bodyTermMatches(node, record) ? 1 : 0;
      }
      const score = scoreRow(index, row, record, scoring);
      for (const fn of this.scoredListeners) fn(row, record, score);
      if (this.verdictLookup) this.setVerdict(row, this.verdictLookup({ record, file: loc.file, line: loc.line }));
      this.dirty.add(index.group.data[row]!);
    });
  }

  private bodiesOf(items: readonly LocatedRecord[]): BodyPlace[] {
    if (this.readBack && items.every((i) => i.loc.offset !== undefined && i.loc.bytes !== undefined)) {
      return items.map((i) => ({ path: i.loc.file, offset: i.loc.offset!, bytes: i.loc.bytes! }));
    }
    return (this.spill ??= new SpillFile()).append(items.map((i) => i.record));
  }

  private setVerdict(row: number, v: VerdictView | null): void {
    const code = !v ? VERDICT_CODE.unjudged : v.failed !== undefined ? VERDICT_CODE.failed
      : v.aligns === true ? VERDICT_CODE.aligned : v.aligns === false ? VERDICT_CODE.misaligned : VERDICT_CODE.uncertain;
    const cap = this.index.offsetLow.data.length;
    this.index.verdict.set(row, code, cap);
    this.index.verdictType.set(row, v && v.failed === undefined && v.type ? VERDICT_TYPE_CODE[v.type as keyof typeof VERDICT_TYPE_CODE] ?? 0 : 0, cap);
  }

  /** Settles the groups appended to since the last settle and updates the filtered list. */
  settle(): SettleResult {
    const before = this.settledGroups;
    const grew: string[] = [];
    let reordered = false;
    const touched = [...this.dirty].filter((g) => g >= 0).sort((a, b) => a - b);
    this.dirty.clear();
    for (const g of touched) {
      settleGroup(this.index, g);
      this.maskGroup(g);
      if (g >= before) {
        if (this.passes(g)) this.filtered.push(g);
        continue;
      }
      grew.push(this.index.groups.keys[g]!);
      const at = lowerBound(this.filtered, g);
      const listed = this.filtered[at] === g;
      const pass = this.passes(g);
      if (pass !== listed) {
        reordered = true;
        if (pass) this.filtered.splice(at, 0, g);
        else this.filtered.splice(at, 1);
      }
    }
    this.settledGroups = this.index.groups.count;
    if (this.reading.kind !== 'error' && this.reading.sort && touched.length) this.sortList();
    return { added: this.index.groups.count - before, grew, reordered, touched };
  }

  /**
   * A truncated file is read again from its start: its rows leave their groups (their columns
   * stay, unreferenced), the groups they were in settle again, and the list is rebuilt.
   */
  dropFile(file: string): void {
    const index = this.index;
    const id = index.files.indexOf(file);
    for (let k = this.badLines.length - 1; k >= 0; k--) if (this.badLines[k]!.file === file) this.badLines.splice(k, 1);
    if (id < 0) return;
    let others = 0;
    for (let r = 0; r < index.count && others === 0; r++) if (index.fileOf.get(r) !== id && index.group.data[r]! >= 0) others++;
    if (others === 0) {
      this.startOver();
      return;
    }
    const touched = new Set<number>();
    for (let r = 0; r < index.count; r++) {
      if (index.fileOf.get(r) !== id || index.group.data[r]! < 0) continue;
      touched.add(index.group.data[r]!);
      index.dropRow(r);
      this.dropped++;
    }
    for (const g of touched) {
      index.groups.recount(g, Array.from(index.groupRows(g), (r) => index.total.data[r]!));
      settleGroup(index, g);
      this.maskGroup(g);
    }
    this.refilter();
  }

  /**
   * Opens a native v1 file by scanning its bytes without parsing them: every group is listed
   * and filterable on the logged values at the index build's speed. `scoreScanned` then reads
   * the bodies back once to score them (the flags fill in); records a follower appends after
   * `resumeAt` go through `append` as usual. The view must be empty.
   */
  async scanNative(file: string, opts: { signal?: AbortSignal; onProgress?: (bytes: number, total: number) => void } = {}): Promise<{ offset: number; lines: number }> {
    if (this.index.count > 0) throw new Error('scanNative needs an empty view');
    void this.index.close();
    const index = (this.index = new RolloutIndex(file));
    this.readBack = true;
    let listed = 0;
    const scan = index.update({
      follow: true,
      signal: opts.signal,
      onProgress: (p) => {
        // The first rows show while the scan goes on: groups that gained rows settle on the logged values.
        for (let g = 0; g < index.groups.count; g++) if (index.groups.last.data[g]! >= listed) settleGroup(index, g);
        listed = index.count;
        this.settledGroups = index.groups.count;
        if (!this.leaves.size) {
          this.maskAll();
          this.refilter();
        }
        opts.onProgress?.(p.bytes, p.totalBytes);
      },
    });
    this.scanning = scan;
    try {
      await scan;
    } finally {
      this.scanning = null;
    }
    for (const b of index.badLines) this.badLines.push(b);
    for (const n of index.rewardNames) this.rewardNames.add(n);
    this.unscored = { from: 0, to: index.count };
    // Listed at once on what the trainer logged; scored rows settle again as they are scored.
    for (let g = 0; g < index.groups.count; g++) settleGroup(index, g);
    this.settledGroups = index.groups.count;
    await this.refreshLeaves();
    this.maskAll();
    this.refilter();
    return index.resumeAt;
  }

  /** Completions scanned but not yet scored (0 once `scoreScanned` is through). */
  get unscoredCount(): number {
    return this.unscored.to - this.unscored.from;
  }

  /**
   * Scores the rows `scanNative` listed, reading their bodies back once, in batches: after each
   * batch the groups it touched settle and `onBatch` is told (the list's flags fill in). A row
   * whose line does not parse becomes a bad line (the scan does not validate every field).
   */
  async scoreScanned(opts: { signal?: AbortSignal; onBatch?: () => void } = {}): Promise<void> {
    const { from, to } = this.unscored;
    if (from >= to) return;
    const run = (this.scoringRun = new AbortController());
    opts.signal?.addEventListener('abort', () => run.abort(opts.signal?.reason));
    const index = this.index;
    const scoring = this.scoring;
    const touched = new Set<number>();
    const only = Int32Array.from({ length: to - from }, (_, k) => from + k);
    await forEachRecord(index, to, (row, r) => {
      const rec = r.record;
      for (const key of Object.keys(rec.meta ?? {})) this.metaKeys.add(key);
      const score = scoreRow(index, row, rec, scoring);
      for (const fn of this.scoredListeners) fn(row, rec, score);
      if (this.verdictLookup) this.setVerdict(row, this.verdictLookup({ record: rec, file: r.loc.file, line: r.loc.line }));
      touched.add(index.group.data[row]!);
      this.unscored.from = Math.max(this.unscored.from, row + 1);
    }, {
      only,
      signal: run.signal,
      onBad: (row, e) => {
        this.badLines.push(e.bad);
        touched.add(index.group.data[row]!);
        index.dropRow(row);
        this.dropped++;
      },
      afterBatch: () => {
        for (const g of touched) {
          settleGroup(index, g);
          this.maskGroup(g);
        }
        touched.clear();
        this.refilter();
        opts.onBatch?.();
      },
    });
    if (this.scoringRun === run) this.scoringRun = null;
    this.unscored = { from: to, to };
  }

  /** The body terms of the filter in force, for every row (after rows arrived without `append`). */
  private async refreshLeaves(): Promise<void> {
    const node = this.node;
    if (!node || this.leaves.size === 0) return;
    const n = this.index.count;
    const masks = await bodyLeaves(this.index, node, n);
    for (const [t, m] of masks) {
      const col = u8();
      col.reserve(Math.max(0, n - 1), true);
      col.data.set(m.subarray(0, n));
      this.leaves.set(t, col);
    }
  }

  /** The source's only file was truncated: a new index, groups counted afresh (the filter stays). */
  private startOver(): void {
    const old = this.index;
    this.scoringRun?.abort();
    this.scoringRun = null;
    void old.close();
    this.index = new RolloutIndex();
    this.unscored = { from: 0, to: 0 };
    this.dirty.clear();
    this.settledGroups = 0;
    this.dropped = 0;
    this.filtered = [];
    this.sorted = null;
    this.rowMask = u8();
    for (const t of [...this.leaves.keys()]) this.leaves.set(t, u8());
    this.spill?.close();
    this.spill = null;
  }

  /** Where verdicts come from, and a fresh look at every record's (their bodies are read back). */
  async setVerdicts(lookup: RecordVerdicts | null): Promise<void> {
    this.verdictLookup = lookup;
    const index = this.index;
    const n = index.count;
    if (!lookup) index.verdict.data.fill(0);
    else await forEachRecord(index, n, (row, r) => this.setVerdict(row, lookup({ record: r.record, file: r.loc.file, line: r.loc.line })));
    this.resettleAll();
  }

  /** The verdict on a record read back from row `row`, or null. */
  verdictOf(row: LocatedRow): VerdictView | null {
    return this.verdictLookup ? this.verdictLookup({ record: row.record, file: row.loc.file, line: row.loc.line }) : null;
  }

  /** Scores every record again under `options` (their bodies are read back once), then every group. */
  async rescore(options: ScoreOptions): Promise<void> {
    this.options = options;
    const index = this.index;
    const scoring = this.scoring;
    // Every row is scored here: a scoring pass over scanned rows has nothing left to do.
    this.scoringRun?.abort();
    this.scoringRun = null;
    this.unscored = { from: index.count, to: index.count };
    index.clearScores();
    await forEachRecord(index, index.count, (row, r) => {
      for (const key of Object.keys(r.record.meta ?? {})) this.metaKeys.add(key);
      const score = scoreRow(index, row, r.record, scoring);
      for (const fn of this.scoredListeners) fn(row, r.record, score);
    });
    this.resettleAll();
  }

  private resettleAll(): void {
    for (let g = 0; g < this.index.groups.count; g++) {
      settleGroup(this.index, g);
      this.maskGroup(g);
    }
    this.dirty.clear();
    this.settledGroups = this.index.groups.count;
    this.refilter();
  }

  /** Every member's record (read back) with its full score, scored boxes included, for the group view. */
  async membersOf(g: number): Promise<{ rows: LocatedRow[]; scores: MemberScore[] }> {
    const rows = await this.index.readGroup(g);
    const s = this.scoring;
    const scored = rows.map((r) => scoreRecord(r.record, s.variant, s));
    const adv = groupAdvantages(scored.map((x) => x.reward));
    return { rows, scores: scored.map((x, k) => ({ ...x, advantage: adv.advantages[k] ?? 0 })) };
  }

  /** The records of groups, read back, in group order (what a judge command covers). */
  async recordsOf(groups: readonly number[]): Promise<LoadedRecord[]> {
    const out: LoadedRecord[] = [];
    for (const g of groups) for (const r of await this.index.readGroup(g)) out.push({ record: r.record, file: r.loc.file, line: r.loc.line });
    return out;
  }

  get completionCount(): number {
    return this.index.count - this.dropped;
  }

  /** Groups with members. */
  get groupCount(): number {
    let n = 0;
    const size = this.index.groups.size.data;
    for (let g = 0; g < this.index.groups.count; g++) if (size[g]! > 0) n++;
    return n;
  }

  get filteredCount(): number {
    return this.filtered.length;
  }

  /** True when the list runs newest first (latest-written groups at the top). */
  get newestFirst(): boolean {
    return this.filter.order === 'newest';
  }

  groupIndex(key: string): number | undefined {
    const g = this.index.groups.id(key);
    return g !== undefined && this.index.groups.size.data[g]! > 0 ? g : undefined;
  }

  group(g: number): GroupInfo {
    const gt = this.index.groups;
    const step = gt.step.data[g]!;
    return { key: gt.keys[g]!, step: step < 0 ? null : step, size: gt.size.data[g]! };
  }

  scoreOf(g: number): GroupScore {
    const gt = this.index.groups;
    const num = (x: number): number | null => (Number.isNaN(x) ? null : Number(x.toPrecision(7)));
    return { flags: flagNames(gt.flags.data[g]!), min: num(gt.lo.data[g]!), max: num(gt.hi.data[g]!), mean: num(gt.mean.data[g]!) };
  }

  /** Groups of `step` with members, in file order. */
  groupsOfStep(step: number | null): number[] {
    const gt = this.index.groups;
    const want = step ?? -1;
    const out: number[] = [];
    for (let g = 0; g < gt.count; g++) if (gt.step.data[g] === want && gt.size.data[g]! > 0) out.push(g);
    return out;
  }

  /** Position of a group in the filtered list, or -1. */
  ordinalOf(key: string): number {
    const g = this.groupIndex(key);
    if (g === undefined) return -1;
    if (this.sorted) return this.sorted.indexOf(g);
    const at = lowerBound(this.filtered, g);
    if (this.filtered[at] !== g) return -1;
    return this.newestFirst ? this.filtered.length - 1 - at : at;
  }

  keyAt(ordinal: number): string | undefined {
    const g = this.groupAt(ordinal);
    return g === undefined ? undefined : this.index.groups.keys[g];
  }

  /** The first group of `step` in the list as it is shown, or undefined. */
  firstOfStep(step: number): { key: string; ordinal: number } | undefined {
    const st = this.index.groups.step.data;
    for (let o = 0; o < this.filtered.length; o++) {
      const g = this.groupAt(o)!;
      if (st[g] === step) return { key: this.index.groups.keys[g]!, ordinal: o };
    }
    return undefined;
  }

  /** Group ids in the list as shown. */
  listedGroups(): number[] {
    return Array.from({ length: this.filtered.length }, (_, o) => this.groupAt(o)!);
  }

  private groupAt(ordinal: number): number | undefined {
    if (ordinal < 0 || ordinal >= this.filtered.length) return undefined;
    if (this.sorted) return this.sorted[ordinal];
    return this.filtered[this.newestFirst ? this.filtered.length - 1 - ordinal : ordinal];
  }

  /**
   * Applies a filter and resolves with the filtered count. Text that reads as a query but does
   * not parse keeps the previous filter (and sets `filterProblem`), so the list is not cleared.
   * A query with text or meta terms reads the bodies back once; a newer filter cancels it.
   */
  async applyFilter(filter: RowFilter): Promise<number> {
    this.filterRun?.abort();
    // While a scanned file is being scored its meta keys are not all known yet: no typo check then.
    const reading = readFilterText(filter.text, this.index.rewardNames.length ? new Set([...this.rewardNames, ...this.index.rewardNames]) : this.rewardNames,
      this.unscoredCount > 0 || this.scanning ? undefined : this.metaKeys);
    if (reading.kind === 'error') {
      this.filterProblem = { message: reading.message, column: reading.column };
      this.filter = { ...this.filter, flags: filter.flags, order: filter.order };
      this.refilter();
      return this.filtered.length;
    }
    const node = reading.kind === 'none' ? null : reading.node;
    const terms = node ? bodyTerms(node) : [];
    // Body terms read every row's body: a scan in progress finishes first.
    if (terms.length && this.scanning) await this.scanning.catch(() => undefined);
    if (terms.length) {
      const run = (this.filterRun = new AbortController());
      // Records arriving while the bodies are read fill the new terms' columns as they come.
      const fresh = new Map<QueryNode, Column<Uint8Array>>();
      for (const t of terms) {
        const col = u8();
        col.reserve(Math.max(0, this.index.count - 1), true);
        fresh.set(t, col);
        this.leaves.set(t, col);
      }
      const n = this.index.count;
      const masks = await bodyLeaves(this.index, node!, n, run.signal).catch((e: unknown) => {
        if (run.signal.aborted) return null;
        throw e;
      });
      if (!masks || run.signal.aborted) return this.filtered.length;
      for (const [t, m] of masks) fresh.get(t)!.data.set(m.subarray(0, n));
      this.filterRun = null;
    }
    for (const t of [...this.leaves.keys()]) if (!terms.includes(t)) this.leaves.delete(t);
    this.filterProblem = null;
    this.filter = filter;
    this.reading = reading;
    this.maskAll();
    this.refilter();
    return this.filtered.length;
  }

  /** What the filter text was read as: a query, plain words, or nothing. */
  get filterKind(): FilterText['kind'] {
    return this.filterProblem ? 'error' : this.reading.kind;
  }

  private get node(): QueryNode | null {
    return this.reading.kind === 'query' || this.reading.kind === 'words' ? this.reading.node : null;
  }

  private leafMask = (node: QueryNode): Uint8Array | undefined => this.leaves.get(node)?.data;

  /** Every row's result under the current query. */
  private maskAll(): void {
    const n = this.index.count;
    this.rowMask.reserve(Math.max(0, n - 1), true);
    const node = this.node;
    if (!node) this.rowMask.data.fill(1);
    else this.rowMask.data.set(evaluateRows(this.index, node, null, n, this.leafMask));
  }

  /** Group `g`'s rows' results under the current query (their group-level terms may have changed). */
  private maskGroup(g: number): void {
    const rows = this.index.groupRows(g);
    const node = this.node;
    if (!node) {
      for (const r of rows) this.rowMask.data[r] = 1;
      return;
    }
    const m = evaluateRows(this.index, node, rows, this.index.count, this.leafMask);
    rows.forEach((r, k) => (this.rowMask.data[r] = m[k]!));
  }

  private refilter(): void {
    this.filtered = [];
    for (let g = 0; g < this.settledGroups; g++) if (this.passes(g)) this.filtered.push(g);
    this.sortList();
  }

  private passes(g: number): boolean {
    const gt = this.index.groups;
    if (gt.size.data[g]! === 0) return false;
    const bits = gt.flags.data[g]!;
    if (!this.filter.flags.every((f) => (bits & GROUP_FLAG_BITS[f]) !== 0)) return false;
    if (!this.node) return true;
    return this.index.groupRows(g).some((r) => this.rowMask.data[r] === 1);
  }

  /** Every live row the current query holds for, in row order (the source's reading order). */
  matchedRows(): Int32Array {
    const index = this.index;
    const out: number[] = [];
    const node = this.node;
    for (let r = 0; r < index.count; r++) {
      const g = index.group.data[r]!;
      if (g >= 0 && g < this.settledGroups && (!node || this.rowMask.data[r] === 1)) out.push(r);
    }
    return Int32Array.from(out);
  }

  /** Rows of group `g` that match the current query (all of them without one). */
  matchingRows(g: number): Int32Array {
    const rows = this.index.groupRows(g);
    return this.node ? rows.filter((r) => this.rowMask.data[r] === 1) : rows;
  }

  /**
   * Orders the list by the sort clause: a group's key is its matching completions' largest value
   * (descending) or smallest (ascending); groups without one go last; ties keep file order.
   */
  private sortList(): void {
    const spec = this.reading.kind === 'error' ? undefined : this.reading.sort;
    if (!spec) {
      this.sorted = null;
      return;
    }
    const keys = new Float64Array(this.filtered.length);
    this.filtered.forEach((g, k) => {
      let best = NaN;
      for (const r of this.matchingRows(g)) {
        const v = columnValue(this.index, spec.column, r);
        if (Number.isNaN(v)) continue;
        if (Number.isNaN(best) || (spec.descending ? v > best : v < best)) best = v;
      }
      keys[k] = best;
    });
    this.sorted = Array.from(sortedOrder(keys, spec.descending), (k) => this.filtered[k]!);
  }

  /** The list's rows `[start, start + count)`; each prompt snippet is read back from the group's first record. */
  async rows(start: number, count: number): Promise<GroupRow[]> {
    const out: GroupRow[] = [];
    const end = Math.min(this.filtered.length, start + Math.max(0, count));
    for (let o = Math.max(0, start); o < end; o++) {
      const g = this.groupAt(o)!;
      const info = this.group(g);
      const s = this.scoreOf(g);
      const first = (await this.index.readRecord(this.index.groupRows(g)[0]!)).record;
      const prompt = (first.prompt?.text ?? completionText(first)).replace(/\s+/g, ' ').trim();
      out.push({
        key: info.key,
        ordinal: o,
        step: info.step,
        promptSnippet: prompt.length > SNIPPET ? prompt.slice(0, SNIPPET - 1) + '…' : prompt,
        size: info.size,
        rewardMin: s.min,
        rewardMax: s.max,
        rewardMean: s.mean,
        flags: s.flags,
      });
    }
    return out;
  }

  /** Drops spare column room once the first read is done (a followed source keeps a little). */
  trim(): void {
    this.index.trim();
    const keep = this.index.count + Math.ceil(this.index.count / 16);
    if (this.rowMask.data.length > keep) this.rowMask.fit(keep);
    for (const col of this.leaves.values()) if (col.data.length > keep) col.fit(keep);
  }

  /** Index and view memory in bytes (typed columns exactly, group keys estimated). */
  memoryBytes(): number {
    let view = this.rowMask.data.byteLength + this.filtered.length * 8;
    for (const col of this.leaves.values()) view += col.data.byteLength;
    return this.index.memoryBytes().total + view;
  }

  /** True when row `r` logged values that differ from the recomputed ones. */
  mismatchAt(r: number): boolean {
    return (this.index.flags.data[r]! & FLAG.mismatch) !== 0;
  }

  async close(): Promise<void> {
    this.filterRun?.abort();
    this.scoringRun?.abort();
    await this.index.close();
    this.spill?.close();
    this.spill = null;
  }
}

function flagNames(bits: number): GroupFlag[] {
  return GROUP_FLAGS.filter((f) => (bits & GROUP_FLAG_BITS[f]) !== 0);
}

/** First position in ascending `xs` holding a value ≥ x. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
