/**
 * A set of rollout records opened in one viewer: the records in arrival order, their GRPO groups,
 * the scores recomputed under the chosen reward variant, and the filtered list the viewer pages
 * through. It grows: `append` takes each batch a follower reads, `settle` rescores only the
 * groups that batch touched and updates the filtered list in place, `dropFile` starts a
 * truncated file over. Pure core: the host supplies records and settings, and asks for rows.
 */
import { isDeepStrictEqual } from 'node:util';
import type { BadLine, RolloutRecord } from '../schema/record';
import { completionText } from '../schema/record';
import { readRollouts } from '../rollouts/read';
import { GroupKeys } from '../rollouts/groups';
import { scoreRecord, isVariantName, type RecordScore } from '../rewards/variants';
import { groupAdvantages, loggedMismatches } from '../rewards/group';
import type { QueryNode } from '../index/query';
import type { GroupFlag, GroupRow, RowFilter, VerdictView } from '../../protocol/viewer';
import { columnValue, loggedTotal, matchesQuery, readFilterText, type FilterText, type QueryRecord } from './recordQuery';

export interface LoadedRecord {
  record: RolloutRecord;
  file: string;
  line: number;
}

export interface RolloutGroup {
  key: string;
  step: number | null;
  /** Indices into `RolloutSet.records`, in arrival order. */
  members: number[];
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

/** What the set keeps per completion for every group: the numbers, not the scored boxes (see `membersOf`). */
export type MemberTotals = Omit<MemberScore, 'boxes'>;

export interface GroupScore {
  members: MemberTotals[];
  /** Per member: logged values differ from the recomputed ones. */
  mismatched: boolean[];
  /** Logged totals: ≥ 2 members, each with a total, all equal (the query's `zero_variance`). */
  loggedZeroVariance: boolean;
  zeroVariance: boolean;
  flags: GroupFlag[];
  /** Spread of the totals the zero-variance flag looks at: logged when every member has one, else recomputed. */
  min: number | null;
  max: number | null;
  mean: number | null;
}

/** What a `settle` changed. */
export interface SettleResult {
  /** Groups that did not exist before. */
  added: number;
  /** Keys of groups that existed before and gained members. */
  grew: string[];
  /** The filtered list changed in a way other than growing at its end. */
  reordered: boolean;
}

/** Why the filter text could not be applied (the previous filter stays). */
export interface FilterProblem {
  message: string;
  column: number;
}

const SNIPPET = 120;

/** The judge's verdict on a record, if any (the host reads the verdict caches). */
export type RecordVerdicts = (l: LoadedRecord) => VerdictView | null;

export class RolloutSet {
  readonly records: LoadedRecord[] = [];
  readonly badLines: BadLine[] = [];
  readonly groups: RolloutGroup[] = [];
  /** Reward functions any record logged, for the query's `reward.<name>` check. */
  readonly rewardNames = new Set<string>();
  /** Meta keys any record has, for the query's `meta.<key>` check (a Set: keys are file content). */
  readonly metaKeys = new Set<string>();
  private byKey = new Map<string, number>();
  private keys = new GroupKeys();
  private scores: GroupScore[] = [];
  /** Ascending group indices that pass the filter. */
  private filtered: number[] = [];
  /** With a `sort:` clause: `filtered` in sorted order (rebuilt when groups change). */
  private sorted: number[] | null = null;
  private filter: RowFilter = { text: '', flags: [] };
  private reading: FilterText = { kind: 'none' };
  private readonly dirty = new Set<number>();
  /** Groups that existed at the last settle. */
  private settledGroups = 0;
  /** The last filter text that failed, and why; null when the filter in use is the one asked for. */
  filterProblem: FilterProblem | null = null;
  private verdictLookup: RecordVerdicts | null = null;
  /** Per record: its verdict once looked up (undefined: not yet). */
  private verdictMemo: (VerdictView | null | undefined)[] = [];

  constructor(readonly files: string[], private options: ScoreOptions) {}

  /** Reads native v1 files whole (tests, scripts); the viewer uses `append` as a follower reads. */
  static async load(files: string[], options: ScoreOptions): Promise<RolloutSet> {
    const set = new RolloutSet(files, options);
    for (const file of files) {
      const batch: LoadedRecord[] = [];
      const result = await readRollouts(file, (record, loc) => batch.push({ record, file, line: loc.line }));
      set.append(batch, result.badLines.map((b) => ({ ...b, file })));
    }
    set.settle();
    return set;
  }

  /** Adds records in arrival order; groups they join are rescored at the next `settle`. */
  append(items: readonly LoadedRecord[], badLines: readonly BadLine[] = []): void {
    for (const b of badLines) this.badLines.push(b);
    for (const item of items) {
      const i = this.records.length;
      this.records.push(item);
      for (const name of Object.keys(item.record.rewards ?? {})) this.rewardNames.add(name);
      for (const key of Object.keys(item.record.meta ?? {})) this.metaKeys.add(key);
      const key = this.keys.keyOf(item.record);
      let g = this.byKey.get(key);
      if (g === undefined) {
        g = this.groups.length;
        this.byKey.set(key, g);
        this.groups.push({ key, step: item.record.step ?? null, members: [] });
      }
      const members = this.groups[g]!.members;
      if (members.length > 0) shareGroupFields(item.record, this.records[members[0]!]!.record);
      members.push(i);
      this.dirty.add(g);
    }
  }

  /** Rescores the groups appended to since the last settle and updates the filtered list. */
  settle(): SettleResult {
    const before = this.settledGroups;
    const grew: string[] = [];
    let reordered = false;
    const touched = [...this.dirty].sort((a, b) => a - b);
    this.dirty.clear();
    for (const g of touched) {
      this.scores[g] = this.scoreGroup(this.groups[g]!);
      if (g >= before) {
        if (this.passes(g)) this.filtered.push(g);
        continue;
      }
      grew.push(this.groups[g]!.key);
      const at = lowerBound(this.filtered, g);
      const listed = this.filtered[at] === g;
      const pass = this.passes(g);
      if (pass !== listed) {
        reordered = true;
        if (pass) this.filtered.splice(at, 0, g);
        else this.filtered.splice(at, 1);
      }
    }
    this.settledGroups = this.groups.length;
    if (this.reading.kind !== 'error' && this.reading.sort && touched.length) this.sortList();
    return { added: this.groups.length - before, grew, reordered };
  }

  /** A truncated file starts over: its records go, and every group is rebuilt from the rest. */
  dropFile(file: string): void {
    const kept = this.records.filter((r) => r.file !== file);
    const bad = this.badLines.filter((b) => b.file !== file);
    this.records.length = 0;
    this.badLines.length = 0;
    this.groups.length = 0;
    this.rewardNames.clear();
    this.metaKeys.clear();
    this.byKey = new Map();
    this.keys = new GroupKeys();
    this.scores = [];
    this.verdictMemo = [];
    this.filtered = [];
    this.dirty.clear();
    this.settledGroups = 0;
    this.append(kept, bad);
    this.settle();
  }

  /**
   * Where verdicts come from; call again after a judge ran (forgets what was looked up). Takes
   * effect at the next `rescore` (every group) or `settle` (new groups).
   */
  setVerdicts(lookup: RecordVerdicts | null): void {
    this.verdictLookup = lookup;
    this.verdictMemo = [];
  }

  /** The verdict on `records[i]`, or null. */
  verdictAt(i: number): VerdictView | null {
    if (!this.verdictLookup) return null;
    let v = this.verdictMemo[i];
    if (v === undefined) v = this.verdictMemo[i] = this.verdictLookup(this.records[i]!);
    return v;
  }

  /** Recomputes every record's rewards and every group's advantages, flags and spread. */
  rescore(options: ScoreOptions): void {
    this.options = options;
    this.scores = this.groups.map((g) => this.scoreGroup(g));
    this.dirty.clear();
    this.settledGroups = this.groups.length;
    this.refilter();
  }

  /** Every member's full score, scored boxes included (the group view asks for one group at a time). */
  membersOf(groupIndex: number): MemberScore[] {
    return this.scoreMembers(this.groups[groupIndex]!).members;
  }

  private scoreMembers(g: RolloutGroup): { members: MemberScore[]; zeroVariance: boolean } {
    const options = this.options;
    const scored = g.members.map((i) =>
      scoreRecord(this.records[i]!.record, isVariantName(options.variant) ? options.variant : 'grounding', {
        minPixels: options.minPixels,
        maxPixels: options.maxPixels,
        matching: options.matching,
      }),
    );
    const adv = groupAdvantages(scored.map((s) => s.reward));
    return { members: scored.map((s, k) => ({ ...s, advantage: adv.advantages[k] ?? 0 })), zeroVariance: adv.zeroVariance };
  }

  private scoreGroup(g: RolloutGroup): GroupScore {
    const recs = g.members.map((i) => this.records[i]!.record);
    const { members, zeroVariance } = this.scoreMembers(g);
    const mismatched = recs.map((r, k) => loggedMismatches(r, members[k]!).length > 0);
    const logged = recs.map(loggedTotal);
    const allLogged = logged.every((t) => t !== undefined);
    const loggedFlat = logged.length > 1 && allLogged && logged.every((t) => Math.fround(t!) === Math.fround(logged[0]!));
    const flags: GroupFlag[] = [];
    // What the trainer learned from: its logged totals when every member has one (a verl or TRL
    // run whose reward functions we do not recompute), else the recomputed ones.
    if (g.members.length > 1 && (allLogged ? loggedFlat : zeroVariance)) flags.push('zero_variance');
    if (members.some((m) => m.rewards.format === 0)) flags.push('format_failure');
    if (mismatched.includes(true)) flags.push('reward_mismatch');
    if (recs.some((r, k) => outsideImage(r, members[k]!))) flags.push('bad_boxes');
    if (g.members.some((i) => this.verdictAt(i)?.aligns === false)) flags.push('misaligned');
    const totals = allLogged ? (logged as number[]) : members.map((m) => m.reward);
    return {
      // Scored boxes are most of a score's memory: kept only while the group is shown (membersOf).
      members: members.map(({ boxes: _boxes, ...totals }) => totals),
      mismatched,
      loggedZeroVariance: loggedFlat,
      zeroVariance: flags.includes('zero_variance'),
      flags,
      min: totals.length ? Math.min(...totals) : null,
      max: totals.length ? Math.max(...totals) : null,
      mean: totals.length ? totals.reduce((a, b) => a + b, 0) / totals.length : null,
    };
  }

  get completionCount(): number {
    return this.records.length;
  }

  get filteredCount(): number {
    return this.filtered.length;
  }

  /** True when the list runs newest first (latest-written groups at the top). */
  get newestFirst(): boolean {
    return this.filter.order === 'newest';
  }

  groupIndex(key: string): number | undefined {
    return this.byKey.get(key);
  }

  scoreOf(groupIndex: number): GroupScore {
    return this.scores[groupIndex]!;
  }

  /** Position of a group in the filtered list, or -1. */
  ordinalOf(key: string): number {
    const g = this.byKey.get(key);
    if (g === undefined) return -1;
    if (this.sorted) return this.sorted.indexOf(g);
    const at = lowerBound(this.filtered, g);
    if (this.filtered[at] !== g) return -1;
    return this.newestFirst ? this.filtered.length - 1 - at : at;
  }

  keyAt(ordinal: number): string | undefined {
    const g = this.groupAt(ordinal);
    return g === undefined ? undefined : this.groups[g]!.key;
  }

  /** The first group of `step` in the list as it is shown, or undefined. */
  firstOfStep(step: number): { key: string; ordinal: number } | undefined {
    for (let o = 0; o < this.filtered.length; o++) {
      const g = this.groupAt(o)!;
      if (this.groups[g]!.step === step) return { key: this.groups[g]!.key, ordinal: o };
    }
    return undefined;
  }

  private groupAt(ordinal: number): number | undefined {
    if (ordinal < 0 || ordinal >= this.filtered.length) return undefined;
    if (this.sorted) return this.sorted[ordinal];
    return this.filtered[this.newestFirst ? this.filtered.length - 1 - ordinal : ordinal];
  }

  /**
   * Applies a filter and returns the filtered count. Text that reads as a query but does not
   * parse keeps the previous filter (and sets `filterProblem`), so the list is not cleared.
   */
  applyFilter(filter: RowFilter): number {
    const reading = readFilterText(filter.text, this.rewardNames, this.metaKeys);
    if (reading.kind === 'error') {
      this.filterProblem = { message: reading.message, column: reading.column };
      this.filter = { ...this.filter, flags: filter.flags, order: filter.order };
    } else {
      this.filterProblem = null;
      this.filter = filter;
      this.reading = reading;
    }
    this.refilter();
    return this.filtered.length;
  }

  /** What the filter text was read as: a query, plain words, or nothing. */
  get filterKind(): FilterText['kind'] {
    return this.filterProblem ? 'error' : this.reading.kind;
  }

  private refilter(): void {
    this.filtered = [];
    for (let g = 0; g < this.groups.length; g++) if (this.scores[g] && this.passes(g)) this.filtered.push(g);
    this.sortList();
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
    const keys = new Map<number, number>();
    for (const gi of this.filtered) {
      let best = NaN;
      for (const i of this.matchingMembers(gi)) {
        const k = this.groups[gi]!.members.indexOf(i);
        const v = columnValue(this.queryRecord(gi, i, k), spec.column);
        if (v === undefined || Number.isNaN(v)) continue;
        if (Number.isNaN(best) || (spec.descending ? v > best : v < best)) best = v;
      }
      keys.set(gi, best);
    }
    const sign = spec.descending ? -1 : 1;
    this.sorted = [...this.filtered].sort((a, b) => {
      const x = keys.get(a)!;
      const y = keys.get(b)!;
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
      return x === y ? a - b : (x < y ? -1 : 1) * sign;
    });
  }

  private passes(gi: number): boolean {
    const s = this.scores[gi]!;
    if (!this.filter.flags.every((f) => s.flags.includes(f))) return false;
    const g = this.groups[gi]!;
    const r = this.reading;
    if (r.kind === 'words') return g.members.some((i) => matchesText(this.records[i]!.record, r.needle));
    if (r.kind === 'query') return g.members.some((i, k) => matchesQuery(r.node, this.queryRecord(gi, i, k)));
    return true;
  }

  private queryRecord(gi: number, i: number, k: number): QueryRecord {
    const s = this.scores[gi]!;
    const l = this.records[i]!;
    return { record: l.record, line: l.line, groupKey: this.groups[gi]!.key, zeroVariance: s.loggedZeroVariance, mismatch: s.mismatched[k]!, verdict: this.verdictAt(i) };
  }

  /** Completions of a group that match the current query (all of them without one). */
  matchingMembers(gi: number, node: QueryNode | null = this.reading.kind === 'query' ? this.reading.node : null): number[] {
    const g = this.groups[gi]!;
    return g.members.filter((i, k) => node === null || matchesQuery(node, this.queryRecord(gi, i, k)));
  }

  rows(start: number, count: number): GroupRow[] {
    const out: GroupRow[] = [];
    const end = Math.min(this.filtered.length, start + Math.max(0, count));
    for (let o = Math.max(0, start); o < end; o++) {
      const gi = this.groupAt(o)!;
      const g = this.groups[gi]!;
      const s = this.scores[gi]!;
      const first = this.records[g.members[0]!]!.record;
      const prompt = (first.prompt?.text ?? completionText(first)).replace(/\s+/g, ' ').trim();
      out.push({
        key: g.key,
        ordinal: o,
        step: g.step,
        promptSnippet: prompt.length > SNIPPET ? prompt.slice(0, SNIPPET - 1) + '…' : prompt,
        size: g.members.length,
        rewardMin: s.min,
        rewardMax: s.max,
        rewardMean: s.mean,
        flags: s.flags,
      });
    }
    return out;
  }
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

function matchesText(rec: RolloutRecord, needle: string): boolean {
  if ((rec.prompt?.text ?? '').toLowerCase().includes(needle)) return true;
  return completionText(rec).toLowerCase().includes(needle);
}

function outsideImage(rec: RolloutRecord, s: RecordScore): boolean {
  const size = rec.image_size;
  if (!size) return false;
  return s.boxes.pred.some(({ box: [x1, y1, x2, y2] }) => x1 < 0 || y1 < 0 || x2 > size[0] || y2 > size[1]);
}

/** Fields a group's members mostly repeat (the solution too, in real runs). */
const SHARED_FIELDS = ['prompt', 'gt_boxes', 'image_size', 'solution'] as const;

/**
 * The members of a group mostly repeat its prompt, gold boxes and image size: an equal value is
 * shared with the group's first record instead of held again (a third of a record's memory).
 */
function shareGroupFields(rec: RolloutRecord, first: RolloutRecord): void {
  const r = rec as Record<(typeof SHARED_FIELDS)[number], unknown>;
  const f = first as Record<(typeof SHARED_FIELDS)[number], unknown>;
  for (const k of SHARED_FIELDS) if (r[k] !== undefined && isDeepStrictEqual(r[k], f[k])) r[k] = f[k];
}
