/**
 * `onNewCheckpoint`: watch run folders for a new `checkpoint-N` / `global_step_N` and report it
 * once it is written. A trainer creates the folder first and fills it over seconds to minutes, so
 * a checkpoint counts as new-and-ready when its files (names, sizes, times, one level deep) have
 * not changed for `settleMs` (and it holds a file). Checkpoints already there when watching starts are not new.
 * Polling, not fs.watch: run folders are often on network file systems that send no events.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints, type Checkpoint } from '../training/checkpoints';

export interface CheckpointWatchOptions {
  folders: readonly string[];
  settleMs: number;
  pollMs?: number;
  onReady(c: Checkpoint): void;
}

function signature(dir: string): { sig: string; files: number } {
  const parts: string[] = [];
  let files = 0;
  const walk = (d: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      parts.push(`!${d}`);
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        parts.push(`${p}/`);
        if (depth < 1) walk(p, depth + 1);
        continue;
      }
      try {
        const s = statSync(p);
        parts.push(`${p}:${s.size}:${s.mtimeMs}`);
        files++;
      } catch {
        parts.push(`${p}:gone`);
      }
    }
  };
  walk(dir, 0);
  return { sig: parts.join('\n'), files };
}

export class CheckpointWatch {
  private readonly seen = new Set<string>();
  /** New checkpoints not yet settled: their last signature and since when it held. */
  private readonly pending = new Map<string, { sig: string; since: number; c: Checkpoint }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: CheckpointWatchOptions) {
    for (const f of o.folders) for (const c of listCheckpoints(f)) this.seen.add(c.path);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.o.pollMs ?? 2000);
    this.timer.unref();
  }

  /** One look at the folders (the timer calls it; tests call it directly). */
  poll(now = Date.now()): void {
    for (const f of this.o.folders) {
      for (const c of listCheckpoints(f)) {
        if (this.seen.has(c.path)) continue;
        const { sig, files } = signature(c.path);
        const p = this.pending.get(c.path);
        if (!p || p.sig !== sig) {
          this.pending.set(c.path, { sig, since: now, c });
          if (this.o.settleMs > 0) continue;
        }
        // An empty folder is a checkpoint about to be written, never a written one.
        if (files === 0 || now - this.pending.get(c.path)!.since < this.o.settleMs) continue;
        this.pending.delete(c.path);
        this.seen.add(c.path);
        this.o.onReady(c);
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
