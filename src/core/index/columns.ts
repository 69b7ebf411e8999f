/**
 * Growable typed columns: one typed array per field, grown by half again when full and trimmed
 * to fit when a build pass ends, so a million completions cost tens of megabytes, not objects.
 */

type Typed = Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;
type TypedCtor<T extends Typed> = { new (n: number): T };

/** One growable column. `data` may be longer than the row count; read only `[0, count)`. */
export class Column<T extends Typed> {
  data: T;

  /**
   * `sparse`: the column holds nothing (every row reads `fill`) until `set` writes another value;
   * then it grows with the others. For columns most sources never use (a second file, an offset
   * past 4 GiB, a verdict), so they cost nothing per completion until they do.
   */
  constructor(private readonly ctor: TypedCtor<T>, capacity: number, private readonly fill = 0, private readonly sparse = false) {
    this.data = new ctor(capacity);
    if (fill !== 0) this.data.fill(fill);
  }

  private get dormant(): boolean {
    return this.sparse && this.data.length === 0;
  }

  /** Row `i`'s value (the fill value past what a sparse column holds). */
  get(i: number): number {
    return i < this.data.length ? this.data[i]! : this.fill;
  }

  /** Writes row `i`; a dormant sparse column wakes (at `capacity` rows) only for a value other than its fill. */
  set(i: number, v: number, capacity: number): void {
    if (i >= this.data.length) {
      if (this.dormant && v === this.fill) return;
      this.resize(Math.max(capacity, i + 1));
    }
    this.data[i] = v;
  }

  /** Makes room for index `n`; new slots get the column's fill value (NaN for rewards). */
  reserve(n: number, exact = false): void {
    if (n < this.data.length || this.dormant) return;
    this.resize(exact ? n + 1 : Math.max(1024, Math.ceil((n + 1) * 1.5)));
  }

  /** Drops spare capacity past `count` rows. */
  fit(count: number): void {
    if (this.data.length !== count && !this.dormant) this.resize(count);
  }

  private resize(n: number): void {
    const next = new this.ctor(n);
    const keep = Math.min(n, this.data.length);
    (next as Typed).set((this.data as Typed).subarray(0, keep));
    if (this.fill !== 0 && n > keep) next.fill(this.fill, keep);
    this.data = next;
  }
}

export const f64 = (fill = 0): Column<Float64Array> => new Column(Float64Array, 0, fill);
export const f32 = (fill = 0): Column<Float32Array> => new Column(Float32Array, 0, fill);
export const i32 = (fill = 0): Column<Int32Array> => new Column(Int32Array, 0, fill);
export const u32 = (): Column<Uint32Array> => new Column(Uint32Array, 0);
export const u16 = (fill = 0): Column<Uint16Array> => new Column(Uint16Array, 0, fill);
export const u8 = (): Column<Uint8Array> => new Column(Uint8Array, 0);
export const sparseU16 = (fill = 0): Column<Uint16Array> => new Column(Uint16Array, 0, fill, true);
export const sparseU8 = (): Column<Uint8Array> => new Column(Uint8Array, 0, 0, true);

export type AnyColumn = Column<Float64Array> | Column<Float32Array> | Column<Int32Array> | Column<Uint32Array> | Column<Uint16Array> | Column<Uint8Array>;

/** Bits of the per-completion flags column. */
export const FLAG = {
  /** The completion passes the seed format check (`formatMatches`). */
  formatOk: 1,
  /** Logged values disagree with the recomputed ones (set when the group is scored). */
  mismatch: 2,
  /** This completion has been scored. */
  scored: 4,
  /** The line took the full-parse path (escapes in keys, segments, derived group, …). */
  fullParse: 8,
  /** A predicted box lies outside the image (set when scored). */
  badBoxes: 16,
  /** A logged reward function or total differs from the recomputed one (set when scored; the advantage waits for the group). */
  partOff: 32,
  /** The record logs every function recomputed, so its total and advantage are comparable (set when scored). */
  loggedAll: 64,
} as const;
