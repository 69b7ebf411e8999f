/**
 * Progress from tqdm lines. tqdm redraws with '\r', so a chunk of output may hold many updates;
 * `parseProgress` reads one segment, `lastProgress` the newest in a chunk.
 *   " 12%|█▏        | 12/500 [00:10<06:40,  1.22it/s]"   or   "... [1:02:03<10:00, 3.50s/it, loss=0.1]"
 */
export interface Progress {
  step: number;
  total: number;
  /** Iterations per second (s/it is inverted). Undefined while tqdm shows '?'. */
  rate?: number;
  /** Seconds left; undefined while tqdm shows '?'. */
  eta?: number;
  elapsed: number;
}

const TQDM = /(\d+)\/(\d+) \[((?:\d+:)?\d+:\d+)<((?:\d+:)?\d+:\d+|\?),\s*([\d.]+|\?)\s*(it\/s|s\/it)\s*[,\]]/;

/** "06:40" -> 400, "1:02:03" -> 3723. */
export function clockSeconds(text: string): number {
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

export function parseProgress(segment: string): Progress | undefined {
  const m = TQDM.exec(segment);
  if (!m) return undefined;
  const p: Progress = { step: Number(m[1]), total: Number(m[2]), elapsed: clockSeconds(m[3]!) };
  if (m[4] !== '?') p.eta = clockSeconds(m[4]!);
  if (m[5] !== '?') {
    const v = Number(m[5]);
    p.rate = m[6] === 'it/s' ? v : v > 0 ? 1 / v : undefined;
    if (p.rate === undefined) delete p.rate;
  }
  return p;
}

/** The newest progress in a chunk of output ('\r' and '\n' both end a redraw). */
export function lastProgress(chunk: string): Progress | undefined {
  const parts = chunk.split(/\r\n|\r|\n/);
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parseProgress(parts[i]!);
    if (p) return p;
  }
  return undefined;
}
