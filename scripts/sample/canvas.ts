/**
 * A tiny RGBA raster with the few filled shapes the sample scenes need, encoded with pngjs.
 * Shapes are clipped to the canvas so a stray coordinate can never write out of bounds.
 */
import { PNG } from 'pngjs';

export type Colour = readonly [number, number, number];

export class Canvas {
  readonly data: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = Buffer.alloc(width * height * 4, 255);
  }

  setPixel(x: number, y: number, c: Colour): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.data[o] = c[0];
    this.data[o + 1] = c[1];
    this.data[o + 2] = c[2];
    this.data[o + 3] = 255;
  }

  /** Fills pixels x1..x2-1, y1..y2-1: an xyxy box covers exactly the pixels it names. */
  fillRect(x1: number, y1: number, x2: number, y2: number, c: Colour): void {
    const xa = Math.max(0, Math.round(x1));
    const xb = Math.min(this.width, Math.round(x2));
    const ya = Math.max(0, Math.round(y1));
    const yb = Math.min(this.height, Math.round(y2));
    for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) this.setPixel(x, y, c);
  }

  /** Vertical gradient from `top` to `bottom` over rows y1..y2-1. */
  fillGradient(y1: number, y2: number, top: Colour, bottom: Colour): void {
    const span = Math.max(1, y2 - y1 - 1);
    for (let y = y1; y < y2; y++) {
      const t = (y - y1) / span;
      const mix = (i: 0 | 1 | 2): number => Math.round(top[i] + (bottom[i] - top[i]) * t);
      this.fillRect(0, y, this.width, y + 1, [mix(0), mix(1), mix(2)]);
    }
  }

  /** Ellipse inscribed in the box x1,y1,x2,y2 (pixel centres tested). */
  fillEllipse(x1: number, y1: number, x2: number, y2: number, c: Colour): void {
    const cx = (x1 + x2) / 2;
    const cy = (y1 + y2) / 2;
    const rx = (x2 - x1) / 2;
    const ry = (y2 - y1) / 2;
    if (rx <= 0 || ry <= 0) return;
    for (let y = Math.floor(y1); y < Math.ceil(y2); y++) {
      for (let x = Math.floor(x1); x < Math.ceil(x2); x++) {
        const dx = (x + 0.5 - cx) / rx;
        const dy = (y + 0.5 - cy) / ry;
        if (dx * dx + dy * dy <= 1) this.setPixel(x, y, c);
      }
    }
  }

  /** Even-odd polygon fill over pixel centres. */
  fillPolygon(points: readonly (readonly [number, number])[], c: Colour): void {
    const ys = points.map((p) => p[1]);
    const xs = points.map((p) => p[0]);
    for (let y = Math.floor(Math.min(...ys)); y < Math.ceil(Math.max(...ys)); y++) {
      for (let x = Math.floor(Math.min(...xs)); x < Math.ceil(Math.max(...xs)); x++) {
        if (inside(points, x + 0.5, y + 0.5)) this.setPixel(x, y, c);
      }
    }
  }

  /** A line of the given thickness, drawn as a chain of small squares. */
  line(xa: number, ya: number, xb: number, yb: number, thickness: number, c: Colour): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(xb - xa, yb - ya)));
    const h = thickness / 2;
    for (let i = 0; i <= steps; i++) {
      const x = xa + ((xb - xa) * i) / steps;
      const y = ya + ((yb - ya) * i) / steps;
      this.fillRect(x - h, y - h, x + h, y + h, c);
    }
  }

  /** The region x1,y1,x2,y2 scaled (nearest neighbour) onto a new canvas of w×h. */
  zoom(x1: number, y1: number, x2: number, y2: number, w: number, h: number): Canvas {
    const out = new Canvas(w, h);
    for (let y = 0; y < h; y++) {
      const sy = Math.min(this.height - 1, Math.max(0, Math.floor(y1 + ((y + 0.5) * (y2 - y1)) / h)));
      for (let x = 0; x < w; x++) {
        const sx = Math.min(this.width - 1, Math.max(0, Math.floor(x1 + ((x + 0.5) * (x2 - x1)) / w)));
        this.data.copy(out.data, (y * w + x) * 4, (sy * this.width + sx) * 4, (sy * this.width + sx) * 4 + 4);
      }
    }
    return out;
  }

  toPNG(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    this.data.copy(png.data);
    return PNG.sync.write(png);
  }
}

function inside(points: readonly (readonly [number, number])[], x: number, y: number): boolean {
  let hit = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i]!;
    const [xj, yj] = points[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}
