/**
 * Where the canonical records of a format that cannot be read back line by line (a TRL parquet
 * table, a VLM-R1 log whose blocks other ranks' writes cut through, verl's and ms-swift's lines
 * whose records depend on the rest of the file) go, so the index can read them back instead of
 * holding them: one JSON line per record in a temporary file, removed when the index closes (and
 * when the process exits). Native v1 files need none: their own lines are read back.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RolloutRecord } from '../schema/record';
import type { BodyPlace } from './rolloutIndex';

const open = new Set<SpillFile>();
let exitHooked = false;

/** JSON for a record; int64 parquet cells come as bigint, which JSON cannot hold. */
const replacer = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v);

export class SpillFile {
  readonly path: string;
  private readonly dir: string;
  private fd: number | null;
  private size = 0;

  constructor(parent = tmpdir()) {
    this.dir = mkdtempSync(join(parent, 'grpo-studio-spill-'));
    this.path = join(this.dir, 'records.jsonl');
    this.fd = openSync(this.path, 'w');
    open.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.once('exit', () => {
        for (const s of open) s.close();
      });
    }
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.size;
  }

  /** Writes the records (one write for the batch) and returns where each one's body lies. */
  append(records: readonly RolloutRecord[]): BodyPlace[] {
    if (this.fd === null) throw new Error('the spill file is closed');
    const places: BodyPlace[] = [];
    const parts: Buffer[] = [];
    let at = this.size;
    for (const rec of records) {
      const b = Buffer.from(JSON.stringify(rec, replacer) + '\n');
      places.push({ path: this.path, offset: at, bytes: b.length - 1, spilled: true });
      parts.push(b);
      at += b.length;
    }
    const all = Buffer.concat(parts);
    let done = 0;
    while (done < all.length) done += writeSync(this.fd, all, done, all.length - done, this.size + done);
    this.size = at;
    return places;
  }

  /** Closes and removes the file (idempotent). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    open.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
