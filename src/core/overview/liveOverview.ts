/**
 * A RunOverview over a followed source: it listens to the source's LiveRollouts (the one a viewer
 * of the same file or folder uses too: one follower, one index, one score per row) and reads its
 * numbers from that model. What the panel is told is coalesced to at most one update per
 * `intervalMs` (default 250 ms, ≤ 4 a second) and carries only the steps whose groups changed.
 * When the rows change other than by arriving (a truncated file read again, a rescore under new
 * settings) the next update says `reset` and carries every step.
 */
import type { LiveRollouts } from '../view/liveRollouts';
import { RunOverview } from './runOverview';
import type { StepSummary } from './stepSummary';

export interface OverviewUpdate {
  /** Everything was recounted: `steps` is the whole run, not a change. */
  reset: boolean;
  steps: StepSummary[];
  unstepped: number;
  /** Reward functions the trainer logged so far. */
  loggedNames: string[];
  /** Steps were inferred from timestamps and order (VLM-R1 logs), not written by the trainer. */
  stepsInferred: boolean;
  /** True until the first read of what already existed is done. */
  reading: boolean;
  /** The last error the follower met, if any. */
  problem: string | null;
}

export interface LiveOverviewOptions {
  intervalMs?: number;
}

export class LiveOverview {
  readonly overview: RunOverview;
  private reset = true;
  private timer: NodeJS.Timeout | null = null;
  private lastPost = 0;
  private closed = false;
  private readonly intervalMs: number;
  private readonly unsubscribe: () => void;
  private sent = { reading: true, problem: null as string | null, unstepped: 0 };
  private told: { loading: boolean; problem: string | null };

  constructor(
    readonly live: LiveRollouts,
    private readonly onUpdate: (u: OverviewUpdate) => void,
    opts: LiveOverviewOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 250;
    this.overview = new RunOverview(live.options, live.set);
    this.told = live.status();
    this.unsubscribe = live.subscribe({
      update: (u) => {
        // The source's state as of this update (read now, not at our flush: its end of loading
        // must not overtake the groups it last scored, which this update carries).
        this.told = live.status();
        if (u.recount) {
          this.overview.recount();
          this.reset = true;
        } else this.overview.touched(u.touched);
        this.schedule();
      },
      rescoring: () => this.overview.rescoring(live.options),
    });
    // Rows scored before this overview attached bring their box IoUs by being read back once
    // (after a rescore in progress, which hands every row over anyway).
    if (live.set.index.count > 0 || live.rescoring) void live.afterRescores().then(async () => {
      if (this.closed || live.rescoring) return;
      this.overview.rescoring(live.options);
      await this.overview.readEarlierBoxes();
      this.schedule();
    });
    this.schedule();
  }

  get target(): string {
    return this.live.target;
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const wait = Math.max(0, this.lastPost + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  private get reading(): boolean {
    return this.told.loading || this.overview.readingBoxes;
  }

  private get problem(): string | null {
    return this.told.problem ?? this.overview.problem;
  }

  private flush(): void {
    if (this.closed) return;
    const reset = this.reset;
    if (!reset && !this.overview.hasChanges && this.lastPost > 0 && !this.statusChanged()) return;
    this.reset = false;
    this.lastPost = Date.now();
    const u = this.state(reset);
    this.sent = { reading: u.reading, problem: u.problem, unstepped: u.unstepped };
    this.onUpdate(u);
  }

  private state(reset: boolean): OverviewUpdate {
    return {
      reset,
      steps: reset ? this.overview.all() : this.overview.take(),
      unstepped: this.overview.unstepped,
      loggedNames: [...this.overview.loggedNames],
      stepsInferred: this.live.stepsInferred,
      reading: this.reading,
      problem: this.problem,
    };
  }

  private statusChanged(): boolean {
    return this.sent.reading !== this.reading || this.sent.problem !== this.problem || this.sent.unstepped !== this.overview.unstepped;
  }

  /** Everything known now, for a panel that (re)connects. */
  snapshot(): OverviewUpdate {
    return this.state(true);
  }

  /** Stops listening (the source itself is closed by whoever shares it out). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.unsubscribe();
    await this.overview.close();
  }
}
