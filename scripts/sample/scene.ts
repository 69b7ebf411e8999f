/**
 * Street scenes for the bundled sample: a background (sky, buildings, pavement, road) and a few
 * objects drawn as simple filled shapes. Every object is painted so that it touches all four
 * sides of its box, which makes the listed xyxy box the object's exact extent.
 */
import { Canvas, type Colour } from './canvas';
import { SeededRandom } from './random';

export type Box = [number, number, number, number];

export const OBJECT_LABELS = ['car', 'pedestrian', 'traffic light', 'stop sign', 'bicycle', 'dog', 'truck', 'bus'] as const;
export type ObjectLabel = (typeof OBJECT_LABELS)[number];

export interface SceneObject {
  label: ObjectLabel;
  box: Box;
}

export interface Scene {
  /** "scene-01" … */
  name: string;
  /** Path relative to the sample's rollout file. */
  imagePath: string;
  width: number;
  height: number;
  objects: SceneObject[];
}

export interface SceneSpec {
  width: number;
  height: number;
  labels: ObjectLabel[];
}

/** Size ranges [wMin, wMax, hMin, hMax] at a 480-pixel-high image. */
const SIZES: Record<ObjectLabel, readonly [number, number, number, number]> = {
  car: [110, 150, 55, 70],
  pedestrian: [22, 30, 70, 90],
  'traffic light': [20, 26, 100, 130],
  'stop sign': [34, 42, 80, 100],
  bicycle: [60, 75, 40, 48],
  dog: [40, 55, 26, 34],
  truck: [150, 190, 85, 105],
  bus: [190, 240, 90, 110],
};

const COLOURS: Record<ObjectLabel, Colour> = {
  car: [40, 160, 70],
  pedestrian: [130, 60, 160],
  'traffic light': [35, 35, 35],
  'stop sign': [220, 30, 30],
  bicycle: [20, 150, 170],
  dog: [140, 90, 40],
  truck: [40, 80, 180],
  bus: [240, 190, 30],
};

const WHEEL: Colour = [25, 25, 25];
const GLASS: Colour = [170, 210, 235];
const SKIN: Colour = [230, 185, 150];
const ROAD: Colour = [92, 92, 98];

const overlaps = (a: Box, b: Box): boolean => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

/** Places the spec's objects on the ground band without overlaps; an object that finds no room is left out. */
export function layoutScene(name: string, spec: SceneSpec, rng: SeededRandom): Scene {
  const { width: W, height: H } = spec;
  const s = H / 480;
  const objects: SceneObject[] = [];
  for (const label of spec.labels) {
    const [wMin, wMax, hMin, hMax] = SIZES[label];
    for (let attempt = 0; attempt < 200; attempt++) {
      const w = Math.round(rng.int(wMin, wMax) * s);
      const h = Math.round(rng.int(hMin, hMax) * s);
      const bottom = rng.int(Math.round(0.56 * H), Math.round(0.96 * H));
      const x1 = rng.int(2, W - w - 2);
      const box: Box = [x1, bottom - h, x1 + w, bottom];
      if (box[1] < 0) continue;
      // A small gap keeps shapes visually apart so every box reads as one object.
      const padded: Box = [box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4];
      if (objects.some((o) => overlaps(o.box, padded))) continue;
      objects.push({ label, box });
      break;
    }
  }
  return { name, imagePath: `images/${name}.png`, width: W, height: H, objects };
}

export function paintScene(scene: Scene, rng: SeededRandom): Canvas {
  const { width: W, height: H } = scene;
  const c = new Canvas(W, H);
  const horizon = Math.round(0.45 * H);
  const kerb = Math.round(0.55 * H);
  c.fillGradient(0, horizon, [110, 160, 225], [200, 220, 240]);
  for (let x = 0; x < W; ) {
    const bw = rng.int(Math.round(W / 14), Math.round(W / 6));
    const bh = rng.int(Math.round(H / 10), Math.round(H / 3));
    const g = rng.int(120, 185);
    c.fillRect(x, horizon - bh, x + bw, horizon, [g, g - 8, g - 16]);
    for (let wy = horizon - bh + 8; wy < horizon - 12; wy += 18) {
      for (let wx = x + 6; wx < x + bw - 10; wx += 16) c.fillRect(wx, wy, wx + 7, wy + 9, [225, 225, 200]);
    }
    x += bw + rng.int(0, 12);
  }
  c.fillRect(0, horizon, W, kerb, [185, 182, 172]);
  c.fillRect(0, kerb, W, H, ROAD);
  const lane = Math.round(0.78 * H);
  for (let x = 10; x < W; x += 70) c.fillRect(x, lane, x + 38, lane + Math.max(2, Math.round(H / 120)), [240, 240, 240]);

  // Far objects first, so nearer ones would cover them (boxes never overlap, but shadows might).
  const order = [...scene.objects].sort((a, b) => a.box[3] - b.box[3]);
  for (const o of order) PAINTERS[o.label](c, o.box);
  return c;
}

type Painter = (c: Canvas, b: Box) => void;

const PAINTERS: Record<ObjectLabel, Painter> = {
  car(c, [x1, y1, x2, y2]) {
    const w = x2 - x1;
    const h = y2 - y1;
    c.fillPolygon([[x1 + 0.22 * w, y1 + 0.4 * h], [x1 + 0.32 * w, y1], [x2 - 0.3 * w, y1], [x2 - 0.18 * w, y1 + 0.4 * h]], COLOURS.car);
    c.fillRect(x1 + 0.35 * w, y1 + 0.08 * h, x2 - 0.34 * w, y1 + 0.36 * h, GLASS);
    c.fillRect(x1, y1 + 0.38 * h, x2, y2 - 0.16 * h, COLOURS.car);
    wheels(c, x1 + 0.12 * w, x2 - 0.12 * w, y2, 0.34 * h);
  },
  truck(c, [x1, y1, x2, y2]) {
    const w = x2 - x1;
    const h = y2 - y1;
    c.fillRect(x1, y1, x1 + 0.7 * w, y2 - 0.14 * h, COLOURS.truck);
    c.fillRect(x1 + 0.72 * w, y1 + 0.32 * h, x2, y2 - 0.14 * h, [60, 110, 210]);
    c.fillRect(x1 + 0.78 * w, y1 + 0.38 * h, x2 - 0.05 * w, y1 + 0.55 * h, GLASS);
    wheels(c, x1 + 0.12 * w, x2 - 0.12 * w, y2, 0.26 * h);
  },
  bus(c, [x1, y1, x2, y2]) {
    const w = x2 - x1;
    const h = y2 - y1;
    c.fillRect(x1, y1, x2, y2 - 0.12 * h, COLOURS.bus);
    for (let wx = x1 + 0.05 * w; wx < x2 - 0.1 * w; wx += 0.12 * w) c.fillRect(wx, y1 + 0.12 * h, wx + 0.08 * w, y1 + 0.42 * h, GLASS);
    wheels(c, x1 + 0.14 * w, x2 - 0.14 * w, y2, 0.24 * h);
  },
  pedestrian(c, [x1, y1, x2, y2]) {
    const w = x2 - x1;
    const h = y2 - y1;
    c.fillEllipse(x1 + 0.22 * w, y1, x2 - 0.22 * w, y1 + 0.18 * h, SKIN);
    c.fillRect(x1, y1 + 0.18 * h, x2, y1 + 0.58 * h, COLOURS.pedestrian);
    c.fillRect(x1 + 0.15 * w, y1 + 0.58 * h, x1 + 0.45 * w, y2, [50, 50, 90]);
    c.fillRect(x2 - 0.45 * w, y1 + 0.58 * h, x2 - 0.15 * w, y2, [50, 50, 90]);
  },
  bicycle(c, [x1, y1, x2, y2]) {
    const w = x2 - x1;
    const h = y2 - y1;
    const d = Math.min(0.42 * w, 0.75 * h);
    const t = Math.max(2, w / 22);
    for (const left of [x1, x2 - d]) {
      c.fillEllipse(left, y2 - d, left + d, y2, WHEEL);
      c.fillEllipse(left + t, y2 - d + t, left + d - t, y2 - t, ROAD);
    }
    const axle = y2 - d / 2;
    const rear = x1 + d / 2;
    const front = x2 - d / 2;
    const seat: [number, number] = [x1 + 0.42 * w, y1 + 0.3 * h];
    c.line(rear, axle, seat[0], seat[1], t, COLOURS.bicycle);
    c.line(seat[0], seat[1], front - 0.1 * w, seat[1], t, COLOURS.bicycle);
    c.line(rear, axle, x1 + 0.5 * w, axle, t, COLOURS.bicycle);
    c.line(x1 + 0.5 * w, axle, seat[0], seat[1], t, COLOURS.bicycle);
    c.line(front, axle, x2 - 0.25 * w, y1 + t, t, COLOURS.bicycle);
    c.fillRect(x2 - 0.36 * w, y1, x2 - 0.16 * w, y1 + t, COLOURS.bicycle);
  },
  dog(c, [x1, y1, x2, y2]) {
    const w = x2 - x1;
    const h = y2 - y1;
    c.fillRect(x1, y1 + 0.3 * h, x1 + 0.16 * w, y1 + 0.42 * h, COLOURS.dog);
    c.fillEllipse(x1 + 0.1 * w, y1 + 0.28 * h, x2 - 0.18 * w, y1 + 0.74 * h, COLOURS.dog);
    c.fillEllipse(x2 - 0.32 * w, y1, x2, y1 + 0.46 * h, [120, 75, 30]);
    c.fillRect(x1 + 0.2 * w, y1 + 0.6 * h, x1 + 0.3 * w, y2, COLOURS.dog);
    c.fillRect(x2 - 0.35 * w, y1 + 0.6 * h, x2 - 0.25 * w, y2, COLOURS.dog);
  },
  'traffic light'(c, [x1, y1, x2, y2]) {
    const w = x2 - x1;
    const h = y2 - y1;
    c.fillRect(x1 + 0.4 * w, y1 + 0.4 * h, x2 - 0.4 * w, y2, [110, 110, 110]);
    c.fillRect(x1, y1, x2, y1 + 0.42 * h, COLOURS['traffic light']);
    const cell = (0.42 * h) / 3;
    const lamps: Colour[] = [[230, 40, 30], [240, 180, 20], [40, 200, 80]];
    lamps.forEach((lamp, i) => c.fillEllipse(x1 + 0.18 * w, y1 + i * cell + 0.12 * cell, x2 - 0.18 * w, y1 + (i + 1) * cell - 0.12 * cell, lamp));
  },
  'stop sign'(c, [x1, y1, x2, y2]) {
    const w = x2 - x1;
    c.fillRect(x1 + 0.42 * w, y1 + 0.9 * w, x2 - 0.42 * w, y2, [120, 120, 120]);
    const k = 0.29 * w;
    c.fillPolygon([[x1 + k, y1], [x2 - k, y1], [x2, y1 + k], [x2, y1 + w - k], [x2 - k, y1 + w], [x1 + k, y1 + w], [x1, y1 + w - k], [x1, y1 + k]], COLOURS['stop sign']);
    c.fillRect(x1 + 0.18 * w, y1 + 0.42 * w, x2 - 0.18 * w, y1 + 0.58 * w, [250, 250, 250]);
  },
};

/** Two wheels whose bottoms sit on y2; `left`/`right` are the wheel centres. */
function wheels(c: Canvas, left: number, right: number, y2: number, d: number): void {
  c.fillEllipse(left - d / 2, y2 - d, left + d / 2, y2, WHEEL);
  c.fillEllipse(right - d / 2, y2 - d, right + d / 2, y2, WHEEL);
}
