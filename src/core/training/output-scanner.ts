/**
 * Recognises the failures researchers look for in training output: CUDA out-of-memory, NCCL
 * collective timeouts and Python tracebacks (with the innermost frame's file:line, so the editor
 * can link to it). Fed line by line with the output line number (1-based, as an editor counts).
 */
export type ProblemKind = 'cuda-oom' | 'nccl-timeout' | 'traceback';

export interface OutputProblem {
  kind: ProblemKind;
  /** One line for a list or a notification. */
  message: string;
  /** Output line where the problem was recognised (for a traceback: its exception line). */
  line: number;
  /** For a traceback: the line of "Traceback (most recent call last):". */
  startLine?: number;
  /** Innermost frame of a traceback. */
  file?: string;
  fileLine?: number;
  function?: string;
}

const RANK_PREFIX = /^(?:\s*\[(?:rank|default)\d+\]:\s?)?/;
const OOM = /CUDA out of memory|OutOfMemoryError|CUDA error: out of memory|CUBLAS_STATUS_ALLOC_FAILED/;
const NCCL = /Watchdog caught collective operation timeout|NCCL (?:communicator|operation)?.*time(?:d)? ?out|ran for \d+ milliseconds before timing out|DistStoreError: .*[Tt]imed out/;
const FRAME = /^\s*File "([^"]+)", line (\d+)(?:, in (.+))?/;

export class OutputScanner {
  private tb: { start: number; file?: string; fileLine?: number; fn?: string } | undefined;

  push(rawLine: string, lineNo: number): OutputProblem[] {
    const line = rawLine.replace(RANK_PREFIX, '').replace(/\r$/, '');
    const out: OutputProblem[] = [];
    if (OOM.test(line)) out.push({ kind: 'cuda-oom', message: line.trim().slice(0, 300), line: lineNo });
    else if (NCCL.test(line)) out.push({ kind: 'nccl-timeout', message: line.trim().slice(0, 300), line: lineNo });

    if (/^Traceback \(most recent call last\):/.test(line.trim())) {
      this.tb = { start: lineNo };
      return out;
    }
    if (!this.tb) return out;
    const f = FRAME.exec(line);
    if (f) {
      this.tb.file = f[1];
      this.tb.fileLine = Number(f[2]);
      this.tb.fn = f[3]?.trim();
      return out;
    }
    // Indented lines are source excerpts or carets; chained-exception banners keep the traceback going.
    if (/^\s/.test(line) || line.trim() === '') return out;
    if (/^During handling of the above exception|^The above exception was the direct cause/.test(line)) return out;
    const tb = this.tb;
    this.tb = undefined;
    const p: OutputProblem = { kind: 'traceback', message: line.trim().slice(0, 300), line: lineNo, startLine: tb.start };
    if (tb.file !== undefined) {
      p.file = tb.file;
      p.fileLine = tb.fileLine!;
      if (tb.fn) p.function = tb.fn;
    }
    out.push(p);
    return out;
  }
}

/** Scan a whole text (e.g. a finished run's stderr.log). */
export function scanOutput(text: string): OutputProblem[] {
  const s = new OutputScanner();
  return text.split('\n').flatMap((l, i) => s.push(l, i + 1));
}
