/**
 * Training metrics from every place trainers put them, as one series model `{step, name, value}`
 * (the line and file parsers are in ./metric-lines). This module holds the stateful part: which
 * step an HF Trainer dict line belongs to, since the line itself carries none.
 *
 * ProgressCallback prints each log with tqdm.write: the dict goes to stdout, while on stderr tqdm
 * clears the bar ("\r" + spaces + "\r") and redraws it at the current step. So each write leaves a
 * mark on the bar's stream whose redraw names the step, and the k-th dict line is the k-th mark.
 * That holds whatever stdout's buffering did to the order (stdout to a file or pipe is
 * block-buffered: its dicts can land long after their bars, even cut in two). Without marks (bars
 * not captured, PrinterCallback) a dict takes the newest bar's step, else a running count.
 * See docs/formats.md ("Training metrics").
 */
import { looksLikeDictHead, parseTrainerDict, parseVerlLine, type MetricPoint } from './metric-lines';
import { parseProgress } from './progress';

export * from './metric-lines';

/** A dict line's metrics and, when it names one, its own step. */
type Entries = { entries: [string, number][]; step?: number };

export class StdoutMetrics {
  private tqdmStep: number | undefined;
  private dictLines = 0;
  /** One per tqdm.write: the redrawn bar's step, undefined until the redraw is seen. */
  private readonly marks: (number | undefined)[] = [];
  /** A mark seen and no bar since: a second clear is the same write (a nested eval bar). */
  private markOpen = false;
  /** Dict lines waiting for their mark's redraw, in order. */
  private readonly held: Entries[] = [];
  /** The first part of a dict line cut by stdout's block buffering, waiting for the rest. */
  private head: { text: string; lineNo?: number } | undefined;
  /** Dict lines whose step is only a running count (no step key, no bar seen): worth telling. */
  countedSteps = 0;

  constructor(private readonly onBad?: (error: string, lineNo?: number) => void) {}

  /**
   * Feed one complete output segment (a line, or one '\r' redraw). `afterCR`: the segment began
   * after a '\r' (only then can blank text be tqdm's clear, not a printed blank line).
   */
  push(segment: string, afterCR = false, lineNo?: number): MetricPoint[] {
    if (afterCR && /^ +$/.test(segment)) {
      if (!this.markOpen) this.marks.push(undefined);
      this.markOpen = true;
      return [];
    }
    const p = parseProgress(segment);
    // A nested bar (an eval bar under the training bar) is drawn a line down and ends by moving
    // the cursor back up (ESC[A): its count is not the training step.
    if (p && /\x1b\[\d*A/.test(segment)) return [];
    if (p) {
      const out = this.bar(p.step);
      // Block-buffered stdout may continue right after a redraw, without a '\r' of its own.
      const end = segment.indexOf(']', segment.search(/\d+\/\d+ \[/));
      const rest = end >= 0 ? segment.slice(end + 1) : '';
      if (rest.trim()) out.push(...this.text(rest, lineNo));
      return out;
    }
    return this.text(segment, lineNo);
  }

  /** The unfinished tail of the output: a bar being drawn already names its step. */
  peek(partial: string): MetricPoint[] {
    const p = /\x1b\[\d*A/.test(partial) ? undefined : parseProgress(partial);
    return p && this.marks.length && this.marks.at(-1) === undefined ? this.bar(p.step) : [];
  }

  /** The output ended: a cut dict that never got its rest is a bad line; held lines are placed. */
  flush(): MetricPoint[] {
    const out = this.dropHead();
    out.push(...this.release(true));
    return out;
  }

  private bar(step: number): MetricPoint[] {
    this.tqdmStep = step;
    this.markOpen = false;
    // Marks are resolved in order, so the unresolved ones are the newest: walk back to the first.
    for (let i = this.marks.length - 1; i >= 0 && this.marks[i] === undefined; i--) this.marks[i] = step;
    return this.release(false);
  }

  private text(raw: string, lineNo?: number): MetricPoint[] {
    // tqdm moves the cursor back up (ESC[A) after clearing a nested bar, just before the write.
    const segment = raw.replace(/^(?:\x1b\[\d*[A-Za-z])+/, '');
    const verl = parseVerlLine(segment);
    if (verl) return verl;
    const out: MetricPoint[] = [];
    if (this.head && !/^\s*\{/.test(segment)) {
      const whole = parseTrainerDict(this.head.text + segment);
      if (whole && !('error' in whole)) {
        this.head = undefined;
        return this.place(whole);
      }
      if (!/\}\s*$/.test(segment)) return out; // other output between the two parts: keep waiting
    }
    const d = parseTrainerDict(segment);
    if (d || looksLikeDictHead(segment)) out.push(...this.dropHead());
    if (!d) {
      if (looksLikeDictHead(segment)) this.head = { text: segment, ...(lineNo !== undefined ? { lineNo } : {}) };
      return out;
    }
    if ('error' in d) {
      this.onBad?.(d.error, lineNo);
      out.push(...this.place({ entries: [] })); // it was still a write: it owns a mark
      return out;
    }
    // A dict with no numbers (a config print) is not a log; only logs come with a mark.
    if (d.entries.length) out.push(...this.place(d));
    return out;
  }

  private dropHead(): MetricPoint[] {
    if (!this.head) return [];
    const h = this.head;
    this.head = undefined;
    this.onBad?.('a metrics dict cut short (its rest never came)', h.lineNo);
    return this.place({ entries: [] });
  }

  private place(entries: Entries): MetricPoint[] {
    this.held.push(entries);
    return this.release(false);
  }

  /** Emit held lines whose step is known; `end`: the rest take the fallback step. */
  private release(end: boolean): MetricPoint[] {
    const out: MetricPoint[] = [];
    while (this.held.length) {
      const head = this.marks[0];
      if (this.marks.length && head === undefined && !end) break;
      const line = this.held.shift()!;
      this.marks.shift(); // its mark, if it had one (head stays undefined when none was left)
      if (line.entries.length) this.dictLines++;
      out.push(...this.emit(line, head));
    }
    return out;
  }

  private emit(line: Entries, markStep: number | undefined): MetricPoint[] {
    const step = line.step ?? markStep ?? this.tqdmStep ?? this.dictLines;
    if (line.entries.length && line.step === undefined && markStep === undefined && this.tqdmStep === undefined) this.countedSteps++;
    return line.entries.map(([name, value]) => ({ step, name, value }));
  }
}

/**
 * Cuts streamed output into the segments StdoutMetrics reads: '\n' ends a line, '\r' a redraw.
 * One per stream; streams of one process share one StdoutMetrics (bars on stderr, dicts on stdout).
 * Line numbers count '\n', as LineSplitter does.
 */
export class SegmentSplitter {
  private rest = '';
  private restAfterCR = false;
  private line = 1;

  constructor(private readonly metrics: StdoutMetrics) {}

  write(text: string): MetricPoint[] {
    const s = this.rest + text;
    const out: MetricPoint[] = [];
    const sep = /[\r\n]/g;
    let start = 0;
    let afterCR = this.restAfterCR;
    for (let m = sep.exec(s); m; m = sep.exec(s)) {
      const seg = s.slice(start, m.index);
      if (seg) out.push(...this.metrics.push(seg, afterCR, this.line));
      afterCR = m[0] === '\r';
      if (!afterCR) this.line++;
      start = m.index + 1;
    }
    this.rest = s.slice(start);
    this.restAfterCR = afterCR;
    if (this.rest) out.push(...this.metrics.peek(this.rest));
    return out;
  }

  /** The stream ended: its unfinished last segment counts. */
  end(): MetricPoint[] {
    const seg = this.rest;
    this.rest = '';
    return seg ? this.metrics.push(seg, this.restAfterCR, this.line) : [];
  }
}
