/**
 * Where CPython's buffered text file turns a block's `f.write(...)` calls into raw write(2)
 * calls. VLM-R1 and R1-V log each completion with `with open(path, "a") as f:` and several
 * `f.write` calls; every rank appends to the same file, and O_APPEND makes each raw write land
 * whole, but another process's writes can land between two raw writes of one block. Knowing
 * where a block's raw writes can start tells which reassemblies of an interleaved file are
 * possible (docs/formats.md, "VLM-R1 debug log").
 *
 * The model is CPython's C implementation (Modules/_io/textio.c, bufferedio.c):
 * - TextIOWrapper.write appends the encoded text to a pending list; when the pending bytes plus
 *   the new ones would exceed the chunk size (8192) it first hands the pending bytes to the
 *   buffer, and when the pending bytes reach the chunk size it hands them over at once. So text
 *   reaches the buffer in groups of whole `f.write` calls.
 * - BufferedWriter.write copies data that fits in what is left of its buffer; otherwise it
 *   writes out what it holds, then writes data larger than the buffer straight through, or keeps
 *   it. close() flushes both.
 * So every raw write starts at the start of some `f.write` call.
 */

/** TextIOWrapper's _CHUNK_SIZE. */
export const TEXT_CHUNK = 8192;
/** Buffer sizes open() picks on common file systems: st_blksize 4096, else io.DEFAULT_BUFFER_SIZE. */
export const BUFFER_SIZES: readonly number[] = [4096, 8192];

/** For one file object's `f.write` byte sizes (then close): `starts[i]` is true when a raw write begins with write i. */
export function rawWriteStarts(sizes: readonly number[], bufferSize: number, chunk = TEXT_CHUNK): boolean[] {
  const starts = sizes.map(() => false);
  let pending = 0;
  let pendingFirst = 0;
  let held = 0;
  let heldFirst = 0;
  const toBuffer = (n: number, first: number): void => {
    if (n <= bufferSize - held) {
      if (held === 0) heldFirst = first;
      held += n;
      return;
    }
    if (held > 0) starts[heldFirst] = true;
    held = 0;
    if (n > bufferSize) starts[first] = true;
    else {
      held = n;
      heldFirst = first;
    }
  };
  const flushPending = (): void => {
    if (pending > 0) toBuffer(pending, pendingFirst);
    pending = 0;
  };
  sizes.forEach((n, i) => {
    if (pending + n > chunk) {
      flushPending();
      pending = n;
      pendingFirst = i;
    } else {
      if (pending === 0) pendingFirst = i;
      pending += n;
    }
    if (pending >= chunk) flushPending();
  });
  flushPending();
  if (held > 0) starts[heldFirst] = true;
  return starts;
}

/** A raw write may begin with write i under one of the usual buffer sizes. */
export function possibleStarts(sizes: readonly number[]): boolean[] {
  const all = BUFFER_SIZES.map((b) => rawWriteStarts(sizes, b));
  return sizes.map((_, i) => all.some((s) => s[i]!));
}
