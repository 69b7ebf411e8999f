/**
 * A set of rollout records opened in one viewer: the records in file order, their GRPO groups,
 * the scores recomputed under the chosen reward variant, and the filtered list the viewer pages
 * through. Pure core: the host supplies files and settings, and asks for rows and groups.
 */
import type { BadLine, RolloutRecord } from '../schema/record';
import { completionText } from '../schema/record';
import { readRollouts } from '../rollouts/read';
import { GroupKeys } from '../rollouts/groups';
import { scoreRecord, isVariantName, type RecordScore } from '../rewards/variants';
import { groupAdvantages, loggedMismatches } from '../rewards/group';
import type { GroupFlag, GroupRow, RowFilter } from '../../protocol/viewer';

export interface LoadedRecord {
  record: RolloutRecord;
  file: string;
  line: number;
}

export interface RolloutGroup {
  key: string;
  step: number | null;
  /** Indices into `RolloutSet.records`, in file order. */
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

export interface GroupScore {
  members: MemberScore[];
  zeroVariance: boolean;
  flags: GroupFlag[];
  min: number | null;
  max: number | null;
  mean: number | null;
}

const SNIPPET = 120;

export class RolloutSet {
  readonly records: LoadedRecord[] = [];
  readonly badLines: BadLine[] = [];
  readonly groups: RolloutGroup[] = [];
  private readonly byKey = new Map<string, number>();
  private scores: GroupScore[] = [];
  private filtered: number[] = [];
  private filter: RowFilter = { text: '', flags: [] };

  private constructor(readonly files: string[]) {}

  /** Reads every file (streaming, bad lines collected) and groups the records. */
  static async load(files: string[], options: ScoreOptions): Promise<RolloutSet> {
    const set = new RolloutSet(files);
    for (const file of files) {
      const result = await readRollouts(file, (record, loc) => {
        set.records.push({ record, file, line: loc.line });
      });
      for (const b of result.badLines) set.badLines.push({ ...b, file });
    }
    set.buildGroups();
    set.rescore(options);
    return set;
  }

  /** Group keys as `GroupKeys` assigns them (written `group`, else step + identical prompt). */
  private buildGroups(): void {
    const keys = new GroupKeys();
    this.records.forEach((r, i) => {
      const key = keys.keyOf(r.record);
      let g = this.byKey.get(key);
      if (g === undefined) {
        g = this.groups.length;
        this.byKey.set(key, g);
        this.groups.push({ key, step: r.record.step ?? null, members: [] });
      }
      this.groups[g]!.members.push(i);
    });
  }

  /** Recomputes every record's rewards and every group's advantages, flags and spread. */
  rescore(options: ScoreOptions): void {
    this.scores = this.groups.map((g) => this.scoreGroup(g, options));
    this.applyFilter(this.filter);
  }

  private scoreGroup(g: RolloutGroup, options: ScoreOptions): GroupScore {
    const scored = g.members.map((i) =>
      scoreRecord(this.records[i]!.record, isVariantName(options.variant) ? options.variant : 'grounding', {
        minPixels: options.minPixels,
        maxPixels: options.maxPixels,
        matching: options.matching,
      }),
    );
    const adv = groupAdvantages(scored.map((s) => s.reward));
    const members: MemberScore[] = scored.map((s, k) => ({ ...s, advantage: adv.advantages[k] ?? 0 }));
    const flags: GroupFlag[] = [];
    if (adv.zeroVariance && g.members.length > 1) flags.push('zero_variance');
    if (members.some((m) => m.rewards.format === 0)) flags.push('format_failure');
    if (g.members.some((i, k) => loggedMismatches(this.records[i]!.record, members[k]!).length > 0)) flags.push('reward_mismatch');
    if (g.members.some((i, k) => outsideImage(this.records[i]!.record, members[k]!))) flags.push('bad_boxes');
    const totals = members.map((m) => m.reward);
    return {
      members,
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

  groupIndex(key: string): number | undefined {
    return this.byKey.get(key);
  }

  scoreOf(groupIndex: number): GroupScore {
    return this.scores[groupIndex]!;
  }

  /** Position of a group in the filtered list, or -1. */
  ordinalOf(key: string): number {
    const g = this.byKey.get(key);
    return g === undefined ? -1 : this.filtered.indexOf(g);
  }

  keyAt(ordinal: number): string | undefined {
    const g = this.filtered[ordinal];
    return g === undefined ? undefined : this.groups[g]!.key;
  }

  applyFilter(filter: RowFilter): number {
    this.filter = filter;
    const needle = filter.text.trim().toLowerCase();
    this.filtered = [];
    this.groups.forEach((g, gi) => {
      const s = this.scores[gi]!;
      if (!filter.flags.every((f) => s.flags.includes(f))) return;
      if (needle && !g.members.some((i) => matchesText(this.records[i]!.record, needle))) return;
      this.filtered.push(gi);
    });
    return this.filtered.length;
  }

  rows(start: number, count: number): GroupRow[] {
    const out: GroupRow[] = [];
    const end = Math.min(this.filtered.length, start + Math.max(0, count));
    for (let o = Math.max(0, start); o < end; o++) {
      const gi = this.filtered[o]!;
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

function matchesText(rec: RolloutRecord, needle: string): boolean {
  if ((rec.prompt?.text ?? '').toLowerCase().includes(needle)) return true;
  return completionText(rec).toLowerCase().includes(needle);
}

function outsideImage(rec: RolloutRecord, s: RecordScore): boolean {
  const size = rec.image_size;
  if (!size) return false;
  return s.boxes.pred.some(({ box: [x1, y1, x2, y2] }) => x1 < 0 || y1 < 0 || x2 > size[0] || y2 > size[1]);
}
