/**
 * Which GRPO group a completion belongs to. Trainers that write `group` are trusted; for the
 * rest a group is a run of consecutive records with the same step and the identical prompt
 * (text and images), which is how TRL and the seeds lay out num_generations completions.
 */
import type { RolloutRecord } from '../schema/record';

/** Anything carrying a record (a record with its location, a row of a table). */
export interface HasRecord {
  record: RolloutRecord;
}

export interface RecordGroup<T extends HasRecord = HasRecord> {
  key: string;
  /** True when the key was derived rather than read from `group`. */
  derived: boolean;
  items: T[];
}

/**
 * Assigns keys in file order. Derived keys look like `~<step>/<n>` (`~?/<n>` without a step),
 * n counting derived groups within that step; the `~` keeps them apart from written keys.
 */
export class GroupKeys {
  private lastSignature: string | null = null;
  private lastKey = '';
  private readonly perStep = new Map<string, number>();

  keyOf(rec: RolloutRecord): string {
    if (rec.group !== undefined) {
      this.lastSignature = null; // a written group interrupts a derived run
      return rec.group;
    }
    const step = rec.step === undefined ? '?' : String(rec.step);
    const signature = JSON.stringify([step, rec.prompt?.text ?? null, rec.prompt?.images ?? []]);
    if (signature !== this.lastSignature) {
      const n = this.perStep.get(step) ?? 0;
      this.perStep.set(step, n + 1);
      this.lastKey = `~${step}/${n}`;
      this.lastSignature = signature;
    }
    return this.lastKey;
  }
}

/** Groups records in file order; groups come out in order of first appearance. */
export function groupRecords<T extends HasRecord>(items: readonly T[]): RecordGroup<T>[] {
  const keys = new GroupKeys();
  const byKey = new Map<string, RecordGroup<T>>();
  for (const item of items) {
    const key = keys.keyOf(item.record);
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { key, derived: item.record.group === undefined, items: [] }));
    g.items.push(item);
  }
  return [...byKey.values()];
}
