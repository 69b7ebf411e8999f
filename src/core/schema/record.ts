/**
 * The canonical rollout record (v1): one completion per JSON line. Every trainer format is
 * turned into this shape by an adapter; the viewer, the CLI and the rewards read only this.
 * Validation happens once, here, at the edge: wrong types are errors naming the line, missing
 * fields are allowed, unknown fields are kept in `extra`.
 */

/** Coordinate frame of boxes written in a record's completion / solution / gt_boxes. */
export type BoxFrame = 'abs' | 'resized' | 'rel1000' | 'rel1';
export const BOX_FRAMES: readonly BoxFrame[] = ['abs', 'resized', 'rel1000', 'rel1'];

/** A gold box: `box` is xyxy unless `format` says COCO xywh. */
export interface GoldBox {
  label: string;
  box: [number, number, number, number];
  format?: 'xyxy' | 'xywh';
}

export type CompletionSegmentInput = { type: 'text'; text: string } | { type: 'image'; path: string };

export interface RolloutRecord {
  v: 1;
  run?: string;
  step?: number;
  group?: string;
  index?: number;
  prompt?: { text?: string; images?: string[] };
  /** Plain text, or interleaved text/image segments (Anole / SEED-LLaMA chains). */
  completion: string | CompletionSegmentInput[];
  solution?: string;
  possible_answers?: string[];
  gt_boxes?: GoldBox[];
  box_frame?: BoxFrame;
  image_size?: [number, number];
  rewards?: Record<string, number>;
  reward?: number;
  advantage?: number;
  meta?: Record<string, unknown>;
  /** Unknown top-level fields, kept verbatim so export round-trips them. */
  extra?: Record<string, unknown>;
}

export interface BadLine {
  /** 1-based line number in `file`. */
  line: number;
  error: string;
  file?: string;
}

export type ParseResult = { ok: true; record: RolloutRecord } | { ok: false; error: string };

const KNOWN = new Set([
  'v', 'run', 'step', 'group', 'index', 'prompt', 'completion', 'solution', 'possible_answers',
  'gt_boxes', 'box_frame', 'image_size', 'rewards', 'reward', 'advantage', 'meta',
]);

class FieldError extends Error {}

function fail(msg: string): never {
  throw new FieldError(msg);
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function finite(x: unknown, where: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(`${where} must be a finite number, got ${describe(x)}`);
  return x;
}

function str(x: unknown, where: string): string {
  if (typeof x !== 'string') fail(`${where} must be a string, got ${describe(x)}`);
  return x;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'string') return `a string`;
  if (typeof x === 'number') return Number.isFinite(x) ? `the number ${x}` : String(x);
  return `a ${typeof x}`;
}

function box4(x: unknown, where: string): [number, number, number, number] {
  if (!Array.isArray(x) || x.length !== 4) fail(`${where} must be an array of 4 numbers`);
  return [finite(x[0], `${where}[0]`), finite(x[1], `${where}[1]`), finite(x[2], `${where}[2]`), finite(x[3], `${where}[3]`)];
}

/** Validate an already-parsed JSON value as a v1 record. Throws FieldError with a field path. */
export function toRecord(raw: unknown): RolloutRecord {
  if (!isObj(raw)) fail(`a record must be a JSON object, got ${describe(raw)}`);
  if (raw.v !== undefined && raw.v !== 1) fail(`"v" must be 1, got ${JSON.stringify(raw.v)}`);
  if (raw.completion === undefined) fail(`"completion" is missing`);
  const rec: RolloutRecord = { v: 1, completion: '' };

  const c = raw.completion;
  if (typeof c === 'string') rec.completion = c;
  else if (Array.isArray(c)) {
    rec.completion = c.map((s, i): CompletionSegmentInput => {
      if (!isObj(s)) fail(`"completion[${i}]" must be an object`);
      if (s.type === 'text') return { type: 'text', text: str(s.text, `"completion[${i}].text"`) };
      if (s.type === 'image') return { type: 'image', path: str(s.path, `"completion[${i}].path"`) };
      return fail(`"completion[${i}].type" must be "text" or "image"`);
    });
  } else fail(`"completion" must be a string or a list of segments, got ${describe(c)}`);

  if (raw.run !== undefined) rec.run = str(raw.run, '"run"');
  if (raw.step !== undefined) {
    const s = finite(raw.step, '"step"');
    if (!Number.isInteger(s) || s < 0) fail(`"step" must be a non-negative integer, got ${s}`);
    rec.step = s;
  }
  if (raw.group !== undefined) {
    if (typeof raw.group === 'number' && Number.isFinite(raw.group)) rec.group = String(raw.group);
    else rec.group = str(raw.group, '"group"');
  }
  if (raw.index !== undefined) {
    const i = finite(raw.index, '"index"');
    if (!Number.isInteger(i) || i < 0) fail(`"index" must be a non-negative integer, got ${i}`);
    rec.index = i;
  }
  if (raw.prompt !== undefined) {
    const p = raw.prompt;
    if (typeof p === 'string') rec.prompt = { text: p };
    else if (isObj(p)) {
      rec.prompt = {};
      if (p.text !== undefined) rec.prompt.text = str(p.text, '"prompt.text"');
      if (p.images !== undefined) {
        if (!Array.isArray(p.images)) fail(`"prompt.images" must be a list of paths`);
        rec.prompt.images = p.images.map((x, i) => str(x, `"prompt.images[${i}]"`));
      }
    } else fail(`"prompt" must be an object or a string, got ${describe(p)}`);
  }
  if (raw.solution !== undefined && raw.solution !== null) rec.solution = str(raw.solution, '"solution"');
  if (raw.possible_answers !== undefined) {
    if (!Array.isArray(raw.possible_answers)) fail(`"possible_answers" must be a list of strings`);
    rec.possible_answers = raw.possible_answers.map((x, i) => str(x, `"possible_answers[${i}]"`));
  }
  if (raw.gt_boxes !== undefined) {
    if (!Array.isArray(raw.gt_boxes)) fail(`"gt_boxes" must be a list`);
    rec.gt_boxes = raw.gt_boxes.map((g, i): GoldBox => {
      if (!isObj(g)) fail(`"gt_boxes[${i}]" must be an object with "label" and "box"`);
      const out: GoldBox = { label: str(g.label, `"gt_boxes[${i}].label"`), box: box4(g.box, `"gt_boxes[${i}].box"`) };
      if (g.format !== undefined) {
        if (g.format !== 'xyxy' && g.format !== 'xywh') fail(`"gt_boxes[${i}].format" must be "xyxy" or "xywh"`);
        out.format = g.format;
      }
      return out;
    });
  }
  if (raw.box_frame !== undefined) {
    if (!(BOX_FRAMES as readonly unknown[]).includes(raw.box_frame)) {
      fail(`"box_frame" must be one of ${BOX_FRAMES.join(', ')}, got ${JSON.stringify(raw.box_frame)}`);
    }
    rec.box_frame = raw.box_frame as BoxFrame;
  }
  if (raw.image_size !== undefined) {
    const s = raw.image_size;
    if (!Array.isArray(s) || s.length !== 2) fail(`"image_size" must be [width, height]`);
    const w = finite(s[0], '"image_size[0]"');
    const h = finite(s[1], '"image_size[1]"');
    if (w <= 0 || h <= 0) fail(`"image_size" must be positive, got [${w}, ${h}]`);
    rec.image_size = [w, h];
  }
  if (raw.rewards !== undefined) {
    if (!isObj(raw.rewards)) fail(`"rewards" must be an object of name → number`);
    // Keys are file content: own data properties (fromEntries defines, never assigns), so a reward
    // named `__proto__` is kept as a reward. Look names up with Object.hasOwn: a plain object
    // answers `constructor` from its prototype.
    rec.rewards = Object.fromEntries(Object.entries(raw.rewards).map(([k, v]) => [k, finite(v, `"rewards.${k}"`)]));
  }
  if (raw.reward !== undefined) rec.reward = finite(raw.reward, '"reward"');
  if (raw.advantage !== undefined) rec.advantage = finite(raw.advantage, '"advantage"');
  if (raw.meta !== undefined) {
    if (!isObj(raw.meta)) fail(`"meta" must be an object`);
    // As JSON.parse made it: every key (`__proto__` included) an own data property.
    rec.meta = raw.meta;
  }
  // Own data properties (fromEntries defines, never assigns): a `__proto__` field is kept as a field.
  const extra = Object.entries(raw).filter(([k]) => !KNOWN.has(k));
  if (extra.length) rec.extra = Object.fromEntries(extra);
  return rec;
}

/** Parse one line of a v1 file. Never throws; the caller attaches the line number. */
export function parseRecordLine(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `invalid JSON: ${(e as Error).message}` };
  }
  try {
    return { ok: true, record: toRecord(raw) };
  } catch (e) {
    if (e instanceof FieldError) return { ok: false, error: e.message };
    throw e;
  }
}

/** The record as canonical v1 JSON (unknown fields restored at top level; spread keeps a `__proto__` key as data). */
export function recordToJSON(rec: RolloutRecord): Record<string, unknown> {
  const { extra, ...known } = rec;
  return { ...known, ...(extra ?? {}) };
}

/** Completion as plain text (image segments become `<image:path>` markers). */
export function completionText(rec: RolloutRecord): string {
  if (typeof rec.completion === 'string') return rec.completion;
  return rec.completion.map((s) => (s.type === 'text' ? s.text : `<image:${s.path}>`)).join('');
}
