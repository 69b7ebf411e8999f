/**
 * Plain-object views of index rows and groups for a page of the viewer: what a list shows
 * without reading a record. The typed columns stay the source; these are built per window.
 */
import { FLAG } from './columns';
import type { RolloutIndex } from './rolloutIndex';

export interface IndexedRow {
  row: number;
  line: number;
  step: number | null;
  group: string;
  index: number | null;
  /** Logged total (or the sum of logged rewards); null when the line has neither. */
  reward: number | null;
  advantage: number | null;
  rewards: Record<string, number>;
  /** UTF-8 bytes of the completion text. */
  length: number;
  formatOk: boolean;
  zeroVariance: boolean;
  /** Null until `scoreIndex` has scored the row. */
  mismatch: boolean | null;
}

export interface GroupSummary {
  id: number;
  key: string;
  step: number | null;
  size: number;
  firstRow: number;
  rewardMin: number | null;
  rewardMax: number | null;
  zeroVariance: boolean;
}

const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);

export function indexedRow(index: RolloutIndex, i: number): IndexedRow {
  const f = index.flags.data[i]!;
  const rewards: Record<string, number> = {};
  for (const name of index.rewardNames) {
    const v = index.rewards.get(name)!.data[i]!;
    if (!Number.isNaN(v)) rewards[name] = v;
  }
  const step = index.step.data[i]!;
  const idx = index.index.data[i]!;
  return {
    row: i,
    line: index.line.data[i]!,
    step: step < 0 ? null : step,
    group: index.groups.keys[index.group.data[i]!]!,
    index: idx < 0 ? null : idx,
    reward: orNull(index.total.data[i]!),
    advantage: orNull(index.advantage.data[i]!),
    rewards,
    length: index.length.data[i]!,
    formatOk: (f & FLAG.formatOk) !== 0,
    zeroVariance: index.zeroVariance(i),
    mismatch: f & FLAG.scored ? (f & FLAG.mismatch) !== 0 : null,
  };
}

/** Rows `[start, start + count)` of `order` (a query result or sort), or of the file order. */
export function rowWindow(index: RolloutIndex, start: number, count: number, order?: Int32Array): IndexedRow[] {
  const total = order ? order.length : index.count;
  const out: IndexedRow[] = [];
  for (let k = Math.max(0, start); k < Math.min(total, start + count); k++) out.push(indexedRow(index, order ? order[k]! : k));
  return out;
}

export function groupSummary(index: RolloutIndex, g: number): GroupSummary {
  const t = index.groups;
  const step = t.step.data[g]!;
  return {
    id: g,
    key: t.keys[g]!,
    step: step < 0 ? null : step,
    size: t.size.data[g]!,
    firstRow: t.first.data[g]!,
    rewardMin: t.withTotal.data[g] ? t.minTotal.data[g]! : null,
    rewardMax: t.withTotal.data[g] ? t.maxTotal.data[g]! : null,
    zeroVariance: t.zeroVariance(g),
  };
}

/** Distinct groups of `rows` in the order given (a filter result becomes a group list). */
export function groupsOf(index: RolloutIndex, rows: Int32Array): Int32Array {
  const seen = new Uint8Array(index.groups.count);
  const out: number[] = [];
  for (const r of rows) {
    const g = index.group.data[r]!;
    if (!seen[g]) {
      seen[g] = 1;
      out.push(g);
    }
  }
  return Int32Array.from(out);
}
