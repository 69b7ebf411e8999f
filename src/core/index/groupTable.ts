/**
 * The index's GRPO groups: key ↔ id, the rows each spans, and the spread of the logged totals so
 * zero-variance groups are known without reading a record. Ids follow first appearance.
 */
import { f32, i32, u32, u8, type AnyColumn } from './columns';

export class GroupTable {
  readonly keys: string[] = [];
  private readonly ids = new Map<string, number>();
  private lastKey: string | null = null;
  private lastId = -1;
  /** First and last row, member count, step (-1 unknown). */
  readonly first = i32();
  readonly last = i32();
  readonly size = i32();
  readonly step = i32(-1);
  /** Min and max logged total, and how many members have one (zero variance needs all). */
  readonly minTotal = f32(NaN);
  readonly maxTotal = f32(NaN);
  readonly withTotal = i32();
  /**
   * The group's summary once scored (score.ts `settleGroup`): the spread of the totals the
   * zero-variance flag looks at (logged when every member logs one, else recomputed) and its
   * flags (GROUP_FLAG bits).
   */
  readonly lo = f32(NaN);
  readonly hi = f32(NaN);
  readonly mean = f32(NaN);
  readonly flags = u8();
  /**
   * A 32-bit hash of the group's prompt (text and images, `promptHash`) taken from its first
   * member's record when that record is at hand (added, scored, or read back by a prompt
   * lookup); 0 while unknown (a scanned row not scored yet). Equal hashes only nominate: a
   * lookup confirms on a record read back (src/core/view/samePrompt.ts).
   */
  readonly prompt = u32();

  private columns(): AnyColumn[] {
    return [this.first, this.last, this.size, this.step, this.minTotal, this.maxTotal, this.withTotal, this.lo, this.hi, this.mean, this.flags, this.prompt];
  }

  /** Records group `g`'s prompt hash when `row` is its first member and the hash is not known yet. */
  notePrompt(g: number, row: number, prompt: PromptLike | undefined): void {
    if (g < 0 || this.prompt.data[g] !== 0 || this.first.data[g] !== row) return;
    this.prompt.data[g] = promptHash(prompt);
  }

  /** Recounts the logged totals of group `g` from its members' (after members left it). */
  recount(g: number, totals: ArrayLike<number>): void {
    this.withTotal.data[g] = 0;
    for (let k = 0; k < totals.length; k++) {
      const total = totals[k]!;
      if (Number.isNaN(total)) continue;
      const t = Math.fround(total);
      const n = this.withTotal.data[g]!++;
      if (n === 0 || t < this.minTotal.data[g]!) this.minTotal.data[g] = t;
      if (n === 0 || t > this.maxTotal.data[g]!) this.maxTotal.data[g] = t;
    }
  }

  get count(): number {
    return this.keys.length;
  }

  id(key: string): number | undefined {
    return this.ids.get(key);
  }

  /** Adds row `row` to group `key` (created on first sight) and returns its id. */
  add(key: string, row: number, step: number, total: number): number {
    let g = key === this.lastKey ? this.lastId : this.ids.get(key);
    if (g === undefined) {
      g = this.keys.length;
      this.keys.push(key);
      this.ids.set(key, g);
      for (const c of this.columns()) c.reserve(g);
      this.first.data[g] = row;
      this.step.data[g] = step;
    }
    this.lastKey = key;
    this.lastId = g;
    this.last.data[g] = row;
    this.size.data[g]!++;
    if (!Number.isNaN(total)) {
      const t = Math.fround(total);
      const n = this.withTotal.data[g]!++;
      if (n === 0 || t < this.minTotal.data[g]!) this.minTotal.data[g] = t;
      if (n === 0 || t > this.maxTotal.data[g]!) this.maxTotal.data[g] = t;
    }
    return g;
  }

  /** All members have a logged total and they are equal: the group teaches nothing. */
  zeroVariance(g: number): boolean {
    const n = this.size.data[g]!;
    return n > 1 && this.withTotal.data[g] === n && this.minTotal.data[g] === this.maxTotal.data[g];
  }

  /** Members sit on consecutive rows (the usual layout), so one read fetches them all. */
  contiguous(g: number): boolean {
    return this.last.data[g]! - this.first.data[g]! + 1 === this.size.data[g];
  }

  /** Drops spare room beyond the groups plus `headroom` of them. */
  trim(headroom: number): void {
    const keep = this.count + Math.ceil(this.count * headroom);
    for (const c of this.columns()) if (c.data.length > keep) c.fit(keep);
  }

  fit(): void {
    for (const c of this.columns()) c.fit(this.count);
  }

  clear(): void {
    this.keys.length = 0;
    this.ids.clear();
    this.lastKey = null;
    for (const c of this.columns()) c.fit(0);
  }

  /**
   * Bytes held: the typed arrays exactly, the keys and map estimated (V8 does not say): a
   * one-byte string costs ~16 bytes plus its length, a Map entry ~3 pointers.
   */
  byteSize(): number {
    let typed = 0;
    for (const c of this.columns()) typed += c.data.byteLength;
    let strings = 0;
    for (const k of this.keys) strings += 16 + k.length * (/^[\x00-\xff]*$/.test(k) ? 1 : 2) + 8 + 24;
    return typed + strings;
  }
}

/** A record's prompt as the group keys see it (src/core/rollouts/groups.ts). */
export interface PromptLike {
  text?: string;
  images?: readonly string[];
}

/** The prompt's identity as a string: its text (missing reads as empty) and its images, in order. */
export function promptSignature(p: PromptLike | undefined): string {
  return JSON.stringify([p?.text ?? '', p?.images ?? []]);
}

/** FNV-1a over the signature's UTF-16 units, never 0 (0 marks an unknown hash). */
export function promptHash(p: PromptLike | undefined): number {
  const s = promptSignature(p);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h >>>= 0;
  return h === 0 ? 1 : h;
}
