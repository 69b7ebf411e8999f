/**
 * The index's fast path: walks one v1 line's top-level object as bytes and pulls out only the
 * fields the index keeps, without building the record. Big strings (prompt, solution, meta) are
 * skipped with native `indexOf` instead of being decoded; only the completion is decoded, for
 * its length and the format check. Anything unusual (escapes in keys, a segments completion, a
 * wrong type, odd nesting) returns false and the caller parses the line fully, so the columns
 * are always those a full parse gives. What this path does not check: the inner shape of values
 * the index does not use (a `gt_boxes` entry with three numbers, a bad escape inside `solution`);
 * those lines are reported bad when the record is read back (or at build with `validate: 'full'`).
 */

import { formatMatches } from '../chain/parse';
import { completionFacts } from './completionBytes';
import { readJsonNumber } from './jsonNumber';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const enum Key {
  Other, V, Run, Step, Group, Index, Prompt, Completion, Solution, PossibleAnswers, GtBoxes, BoxFrame,
  ImageSize, Rewards, Reward, Advantage, Meta,
}

const KEYS: ReadonlyArray<[string, Key]> = [
  ['v', Key.V], ['run', Key.Run], ['step', Key.Step], ['group', Key.Group], ['index', Key.Index],
  ['prompt', Key.Prompt], ['completion', Key.Completion], ['solution', Key.Solution],
  ['possible_answers', Key.PossibleAnswers], ['gt_boxes', Key.GtBoxes], ['box_frame', Key.BoxFrame],
  ['image_size', Key.ImageSize], ['rewards', Key.Rewards], ['reward', Key.Reward], ['advantage', Key.Advantage],
  ['meta', Key.Meta],
];
interface KeySlot { hash: number; bytes: Uint8Array; key: Key }
const SLOT_MASK = 127;
const slotOf = (h: number): number => (h ^ (h >>> 7)) & SLOT_MASK;
const KEY_SLOTS: (KeySlot | undefined)[] = (() => {
  const slots: (KeySlot | undefined)[] = new Array(SLOT_MASK + 1);
  for (const [name, key] of KEYS) {
    let h = 0;
    for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0;
    // The table is sized so the known keys never share a slot; a clash would be a bug here.
    if (slots[slotOf(h)]) throw new Error(`index key table clash: ${name}`);
    slots[slotOf(h)] = { hash: h, bytes: Buffer.from(name), key };
  }
  return slots;
})();
const BOX_FRAME_BYTES = ['abs', 'resized', 'rel1000', 'rel1'].map((s) => Buffer.from(`"${s}"`));

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Thrown inside the walk to leave it; caught in `scan`, never escapes this module. */
class NotFast extends Error {}
const NOT_FAST = new NotFast();

/** The fields of one line the index keeps, as a full parse would give them. */
export class LineScanner {
  step = -1;
  index = -1;
  group: string | undefined;
  reward = NaN;
  advantage = NaN;
  /** UTF-8 bytes of the completion text, and the seed format check on it. */
  length = 0;
  formatOk = false;
  /** The completion's JSON string in the line, quotes included. */
  completionStart = -1;
  completionEnd = -1;
  /** Logged rewards in line order (a repeated name: the last value wins, as in JSON.parse). */
  readonly rewardNames: string[] = [];
  readonly rewardValues: number[] = [];
  /** Where the prompt value sits in the line (-1: absent), decoded only when needed. */
  promptStart = -1;
  promptEnd = -1;

  private b: Buffer = Buffer.alloc(0);
  private end = 0;

  /** Skip the completion's length and format facts (search needs only where the text is). */
  private withoutFacts = false;

  /**
   * Fills the fields from `line` (no newline); false when the line needs a full parse. With
   * `facts` false, `length` and `formatOk` are not computed (text search reads only the fields).
   */
  scan(line: Buffer, facts = true): boolean {
    this.withoutFacts = !facts;
    this.b = line;
    this.end = line.length;
    this.step = -1;
    this.index = -1;
    this.group = undefined;
    this.reward = NaN;
    this.advantage = NaN;
    this.rewardNames.length = 0;
    this.rewardValues.length = 0;
    this.promptStart = -1;
    this.completionStart = -1;
    try {
      return this.walk();
    } catch (e) {
      if (e === NOT_FAST) return false;
      throw e;
    }
  }

  /** `{text, images}` of the prompt as `toRecord` reads it, for derived group keys and search. */
  promptFields(): { text?: string; images?: unknown } {
    if (this.promptStart < 0) return {};
    const raw: unknown = JSON.parse(this.b.toString('utf8', this.promptStart, this.promptEnd));
    if (typeof raw === 'string') return { text: raw };
    const o = raw as { text?: unknown; images?: unknown };
    return { text: typeof o.text === 'string' ? o.text : undefined, images: o.images };
  }

  private walk(): boolean {
    const b = this.b;
    let p = this.ws(0);
    if (b[p] !== 0x7b) return false;
    p = this.ws(p + 1);
    let sawCompletion = false;
    if (b[p] === 0x7d) return false;
    for (;;) {
      if (b[p] !== QUOTE) return false;
      const key = this.key(p);
      p = this.ws(this.keyEnd + 1);
      if (b[p] !== 0x3a) return false;
      p = this.ws(p + 1);
      const c = b[p];
      switch (key) {
        case Key.V:
          p = this.number(p);
          if (this.num !== 1) return false;
          break;
        case Key.Step:
        case Key.Index:
          p = this.number(p);
          if (!Number.isInteger(this.num) || this.num < 0 || this.num > 0x7fffffff) return false;
          if (key === Key.Step) this.step = this.num;
          else this.index = this.num;
          break;
        case Key.Group:
          if (c === QUOTE) {
            const q = this.string(p);
            this.group = this.sameAsLastGroup(p, q) ? this.lastGroup : this.rememberGroup(p, q);
            p = q;
          } else {
            p = this.number(p);
            if (!Number.isFinite(this.num)) return false;
            this.group = String(this.num);
          }
          break;
        case Key.Completion: {
          if (c !== QUOTE) return false; // segments: the full parse builds the text
          const q = this.string(p);
          this.completionStart = p;
          this.completionEnd = q;
          sawCompletion = true;
          p = q;
          break;
        }
        case Key.Prompt:
          if (c !== QUOTE && c !== 0x7b) return false;
          this.promptStart = p;
          p = this.skip(p);
          this.promptEnd = p;
          break;
        case Key.Rewards:
          if (c !== 0x7b) return false;
          p = this.rewards(p);
          break;
        case Key.Reward:
        case Key.Advantage:
          p = this.number(p);
          if (key === Key.Reward) this.reward = this.num;
          else this.advantage = this.num;
          break;
        case Key.Run:
          if (c !== QUOTE) return false;
          p = this.string(p);
          break;
        case Key.Solution:
          if (c === 0x6e) p = this.literal(p, 'null');
          else if (c === QUOTE) p = this.string(p);
          else return false;
          break;
        case Key.BoxFrame: {
          if (c !== QUOTE) return false;
          const q = this.string(p);
          if (!BOX_FRAME_BYTES.some((f) => f.length === q - p && f.equals(b.subarray(p, q)))) return false;
          p = q;
          break;
        }
        case Key.PossibleAnswers:
        case Key.GtBoxes:
        case Key.ImageSize:
          if (c !== 0x5b) return false;
          p = this.skip(p);
          break;
        case Key.Meta:
          if (c !== 0x7b) return false;
          p = this.skip(p);
          break;
        default:
          p = this.skip(p);
      }
      p = this.ws(p);
      if (b[p] === 0x2c) {
        p = this.ws(p + 1);
        continue;
      }
      if (b[p] === 0x7d) break;
      return false;
    }
    if (!sawCompletion || this.ws(p + 1) !== this.end) return false;
    if (this.withoutFacts) return true;
    if (completionFacts(b, this.completionStart + 1, this.completionEnd - 1, this) === null) {
      const text = this.decode(this.completionStart, this.completionEnd);
      this.length = Buffer.byteLength(text);
      this.formatOk = formatMatches(text);
    }
    return true;
  }

  /** The completion text of the last scanned line (decoded now). */
  completionText(): string {
    return this.decode(this.completionStart, this.completionEnd);
  }

  private ws(p: number): number {
    const b = this.b;
    const end = this.end;
    // Writers put no space or one: test the common case before looping.
    if (p >= end || !isWs(b[p]!)) return p;
    while (p < end && isWs(b[p]!)) p++;
    return p;
  }

  private keyEnd = 0;

  /** Which known key starts at `p` (a quote); escapes in a key send the line to the full parse. */
  private key(p: number): Key {
    const b = this.b;
    let q = p + 1;
    let h = 0;
    const end = this.end;
    while (q < end) {
      const c = b[q]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH) throw NOT_FAST;
      h = (Math.imul(h, 31) + c) | 0;
      q++;
    }
    if (q >= end) throw NOT_FAST;
    this.keyEnd = q;
    // A hash of the key's bytes picks the one candidate, which the bytes then confirm.
    const slot = KEY_SLOTS[slotOf(h)];
    if (slot === undefined || slot.hash !== h || slot.bytes.length !== q - p - 1) return Key.Other;
    const w = slot.bytes;
    for (let i = 0; i < w.length; i++) if (b[p + 1 + i] !== w[i]) return Key.Other;
    return slot.key;
  }

  /** The bytes at `p` spell the ASCII `word` (its length already checked). */
  private is(p: number, word: string): boolean {
    const b = this.b;
    for (let i = 0; i < word.length; i++) if (b[p + i] !== word.charCodeAt(i)) return false;
    return true;
  }

  /** End (past the closing quote) of the string starting at `p`; native search for quotes. */
  private string(p: number): number {
    const q = jsonStringEnd(this.b, p, this.end);
    if (q < 0) throw NOT_FAST;
    return q;
  }

  /** Consecutive lines usually share a group: compare bytes instead of decoding again. */
  private lastGroupBytes = Buffer.alloc(64);
  private lastGroupLength = -1;
  private lastGroup = '';

  private sameAsLastGroup(p: number, q: number): boolean {
    const n = q - p;
    if (n !== this.lastGroupLength) return false;
    const b = this.b;
    const last = this.lastGroupBytes;
    for (let i = 0; i < n; i++) if (b[p + i] !== last[i]) return false;
    return true;
  }

  private rememberGroup(p: number, q: number): string {
    const g = this.decodeShort(p, q);
    if (q - p <= this.lastGroupBytes.length) {
      this.b.copy(this.lastGroupBytes, 0, p, q);
      this.lastGroupLength = q - p;
      this.lastGroup = g;
    } else this.lastGroupLength = -1;
    return g;
  }

  /** `decode` for short strings: a byte loop beats a native search that may run past the end. */
  private decodeShort(p: number, q: number): string {
    const b = this.b;
    for (let i = p + 1; i < q - 1; i++) {
      const c = b[i]!;
      if (c === BACKSLASH) return this.decode(p, q);
      if (c < 0x20) throw NOT_FAST;
    }
    return b.toString('utf8', p + 1, q - 1);
  }

  /** A JSON string's value; the JSON parser only when it holds escapes. */
  private decode(p: number, q: number): string {
    const v = jsonStringValue(this.b, p, q);
    if (v === null) throw NOT_FAST;
    return v;
  }

  private readonly parsed = { value: 0 };
  private num = 0;

  private number(p: number): number {
    const q = readJsonNumber(this.b, p, this.end, this.parsed);
    // 1e400: JSON.parse gives Infinity, which toRecord rejects; the full parse says so.
    if (q < 0 || !Number.isFinite(this.parsed.value)) throw NOT_FAST;
    this.num = this.parsed.value;
    return q;
  }

  private literal(p: number, word: string): number {
    for (let i = 0; i < word.length; i++) if (this.b[p + i] !== word.charCodeAt(i)) throw NOT_FAST;
    return p + word.length;
  }

  /** Past any JSON value starting at `p`. Nested values are walked byte by byte (they are small). */
  private skip(p: number): number {
    const b = this.b;
    const c = b[p];
    if (c === QUOTE) return this.string(p);
    if (c === 0x74) return this.literal(p, 'true');
    if (c === 0x66) return this.literal(p, 'false');
    if (c === 0x6e) return this.literal(p, 'null');
    if (c !== 0x7b && c !== 0x5b) return this.number(p);
    let depth = 0;
    for (;;) {
      if (p >= this.end) throw NOT_FAST;
      const d = b[p]!;
      if (d === QUOTE) {
        p = this.string(p);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return p + 1;
      }
      p++;
    }
  }

  /** Reward names seen before, so the usual line decodes none. */
  private readonly knownNames: string[] = [];

  private rewardName(p: number, q: number): string {
    for (const n of this.knownNames) if (n.length === q - p && this.is(p, n)) return n;
    const name = this.b.toString('utf8', p, q);
    if (this.knownNames.length < 64 && /^[\x20-\x7e]*$/.test(name)) this.knownNames.push(name);
    return name;
  }

  /** `"rewards": {name: number, ...}`; any other value type goes to the full parse. */
  private rewards(p: number): number {
    const b = this.b;
    p = this.ws(p + 1);
    if (b[p] === 0x7d) return p + 1;
    for (;;) {
      if (b[p] !== QUOTE) throw NOT_FAST;
      this.key(p);
      const name = this.rewardName(p + 1, this.keyEnd);
      p = this.ws(this.keyEnd + 1);
      if (b[p] !== 0x3a) throw NOT_FAST;
      p = this.number(this.ws(p + 1));
      const at = this.rewardNames.indexOf(name);
      if (at >= 0) this.rewardValues[at] = this.num;
      else {
        this.rewardNames.push(name);
        this.rewardValues.push(this.num);
      }
      p = this.ws(p);
      if (b[p] === 0x2c) {
        p = this.ws(p + 1);
        continue;
      }
      if (b[p] === 0x7d) return p + 1;
      throw NOT_FAST;
    }
  }
}

/**
 * End (past the closing quote) of the JSON string whose opening quote is at `p` in `b`, or -1
 * when it does not close before `end`. Quotes are found by native search; a quote counts when an
 * even number of backslashes precede it.
 */
export function jsonStringEnd(b: Buffer, p: number, end: number): number {
  let q = p + 1;
  for (;;) {
    q = b.indexOf(QUOTE, q);
    if (q < 0 || q >= end) return -1;
    let k = q - 1;
    while (b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    q++;
  }
}

/**
 * The value of the JSON string `b[p, q)` (quotes included); the JSON parser only when it holds
 * escapes. Null when it is not valid JSON (a raw control character, a bad escape).
 */
export function jsonStringValue(b: Buffer, p: number, q: number): string | null {
  const esc = b.indexOf(BACKSLASH, p + 1);
  if (esc < 0 || esc >= q) {
    for (let i = p + 1; i < q - 1; i++) if (b[i]! < 0x20) return null; // raw control char: invalid JSON
    return b.toString('utf8', p + 1, q - 1);
  }
  try {
    return JSON.parse(b.toString('utf8', p, q)) as string;
  } catch {
    return null;
  }
}
