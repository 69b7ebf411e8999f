/**
 * One followed model per rollout source in the extension host: the viewer and the Run Overview
 * of the same file or folder share one LiveRollouts (one follower, one index, every row scored
 * once). `acquire` starts it on first use and hands out a lease; the last lease released closes
 * it. A settings change rescores each source once (`rescoreAll`), and every view of it draws
 * again from the one update that follows.
 *
 * A viewer's filtered list (filter, sort, order) lives in the model it reads: a viewer asks for
 * `{ list: true }` and gets a source no other viewer lists; a second viewer of the same file (a
 * split editor) gets a source of its own. The overview needs no list and joins either.
 *
 * No `vscode` here, so the unit tests drive it as the host does.
 */
import * as path from 'node:path';
import { LiveRollouts, type LiveOptions } from '../core/view/liveRollouts';
import type { ScoreOptions } from '../core/view/rolloutView';
import { LIVE_UPDATE_MS } from '../protocol/viewer';

export interface LiveLease {
  readonly live: LiveRollouts;
  /** Settles once following has begun (rejects with why it could not start). */
  readonly started: Promise<void>;
  /** Gives the source back (idempotent); the last one closes it. */
  release(): void;
}

export interface AcquireOptions {
  /** This consumer shows the model's filtered list (a viewer). */
  list?: boolean;
}

interface Entry {
  key: string;
  live: LiveRollouts;
  started: Promise<void>;
  users: number;
  listed: boolean;
}

export class LiveSources {
  private readonly entries = new Set<Entry>();

  /** `opts`: how each LiveRollouts follows (tests poll fast); `onError`: what a close met. */
  constructor(private readonly opts: Pick<LiveOptions, 'intervalMs' | 'follow'> = {}, private readonly onError: (e: unknown) => void = () => undefined) {}

  /** The shared model of `target` (a file or folder), started on first use. */
  acquire(target: string, options: ScoreOptions, use: AcquireOptions = {}): LiveLease {
    const key = path.resolve(target);
    let entry = [...this.entries].find((e) => e.key === key && !(use.list && e.listed));
    if (!entry) {
      const live = new LiveRollouts(target, options, undefined, { intervalMs: this.opts.intervalMs ?? LIVE_UPDATE_MS, follow: this.opts.follow });
      const started = live.start();
      started.catch(() => undefined); // the lease's holder is told; an unhandled rejection is not
      entry = { key, live, started, users: 0, listed: false };
      this.entries.add(entry);
    }
    const e = entry;
    e.users++;
    if (use.list) e.listed = true;
    let released = false;
    return {
      live: e.live,
      started: e.started,
      release: () => {
        if (released) return;
        released = true;
        if (use.list) e.listed = false;
        if (--e.users > 0 || !this.entries.delete(e)) return;
        e.live.close().catch(this.onError);
      },
    };
  }

  /** Followers running now (one per source, or two where two viewers list one source). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Settings changed: each source whose scoring changed is rescored once (its views draw again
   * from the update that follows); the others are only told to draw again (a box frame, a root).
   */
  async rescoreAll(options: ScoreOptions): Promise<void> {
    await Promise.all([...this.entries].map(async ({ live }) => {
      if (sameScoring(live.options, options)) live.redraw();
      else await live.rescore(options);
    }));
  }

  /** Closes every source (the extension is deactivated). */
  async close(): Promise<void> {
    const all = [...this.entries];
    this.entries.clear();
    await Promise.all(all.map((e) => e.live.close().catch(this.onError)));
  }
}

function sameScoring(a: ScoreOptions, b: ScoreOptions): boolean {
  return a.variant === b.variant && a.matching === b.matching && a.minPixels === b.minPixels && a.maxPixels === b.maxPixels;
}
