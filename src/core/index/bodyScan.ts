/**
 * Reads rows' bodies back in large batches: for each body file, its rows in offset order, whole
 * rows up to a batch size (at least one row, however long), one read per batch. The text search,
 * a `meta.<key>` filter, a rescore under another reward variant and a verdict lookup all walk
 * the bodies this way; the index itself never holds one.
 */
import { RowReadError, type LocatedRow, type RolloutIndex } from './rolloutIndex';

export const BATCH_BYTES = 8 << 20;

export interface BodyBatch {
  /** The bytes from the first row's body to the end of the last. */
  bytes: Buffer;
  /** File offset of `bytes[0]`. */
  start: number;
  /** The batch's rows, in offset order. */
  rows: Int32Array;
}

/** Live rows among `[0, n)` (or the given rows), per body file, in offset order. */
function rowsByBody(index: RolloutIndex, n: number, only?: ArrayLike<number>): Map<number, Int32Array> {
  const lists = new Map<number, number[]>();
  const body = index.bodyOf;
  const group = index.group.data;
  const take = (r: number): void => {
    if (group[r]! < 0) return; // dropped (its file was truncated)
    const b = body.get(r);
    let l = lists.get(b);
    if (!l) lists.set(b, (l = []));
    l.push(r);
  };
  if (only) for (let k = 0; k < only.length; k++) take(only[k]!);
  else for (let r = 0; r < n; r++) take(r);
  const out = new Map<number, Int32Array>();
  for (const [b, l] of lists) {
    const rows = Int32Array.from(l);
    let sorted = true;
    for (let k = 1; k < rows.length && sorted; k++) sorted = index.offsetOf(rows[k]!) >= index.offsetOf(rows[k - 1]!);
    if (!sorted) rows.sort((x, y) => index.offsetOf(x) - index.offsetOf(y));
    out.set(b, rows);
  }
  return out;
}

/** Batches of rows `[0, n)` (or `only`), every body file in turn. */
export async function* bodyBatches(index: RolloutIndex, n: number, opts: { signal?: AbortSignal; only?: ArrayLike<number> } = {}): AsyncGenerator<BodyBatch> {
  let buf = Buffer.allocUnsafe(Math.min(BATCH_BYTES, 1 << 16));
  for (const [b, rows] of rowsByBody(index, n, opts.only)) {
    const fh = await index.handle(b);
    let k = 0;
    while (k < rows.length) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      const start = index.offsetOf(rows[k]!);
      let end = k;
      const last = (r: number): number => index.offsetOf(r) + index.byteLength.data[r]!;
      while (end < rows.length && last(rows[end]!) - start <= BATCH_BYTES) end++;
      if (end === k) end = k + 1;
      const span = last(rows[end - 1]!) - start;
      if (span > buf.length) buf = Buffer.allocUnsafe(Math.max(span, Math.min(BATCH_BYTES, buf.length * 2)));
      await fh.read(buf, 0, span, start);
      yield { bytes: buf.subarray(0, span), start, rows: rows.subarray(k, end) };
      k = end;
    }
  }
}

/** Row `r`'s body inside a batch. */
export function bodyIn(index: RolloutIndex, batch: BodyBatch, r: number): Buffer {
  const at = index.offsetOf(r) - batch.start;
  return batch.bytes.subarray(at, at + index.byteLength.data[r]!);
}

/**
 * Calls `fn` with every live row's record among `[0, n)` (or `only`), body file by body file; a
 * row whose line no longer parses (changed on disk) is passed to `onBad` instead, if given.
 * Yields to the event loop between batches.
 */
export async function forEachRecord(index: RolloutIndex, n: number, fn: (row: number, rec: LocatedRow) => void,
  opts: { signal?: AbortSignal; only?: ArrayLike<number>; onBad?: (row: number, e: RowReadError) => void; afterBatch?: () => void } = {}): Promise<void> {
  for await (const batch of bodyBatches(index, n, opts)) {
    for (const r of batch.rows) {
      let rec: LocatedRow;
      try {
        rec = index.parseRow(r, bodyIn(index, batch, r), false);
      } catch (e) {
        if (!(e instanceof RowReadError)) throw e;
        opts.onBad?.(r, e);
        continue;
      }
      fn(r, rec);
    }
    opts.afterBatch?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
