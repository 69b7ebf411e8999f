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
import type { LocatedRecord } from '../ingest/types';
import { readRollouts } from '../ingest/v1Reader';
import { scoreRecord, isVariantName, type RecordScore, type VariantName } from '../rewards/variants';
import { groupAdvantages } from '../rewards/group';
import { RolloutIndex, VERDICT_CODE, VERDICT_TYPE_CODE, type BodyPlace, type LocatedRow } from '../index/rolloutIndex';
import { SpillFile } from '../index/spill';
import { updateParallel } from '../index/parallel';
import { GROUP_FLAG_BITS, scoreRow, settleGroup, type RowScoreOptions } from '../index/score';
import { forEachRecord } from '../index/bodyScan';
import { FLAG } from '../index/columns';
import type { FilterText } from './filterText';
import { GroupList, type FilterProblem } from './groupList';

export type { FilterProblem } from './groupList';
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


/** The judge's verdict on a record, if any (the host reads the verdict caches). */
export type RecordVerdicts = (l: LoadedRecord) => VerdictView | null;

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
  private readonly dirty = new Set<number>();
  private settledGroups = 0;
  private dropped = 0;
  private verdictLookup: RecordVerdicts | null = null;
  /** The filtered list of groups the viewer shows. */
  readonly list: GroupList = new GroupList(this);
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
      this.list.onRecord(row, record);
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
      if (g < before) grew.push(this.index.groups.keys[g]!);
      if (this.list.settled(g, g >= before)) reordered = true;
    }
    this.settledGroups = this.index.groups.count;
    if (touched.length) this.list.resort();
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
      this.list.maskGroup(g);
    }
    this.list.refilter();
  }

  /**
   * Opens a native v1 file by scanning its bytes without parsing them: every group is listed
   * and filterable on the logged values at the index build's speed. `scoreScanned` then reads
   * the bodies back once to score them (the flags fill in); records a follower appends after
   * `resumeAt` go through `append` as usual. The view must be empty.
   */
  async scanNative(file: string, opts: { signal?: AbortSignal; onProgress?: (bytes: number, total: number, touched: readonly number[]) => void } = {}): Promise<{ offset: number; lines: number }> {
    if (this.index.count > 0) throw new Error('scanNative needs an empty view');
    void this.index.close();
    const index = (this.index = new RolloutIndex(file));
    this.readBack = true;
    let listed = 0;
    const scan = updateParallel(index, {
      follow: true,
      signal: opts.signal,
      onProgress: (p) => {
        // The first rows show while the scan goes on: groups that gained rows settle on the logged values.
        const touched: number[] = [];
        for (let g = 0; g < index.groups.count; g++) {
          if (index.groups.last.data[g]! < listed) continue;
          settleGroup(index, g);
          touched.push(g);
        }
        listed = index.count;
        this.settledGroups = index.groups.count;
        if (!this.list.hasBodyTerms) {
          this.list.maskAll();
          this.list.refilter();
        }
        opts.onProgress?.(p.bytes, p.totalBytes, touched);
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
    await this.list.refreshLeaves();
    this.list.maskAll();
    this.list.refilter();
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
  async scoreScanned(opts: { signal?: AbortSignal; onBatch?: (touched: readonly number[]) => void } = {}): Promise<void> {
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
        const groups = [...touched].filter((g) => g >= 0);
        touched.clear();
        for (const g of groups) {
          settleGroup(index, g);
          this.list.maskGroup(g);
        }
        this.list.refilter();
        opts.onBatch?.(groups);
      },
    });
    if (this.scoringRun === run) this.scoringRun = null;
    this.unscored = { from: to, to };
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
    this.list.reset();
    this.spill?.close();
    this.spill = null;
  }

  /** A judge run wrote `file`'s verdict cache: only that file's rows are looked up again (their bodies read back), only their groups settle. */
  async refreshVerdictsOf(file: string): Promise<void> {
    const lookup = this.verdictLookup;
    const index = this.index;
    const id = index.files.indexOf(file);
    if (!lookup || id < 0) return;
    const rows: number[] = [];
    for (let r = 0; r < index.count; r++) if (index.fileOf.get(r) === id && index.group.data[r]! >= 0) rows.push(r);
    const groups = new Set<number>();
    await forEachRecord(index, index.count, (row, r) => {
      this.setVerdict(row, lookup({ record: r.record, file: r.loc.file, line: r.loc.line }));
      groups.add(index.group.data[row]!);
    }, { only: rows });
    for (const g of groups) {
      settleGroup(index, g);
      this.list.maskGroup(g);
    }
    this.list.refilter();
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
      this.list.maskGroup(g);
    }
    this.dirty.clear();
    this.settledGroups = this.index.groups.count;
    this.list.refilter();
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
    return this.list.count;
  }

  /** Groups `[0, settledCount)` have settled (the list shows only those). */
  get settledCount(): number {
    return this.settledGroups;
  }

  /** A scanned file is still being scanned or scored: its meta keys are not all known yet. */
  get namesPartial(): boolean {
    return this.scanning !== null || this.unscoredCount > 0;
  }

  /** The scan in progress, if any. */
  get scanInProgress(): Promise<unknown> | null {
    return this.scanning;
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
    return g === undefined ? -1 : this.list.ordinalOf(g);
  }

  keyAt(ordinal: number): string | undefined {
    const g = this.list.groupAt(ordinal);
    return g === undefined ? undefined : this.index.groups.keys[g];
  }

  /** The first group of `step` in the list as it is shown, or undefined. */
  firstOfStep(step: number): { key: string; ordinal: number } | undefined {
    const hit = this.list.firstOfStep(step);
    return hit && { key: this.index.groups.keys[hit[0]]!, ordinal: hit[1] };
  }

  /** Group ids in the list as shown. */
  listedGroups(): number[] {
    return this.list.listed();
  }

  /** Applies a filter (GroupList.apply) and resolves with the filtered count. */
  applyFilter(filter: RowFilter): Promise<number> {
    return this.list.apply(filter);
  }

  get filterProblem(): FilterProblem | null {
    return this.list.filterProblem;
  }

  get filterKind(): FilterText['kind'] {
    return this.list.filterKind;
  }

  matchedRows(): Int32Array {
    return this.list.matchedRows();
  }

  matchingRows(g: number): Int32Array {
    return this.list.matchingRows(g);
  }

  rows(start: number, count: number): Promise<GroupRow[]> {
    return this.list.rows(start, count);
  }

  /** Drops spare column room once the first read is done (a followed source keeps a little). */
  trim(): void {
    this.index.trim();
    this.list.trim(this.index.count + Math.ceil(this.index.count / 16));
  }

  /** Index and view memory in bytes (typed columns exactly, group keys estimated). */
  memoryBytes(): number {
    return this.index.memoryBytes().total + this.list.bytes();
  }

  /** True when row `r` logged values that differ from the recomputed ones. */
  mismatchAt(r: number): boolean {
    return (this.index.flags.data[r]! & FLAG.mismatch) !== 0;
  }

  async close(): Promise<void> {
    this.list.abort();
    this.scoringRun?.abort();
    await this.index.close();
    this.spill?.close();
    this.spill = null;
  }
}

function flagNames(bits: number): GroupFlag[] {
  return GROUP_FLAGS.filter((f) => (bits & GROUP_FLAG_BITS[f]) !== 0);
}
