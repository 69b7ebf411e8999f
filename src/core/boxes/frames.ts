/**
 * Box coordinate frames (docs/chains.md, "Frames"): a model may write boxes in the original image's pixels,
 * in the pixels of Qwen2.5-VL's resized input, in 0–1000 or in 0–1. Everything is drawn and
 * scored in the original image's pixels, so every box passes through `toImagePixels` first.
 */
import { BOX_FRAMES, type BoxFrame } from '../schema/record';
import type { BoxSyntax, ParsedBox } from '../chain/types';
import { PROCESSOR_MAX_PIXELS, PROCESSOR_MIN_PIXELS, smartResize } from './resize';

export type Box4 = [number, number, number, number];

export interface ImageSize {
  width: number;
  height: number;
}

/**
 * How far past an edge a box may reach and still count as inside: models write x2 = W + 1 and
 * mapping out of the resized frame leaves fractions of a pixel.
 */
export const EDGE_TOLERANCE_PX = 1;

/**
 * The Qwen2.5-VL input size for an image, as {width, height} (smartResize itself takes and
 * returns height first). An image the processor would refuse (aspect ratio over 200, zero or
 * non-finite sides) has no resized frame; its own size is returned so callers never see a throw.
 */
export function resizedSize(
  width: number,
  height: number,
  minPixels: number = PROCESSOR_MIN_PIXELS,
  maxPixels: number = PROCESSOR_MAX_PIXELS,
): ImageSize {
  try {
    const [h, w] = smartResize(height, width, minPixels, maxPixels);
    return { width: w, height: h };
  } catch {
    return { width, height };
  }
}

/** Pixels of the original image per unit of `frame`, along x and y. */
function scale(frame: BoxFrame, image: ImageSize, resized: ImageSize): [number, number] {
  switch (frame) {
    case 'abs':
      return [1, 1];
    case 'resized':
      return [image.width / resized.width, image.height / resized.height];
    case 'rel1000':
      return [image.width / 1000, image.height / 1000];
    case 'rel1':
      return [image.width, image.height];
  }
}

/**
 * Maps a box written in `frame` to the original image's pixels, corners sorted so x1 ≤ x2 and
 * y1 ≤ y2. `resized` is the model's input size; when omitted it is computed with the
 * processor's default pixel limits (pass it whenever the run used other limits).
 */
export function toImagePixels(
  coords: readonly [number, number, number, number],
  frame: BoxFrame,
  image: ImageSize,
  resized?: ImageSize,
): Box4 {
  const r = frame === 'resized' ? (resized ?? resizedSize(image.width, image.height)) : image;
  const [sx, sy] = scale(frame, image, r);
  const [a, b, c, d] = coords;
  return [Math.min(a, c) * sx, Math.min(b, d) * sy, Math.max(a, c) * sx, Math.max(b, d) * sy];
}

/** True when any corner of a box (in image pixels) lies outside the image, or it is not a number. */
export function boxOutsideImage(box: readonly [number, number, number, number], image: ImageSize): boolean {
  const t = EDGE_TOLERANCE_PX;
  const [x1, y1, x2, y2] = box;
  if (![x1, y1, x2, y2].every(Number.isFinite)) return true;
  const xs = [x1, x2];
  const ys = [y1, y2];
  return xs.some((x) => x < -t || x > image.width + t) || ys.some((y) => y < -t || y > image.height + t);
}

/** The frame each syntax is written in by the models that use it. */
const FRAME_OF_SYNTAX: Record<BoxSyntax, BoxFrame> = {
  seed: 'abs',
  'qwen25-json': 'resized',
  'qwen-ref': 'rel1000',
  'qwen2-special': 'rel1000',
  // Bare lists mostly come from Qwen2.5-VL answers (VLM-R1), which write the resized frame.
  bare: 'resized',
};

export interface FrameDetection {
  detected: BoxFrame;
  /** More than one frame would place every box inside the image, and nothing declared which. */
  ambiguous: boolean;
  /** Every frame in which all boxes fall inside the image, in BOX_FRAMES order. */
  candidates: BoxFrame[];
}

export interface FrameOptions {
  minPixels: number;
  maxPixels: number;
  /** The record's `box_frame`: when present it is used as is. */
  declared?: BoxFrame | undefined;
}

/** The syntax most boxes use; a tie goes to the one seen first. */
function commonSyntax(boxes: ParsedBox[]): BoxSyntax {
  const counts = new Map<BoxSyntax, number>();
  for (const b of boxes) counts.set(b.syntax, (counts.get(b.syntax) ?? 0) + 1);
  let best: BoxSyntax = boxes[0]!.syntax;
  for (const [s, n] of counts) if (n > counts.get(best)!) best = s;
  return best;
}

/**
 * Which frame the boxes are in. A declaration wins; otherwise coordinates all within [0, 1]
 * (not all whole numbers) mean 0–1, and else the syntax decides. The result is `ambiguous`
 * when more than one frame fits, or when the syntax's frame does not fit but another does,
 * so the viewer can offer a choice instead of silently drawing in the wrong place.
 */
export function detectFrame(boxes: ParsedBox[], image: ImageSize, opts: FrameOptions): FrameDetection {
  const resized = resizedSize(image.width, image.height, opts.minPixels, opts.maxPixels);
  const candidates = BOX_FRAMES.filter((f) =>
    boxes.every((b) => !boxOutsideImage(toImagePixels(b.coords, f, image, resized), image)),
  );
  if (opts.declared) return { detected: opts.declared, ambiguous: false, candidates };
  if (boxes.length === 0) return { detected: 'abs', ambiguous: false, candidates };

  const all = boxes.flatMap((b) => b.coords);
  const unit = all.every((v) => v >= 0 && v <= 1) && all.some((v) => !Number.isInteger(v));
  const detected: BoxFrame = unit ? 'rel1' : FRAME_OF_SYNTAX[commonSyntax(boxes)];
  // Seed boxes are documented as absolute and Qwen-VL / Qwen2-VL tokens as 0–1000, so when they
  // fit, other frames that also fit are no reason to ask. Qwen2.5-VL JSON and bare lists are
  // written in the original or the resized frame depending on the pipeline: ask when those two
  // frames put the boxes in visibly different places.
  const syntax = unit ? null : commonSyntax(boxes);
  const decisive = syntax === 'seed' || syntax === 'qwen-ref' || syntax === 'qwen2-special';
  const place = (f: BoxFrame) => boxes.map((b) => toImagePixels(b.coords, f, image, resized));
  const differs = (f: BoxFrame) => {
    const a = place(f);
    const b = place(detected);
    return a.some((box, i) => box.some((v, k) => Math.abs(v - b[i]![k]!) > 1));
  };
  const ambiguous = !candidates.includes(detected)
    ? candidates.length > 0
    : !decisive && candidates.some((f) => f !== detected && differs(f));
  return { detected, ambiguous, candidates };
}
