/**
 * Following a growing log file by polling its size: works for files another process writes,
 * across reloads, and on network file systems where fs.watch stays silent.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export class LogFollower {
  private offset: number;
  private timer: NodeJS.Timeout | undefined;
  private decoder = new StringDecoder('utf8');

  /** `from`: byte offset to start at (0 = whole file, 'end' = only new output). */
  constructor(
    readonly file: string,
    private readonly onText: (text: string) => void,
    from: number | 'end' = 0,
  ) {
    this.offset = from === 'end' ? sizeOf(file) : from;
  }

  /** Read what was appended since the last call. */
  poll(): void {
    const size = sizeOf(this.file);
    if (size < this.offset) this.offset = 0; // truncated or replaced: start over
    if (size === this.offset) return;
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, 4 << 20));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.decoder.write(buf.subarray(0, n));
      if (text) this.onText(text);
    } finally {
      closeSync(fd);
    }
  }

  start(intervalMs = 250): this {
    this.poll();
    this.timer ??= setInterval(() => {
      try {
        this.poll();
      } catch {
        // the file may vanish with its run folder; keep quiet
      }
    }, intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Splits streamed text into lines ('\n') and redraw segments ('\r', as tqdm writes), numbering
 * lines as an editor shows the log file.
 */
export class LineSplitter {
  private rest = '';
  private lineNo = 0;

  /** Complete lines, each with its number and its '\r' segments (last one is what a terminal shows). */
  push(text: string): { line: string; lineNo: number; segments: string[] }[] {
    const parts = (this.rest + text).split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map((line) => ({ line, lineNo: ++this.lineNo, segments: line.split('\r').filter((s) => s !== '') }));
  }

  /** Redraw segments of the unfinished line (tqdm bars that have not printed '\n' yet). */
  pending(): string[] {
    return this.rest.split('\r').filter((s) => s !== '');
  }
}
