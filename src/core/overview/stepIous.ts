/**
 * The IoU of every matched predicted box, per step: the one number the Run Overview needs that
 * is not an index column (a completion has any number of boxes). Filled from the view's
 * `onScored` as rows are scored, and, for rows scored before the overview attached, by reading
 * their bodies back once. Each IoU keeps its row, so a row that left its group (its file was
 * truncated and read again) stops counting.
 */
import type { RolloutIndex } from '../index/rolloutIndex';
import type { RecordScore } from '../rewards/variants';
import { quantileSorted, type Quantiles } from './stepSummary';

class Growable {
  rows = new Int32Array(16);
  ious = new Float64Array(16);
  n = 0;

  push(row: number, iou: number): void {
    if (this.n === this.rows.length) {
      const rows = new Int32Array(this.n * 2);
      rows.set(this.rows);
      const ious = new Float64Array(this.n * 2);
      ious.set(this.ious);
      this.rows = rows;
      this.ious = ious;
    }
    this.rows[this.n] = row;
    this.ious[this.n++] = iou;
  }
}

export class StepIous {
  private readonly steps = new Map<number, Growable>();

  /** Adds row `row`'s matched boxes to its group's step; returns that step (-1: none, or no box). */
  add(index: RolloutIndex, row: number, score: RecordScore): number {
    const { ious, matched } = score.boxes;
    if (ious.length === 0) return -1;
    const g = index.group.data[row]!;
    const step = g < 0 ? -1 : index.groups.step.data[g]!;
    if (step < 0) return -1;
    let s = this.steps.get(step);
    for (let k = 0; k < ious.length; k++) {
      if (matched[k] === null) continue;
      if (!s) this.steps.set(step, (s = new Growable()));
      s.push(row, ious[k]!);
    }
    return s ? step : -1;
  }

  /** Forgets every IoU (a rescore, a new index). */
  clear(): void {
    this.steps.clear();
  }

  /** Quantiles of step `step`'s IoUs from rows still in a group; null when none. */
  quantiles(index: RolloutIndex, step: number): Quantiles | null {
    const s = this.steps.get(step);
    if (!s) return null;
    const group = index.group.data;
    const live = new Float64Array(s.n);
    let n = 0;
    for (let k = 0; k < s.n; k++) if (group[s.rows[k]!]! >= 0) live[n++] = s.ious[k]!;
    if (n === 0) return null;
    const sorted = live.subarray(0, n).sort();
    return { n, p10: quantileSorted(sorted, 0.1), p50: quantileSorted(sorted, 0.5), p90: quantileSorted(sorted, 0.9) };
  }
}
