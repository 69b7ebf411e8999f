/**
 * Which gold box each predicted box is scored against. `matchSeed` is the seed bbox reward's
 * rule (several predictions may share one gold box); `matchOptimal` is a one-to-one assignment,
 * for researchers who want to see what the reward would be without that double counting.
 */
import { iou, type IouMode, type LabeledBox } from './iou';

/** Per predicted box: the gold box index it was scored against (null: none) and that IoU. */
export interface BoxMatch {
  gold: number | null;
  iou: number;
}

export interface SeedMatchOptions {
  /**
   * true (grounding seed): a gold box with the same label wins even when another overlaps more.
   * false (scale-up seed): always the best IoU over all gold boxes.
   */
  sameLabelFirst?: boolean;
}

/**
 * Same label → IoU with that gold box (the last one with the label, as the seed's dict keeps
 * the last); otherwise best IoU over all gold boxes, first index on ties. A fallback whose best
 * IoU is 0 reports `gold: null` since no box was really matched.
 */
export function matchSeed(pred: LabeledBox[], gold: LabeledBox[], mode: IouMode = 'continuous', opts: SeedMatchOptions = {}): BoxMatch[] {
  const sameLabelFirst = opts.sameLabelFirst ?? true;
  const byLabel = new Map<string, number>();
  if (sameLabelFirst) gold.forEach((g, i) => g.label !== null && byLabel.set(g.label, i));
  return pred.map((p): BoxMatch => {
    const same = p.label !== null ? byLabel.get(p.label) : undefined;
    if (same !== undefined) return { gold: same, iou: iou(p.box, gold[same]!.box, mode) };
    let best: BoxMatch = { gold: null, iou: 0 };
    gold.forEach((g, i) => {
      const v = iou(p.box, g.box, mode);
      if (v > best.iou) best = { gold: i, iou: v };
    });
    return best;
  });
}

/**
 * One-to-one assignment maximising total IoU (Hungarian method, O(n²m)). With more predicted
 * than gold boxes the surplus gets `gold: null, iou: 0`; a pair assigned at IoU 0 is reported
 * as unmatched too.
 */
export function matchOptimal(pred: LabeledBox[], gold: LabeledBox[], mode: IouMode = 'continuous'): BoxMatch[] {
  const out: BoxMatch[] = pred.map(() => ({ gold: null, iou: 0 }));
  if (pred.length === 0 || gold.length === 0) return out;
  const m = pred.map((p) => gold.map((g) => iou(p.box, g.box, mode)));
  const transpose = pred.length > gold.length;
  const rows = transpose ? gold.length : pred.length;
  const cols = transpose ? pred.length : gold.length;
  const cost = (r: number, c: number): number => -(transpose ? m[c]![r]! : m[r]![c]!);
  const colOfRow = assignRows(rows, cols, cost);
  colOfRow.forEach((c, r) => {
    const p = transpose ? c : r;
    const g = transpose ? r : c;
    const v = m[p]![g]!;
    if (v > 0) out[p] = { gold: g, iou: v };
  });
  return out;
}

/** Minimum-cost assignment of every row to a distinct column (rows ≤ cols). Returns column per row. */
function assignRows(rows: number, cols: number, cost: (r: number, c: number) => number): number[] {
  // Potentials method (1-based with a virtual column 0), as in the classic e-maxx formulation.
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const rowOfCol = new Int32Array(cols + 1);
  const way = new Int32Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    rowOfCol[0] = i;
    let j0 = 0;
    const minv = new Float64Array(cols + 1).fill(Infinity);
    const used = new Uint8Array(cols + 1);
    do {
      used[j0] = 1;
      const i0 = rowOfCol[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[rowOfCol[j]!] = u[rowOfCol[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (rowOfCol[j0] !== 0);
    do {
      const j1 = way[j0]!;
      rowOfCol[j0] = rowOfCol[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const colOfRow = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (rowOfCol[j]! > 0) colOfRow[rowOfCol[j]! - 1] = j - 1;
  return colOfRow;
}
