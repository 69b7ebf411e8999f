/**
 * Where box labels go on the image so they do not sit on one another: boxes of a GRPO group
 * often overlap almost exactly, and their labels would all start at the same corner. Greedy:
 * each label takes its natural spot above the box's top-left corner if free, else the nearest
 * free line above or below it. Units are image pixels; `u` is one screen pixel in them.
 */

export interface LabelRequest {
  text: string;
  x: number;
  /** Top edge of the box (or the point). */
  top: number;
  /** Bottom edge of the box (or the point). */
  bottom: number;
}

export interface PlacedLabel {
  x: number;
  /** Text baseline. */
  y: number;
}

const FONT_PX = 11;
const CHAR_PX = 7; // average advance of the UI font at 11px, bold; a little generous
const LINE_PX = 14;
const TRIES = 8;

export const LABEL_FONT_PX = FONT_PX;

export function placeLabels(labels: readonly LabelRequest[], u: number, imageHeight: number): PlacedLabel[] {
  const placed: { x1: number; y1: number; x2: number; y2: number }[] = [];
  const line = LINE_PX * u;
  return labels.map((l) => {
    const x = l.x + 2 * u;
    const width = (l.text.length * CHAR_PX + 4) * u;
    const above = l.top - 4 * u;
    const natural = above - FONT_PX * u >= 0 ? above : l.bottom + (FONT_PX + 2) * u;
    const candidates = [natural];
    for (let k = 1; k <= TRIES; k++) candidates.push(natural - k * line, natural + k * line);
    const fits = (y: number) => y - FONT_PX * u >= 0 && y <= imageHeight + line;
    const free = (y: number) => !placed.some((p) => x < p.x2 && x + width > p.x1 && y - FONT_PX * u < p.y2 && y + 3 * u > p.y1);
    const y = candidates.find((c) => fits(c) && free(c)) ?? natural;
    placed.push({ x1: x, y1: y - FONT_PX * u, x2: x + width, y2: y + 3 * u });
    return { x, y };
  });
}
