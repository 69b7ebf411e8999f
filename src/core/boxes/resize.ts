/**
 * Qwen2.5-VL's smart_resize: the size of the image the model actually sees. Qwen2.5-VL writes
 * absolute boxes in *this* frame, so drawing them on the original needs x·W/W_resized.
 */
export const QWEN_FACTOR = 28;
export const PROCESSOR_MIN_PIXELS = 3136;
export const PROCESSOR_MAX_PIXELS = 12845056;
/** The seed runs' settings. */
export const SEED_MIN_PIXELS = 3136;
export const SEED_MAX_PIXELS = 3686400;

/** Python's round(): half to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Returns [height, width] as Qwen2.5-VL's processor does (argument order follows upstream). */
export function smartResize(
  height: number,
  width: number,
  minPixels = PROCESSOR_MIN_PIXELS,
  maxPixels = PROCESSOR_MAX_PIXELS,
  factor = QWEN_FACTOR,
): [number, number] {
  if (!(height > 0 && width > 0)) throw new RangeError(`image size must be positive, got ${width}x${height}`);
  if (Math.max(height, width) / Math.min(height, width) > 200) {
    throw new RangeError(`absolute aspect ratio must be smaller than 200, got ${Math.max(height, width) / Math.min(height, width)}`);
  }
  let hBar = Math.max(factor, roundHalfEven(height / factor) * factor);
  let wBar = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (hBar * wBar > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    hBar = Math.max(factor, Math.floor(height / beta / factor) * factor);
    wBar = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    hBar = Math.ceil((height * beta) / factor) * factor;
    wBar = Math.ceil((width * beta) / factor) * factor;
  }
  return [hBar, wBar];
}
