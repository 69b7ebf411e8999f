/**
 * Intersection over union of two xyxy boxes, in the two arithmetics the seed runs and upstream
 * VLM-R1 use. Boxes come from model output, so anything degenerate scores 0, never NaN.
 */

export type Box = [number, number, number, number];

/** A box with the label it was written with (null when the syntax carries none). */
export interface LabeledBox {
  label: string | null;
  box: Box;
}

/**
 * `continuous`: inter / (A1 + A2 − inter) on real areas (the seeds' compute_iou).
 * `pixel`: upstream VLM-R1's iou(), which writes pixel-inclusive "+1" arithmetic: the
 * intersection's right/bottom edges are taken as x2−1 / y2−1 and one is added back to its width
 * and height, while the union uses plain (x2−x1)·(y2−y1) areas. The +1 and −1 cancel, so the
 * intersection is the continuous one, except that an overlap of 1 or less on either axis counts
 * as none (`inter_x1 < inter_x2` is strict). Reproduced as written, not as intended.
 */
export type IouMode = 'continuous' | 'pixel';

function isProper(b: Box): boolean {
  return b.every(Number.isFinite) && b[2] > b[0] && b[3] > b[1];
}

export function iou(a: Box, b: Box, mode: IouMode = 'continuous'): number {
  // Zero-area or inverted boxes: the seed clamps their area to 0 (and returns 0 on an empty
  // union); upstream would divide by zero and its caller catches that as reward 0.
  if (!isProper(a) || !isProper(b)) return 0;
  const areaA = (a[2] - a[0]) * (a[3] - a[1]);
  const areaB = (b[2] - b[0]) * (b[3] - b[1]);
  let inter: number;
  if (mode === 'pixel') {
    const ix1 = Math.max(a[0], b[0]);
    const iy1 = Math.max(a[1], b[1]);
    const ix2 = Math.min(a[2] - 1, b[2] - 1);
    const iy2 = Math.min(a[3] - 1, b[3] - 1);
    inter = ix1 < ix2 && iy1 < iy2 ? (ix2 - ix1 + 1) * (iy2 - iy1 + 1) : 0;
  } else {
    const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
    const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
    inter = w * h;
  }
  const union = areaA + areaB - inter;
  if (!(union > 0)) return 0;
  const r = inter / union;
  return Number.isFinite(r) ? r : 0;
}

/** COCO [x, y, w, h] to [x1, y1, x2, y2] (the scale-up seed's xywh_to_xyxy). */
export function xywhToXyxy(b: Box): Box {
  return [b[0], b[1], b[0] + b[2], b[1] + b[3]];
}
