/**
 * Watching one run: follows stdout.log / stderr.log and the metric files its profile names, and
 * turns them into output, progress, metric and problem events. Starts from the beginning of each
 * file, so a reattached run's history (output, charts) is rebuilt too.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineSplitter, LogFollower } from './log-follower';
import { trainerStateFile } from './metric-sources';
import { parseEasyR1Line, parseTrainerState, SegmentSplitter, StdoutMetrics, type MetricPoint } from './metrics';
import { OutputScanner, type OutputProblem } from './output-scanner';
import { parseProgress, type Progress } from './progress';
import type { RunRecord } from './run-folder';

export type Stream = 'stdout' | 'stderr';

export interface RunWatchSink {
  output(stream: Stream, text: string): void;
  progress(p: Progress): void;
  metrics(points: MetricPoint[]): void;
  problem(stream: Stream, p: OutputProblem): void;
}

export class RunWatch {
  private followers: LogFollower[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stateMtime = 0;
  private stateStep = -Infinity;
  readonly tail: Record<Stream, string[]> = { stdout: [], stderr: [] };

  constructor(
    readonly record: RunRecord,
    readonly dir: string,
    private readonly sink: RunWatchSink,
  ) {
    // One metrics reader for both streams: tqdm (the step) usually goes to stderr, dicts to stdout.
    // stderr is polled first: each tqdm.write marks stderr before its dict reaches stdout, and the
    // k-th dict takes the k-th mark's step (see ./metrics). metric-sources reads them in this order too.
    const metrics = record.metrics.stdout ? new StdoutMetrics() : undefined;
    for (const stream of ['stderr', 'stdout'] as const) {
      const lines = new LineSplitter();
      const scanner = new OutputScanner();
      const segments = metrics ? new SegmentSplitter(metrics) : undefined;
      this.followers.push(
        new LogFollower(join(dir, `${stream}.log`), (text) => {
          sink.output(stream, text);
          let progress: Progress | undefined;
          const points: MetricPoint[] = [];
          for (const l of lines.push(text)) {
            this.remember(stream, l.segments.at(-1) ?? '');
            for (const p of scanner.push(l.line, l.lineNo)) sink.problem(stream, p);
            for (const seg of l.segments) progress = parseProgress(seg) ?? progress;
          }
          if (segments) points.push(...segments.write(text));
          for (const seg of lines.pending()) {
            progress = parseProgress(seg) ?? progress;
          }
          if (progress) sink.progress(progress);
          if (points.length) sink.metrics(points);
        }),
      );
    }
    if (record.metrics.easyr1Log) {
      const lines = new LineSplitter();
      this.followers.push(
        new LogFollower(record.metrics.easyr1Log, (text) => {
          const points = lines.push(text).flatMap((l) => parseEasyR1Line(l.line));
          if (points.length) sink.metrics(points);
        }),
      );
    }
  }

  private remember(stream: Stream, line: string): void {
    const t = this.tail[stream];
    t.push(line);
    if (t.length > 50) t.shift();
  }

  /** trainer_state.json is rewritten at each checkpoint: re-read it when it changes, emit only new steps. */
  private pollTrainerState(): void {
    const path = this.record.metrics.trainerState;
    if (!path) return;
    const file = trainerStateFile(path);
    let mtime: number;
    try {
      mtime = statSync(file).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.stateMtime) return;
    this.stateMtime = mtime;
    try {
      const points = parseTrainerState(readFileSync(file, 'utf8')).filter((p) => p.step > this.stateStep);
      if (points.length) {
        this.stateStep = Math.max(...points.map((p) => p.step));
        this.sink.metrics(points);
      }
    } catch {
      // half-written by the trainer; the next change re-reads it
    }
  }

  poll(): void {
    for (const f of this.followers) {
      try {
        f.poll();
      } catch {
        // file vanished with the run folder
      }
    }
    this.pollTrainerState();
  }

  start(intervalMs = 250): this {
    this.poll();
    this.timer ??= setInterval(() => this.poll(), intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
