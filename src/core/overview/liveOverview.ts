/**
 * A RunOverview fed by the follower: what a file, a folder of per-step files or a glob holds now,
 * then whatever is appended, in any trainer format. Every batch goes into the overview at once;
 * what the panel is told is coalesced to at most one update per `intervalMs` (default 250 ms,
 * ≤ 4 a second) and carries only the steps that changed. A truncated file starts everything over
 * (a restarted run rewriting its output): the next update says `reset` and carries every step.
 */
import { stat } from 'node:fs/promises';
import { detectFormat } from '../ingest/detect';
import { isDirectory } from '../ingest/files';
import { followRollouts, type FollowBatch, type FollowOptions, type RolloutFollower } from '../ingest/follow';
import type { FormatName } from '../ingest/types';
import type { RolloutRecord } from '../schema/record';
import { RunOverview, type OverviewScoreOptions } from './runOverview';
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
  follow?: FollowOptions;
}

export class LiveOverview {
  overview: RunOverview;
  format: FormatName | null = null;
  private follower: RolloutFollower | null = null;
  private restarting = false;
  private reset = true;
  private reading = true;
  private stepsInferred = false;
  private problem: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastPost = 0;
  private closed = false;
  private readonly intervalMs: number;

  constructor(
    readonly target: string,
    private readonly options: OverviewScoreOptions,
    private readonly onUpdate: (u: OverviewUpdate) => void,
    private readonly opts: LiveOverviewOptions = {},
  ) {
    this.overview = new RunOverview(options);
    this.intervalMs = opts.intervalMs ?? 250;
  }

  /** Starts following; resolves once following has begun. */
  async start(): Promise<void> {
    const detected = await detectFormat(this.target).catch(() => null);
    // As the viewer: a file nothing recognises is read as native v1 so its problems are reported;
    // an empty one waits for its first bytes to say what it is.
    let format: FormatName | undefined = this.opts.follow?.format ?? detected?.format;
    if (!format && !(await isDirectory(this.target)) && ((await stat(this.target).catch(() => null))?.size ?? 0) > 0) format = 'native';
    this.format = format ?? null;
    if (this.closed) return;
    const follower = await followRollouts(this.target, (b) => this.take(b), { ...this.opts.follow, format }, (e) => {
      this.problem = e instanceof Error ? e.message : String(e);
      this.schedule();
    });
    this.follower = follower;
    void follower.ready.then(() => {
      if (this.follower !== follower) return;
      this.reading = false;
      this.format ??= follower.format ?? null;
      this.schedule();
    });
    this.schedule();
  }

  private take(b: FollowBatch): void {
    if (this.closed || this.restarting) return;
    if (b.events.some((e) => e.event === 'truncated')) {
      void this.restart();
      return;
    }
    const records: RolloutRecord[] = [];
    for (const { record, loc } of b.records) {
      if (loc.file.endsWith('.verdicts.jsonl')) continue;
      if (record.meta?.step_inferred === true) this.stepsInferred = true;
      records.push(record);
    }
    this.overview.add(records);
    this.schedule();
  }

  /** Recounts from the start: a new overview, a new follower reading every file again. */
  private async restart(): Promise<void> {
    this.restarting = true;
    const old = this.follower;
    this.follower = null;
    await old?.close();
    if (this.closed) return;
    this.overview = new RunOverview(this.options);
    this.reset = true;
    this.reading = true;
    this.stepsInferred = false;
    this.restarting = false;
    await this.start();
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const wait = Math.max(0, this.lastPost + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.closed) return;
    const reset = this.reset;
    if (!reset && !this.overview.hasChanges && this.lastPost > 0 && !this.statusChanged()) return;
    this.reset = false;
    this.lastPost = Date.now();
    this.sent = { reading: this.reading, problem: this.problem, unstepped: this.overview.unstepped };
    this.onUpdate({
      reset,
      steps: reset ? this.overview.all() : this.overview.take(),
      unstepped: this.overview.unstepped,
      loggedNames: [...this.overview.loggedNames],
      stepsInferred: this.stepsInferred,
      reading: this.reading,
      problem: this.problem,
    });
  }

  private sent = { reading: true, problem: null as string | null, unstepped: 0 };

  private statusChanged(): boolean {
    return this.sent.reading !== this.reading || this.sent.problem !== this.problem || this.sent.unstepped !== this.overview.unstepped;
  }

  /** Everything known now, for a panel that (re)connects. */
  snapshot(): OverviewUpdate {
    return {
      reset: true,
      steps: this.overview.all(),
      unstepped: this.overview.unstepped,
      loggedNames: [...this.overview.loggedNames],
      stepsInferred: this.stepsInferred,
      reading: this.reading,
      problem: this.problem,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.follower?.close();
  }
}
