/**
 * Live latency: a writer appends rollout lines to a file at a fixed rate (20 lines every 10 ms =
 * 2,000 completions/s, each write one `write(2)` that may end mid-group), the real core follows
 * it (`LiveRollouts`: follower + incremental RolloutView + the viewer's coalescing), and node
 * answers the real viewer bundle in headless Chromium as the extension host does (status +
 * listChanged on each update, rows on request). In the page a MutationObserver on the toolbar's
 * completion count stamps the frame that shows each new count; a write's latency is the time
 * from its write to the first frame showing a count that includes it. The one clock is the
 * wall clock both processes share (performance.timeOrigin + now()).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveRollouts } from '../src/core/view/liveRollouts';
import { BAD_LINES_SENT, LIVE_UPDATE_MS, NOTES_SENT, type HostMessage, type WebviewMessage } from '../src/protocol/viewer';
import { Harness, type ViewerSession } from '../test/webview/harness';
import { benchLine, seededRandom } from './generate';
import { percentile } from './webview';

export interface LiveStats {
  writes: number;
  completions: number;
  /** Completions per second actually written. */
  rate: number;
  p50: number;
  p95: number;
  max: number;
  /** The host's coalescing interval in force (protocol LIVE_UPDATE_MS). */
  intervalMs: number;
}

const now = (): number => performance.timeOrigin + performance.now();

export async function measureLive(seconds = 5, linesPerWrite = 20, everyMs = 10): Promise<LiveStats> {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-bench-live-'));
  const file = join(dir, 'live.rollouts.jsonl');
  const rnd = seededRandom(7);
  let n = 0;
  const fd = openSync(file, 'a');
  const write = (lines: number): void => {
    let s = '';
    for (let i = 0; i < lines; i++) s += benchLine(n++, rnd) + '\n';
    writeSync(fd, s);
  };
  write(64); // the format is detected from the first bytes
  const harness = await Harness.start({});
  let session: ViewerSession | null = null;
  const send = (m: HostMessage): void => void session?.send(m).catch(() => undefined);
  const live = new LiveRollouts(file, { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 3686400 }, (u) => {
    const set = live.set;
    send(status());
    if (u.replaced || u.grown) send({ type: 'listChanged', total: set.filteredCount, grown: !u.replaced });
  }, { intervalMs: LIVE_UPDATE_MS });
  const status = (): Extract<HostMessage, { type: 'status' }> => ({
    type: 'status',
    source: { title: 'live.rollouts.jsonl', files: [file], format: live.format, stepsInferred: live.stepsInferred },
    totalGroups: live.set.groupCount,
    totalCompletions: live.set.completionCount,
    badLines: live.set.badLines.slice(0, BAD_LINES_SENT),
    badLineCount: live.set.badLines.length,
    notes: live.notes.slice(0, NOTES_SENT),
    noteCount: live.notes.length,
    live: live.status(),
  });
  const host = async (m: WebviewMessage, s: ViewerSession): Promise<boolean> => {
    if (m.type === 'ready') {
      const st = status();
      await s.send({
        ...st, type: 'init', filterReading: { kind: 'none', message: null, column: null },
        settings: { boxFrame: 'auto', variant: 'grounding', matching: 'seed' },
        state: { selectedKey: null, filter: { text: '', flags: [], order: 'newest' }, scrollTop: 0, frame: null },
      });
      await live.set.applyFilter({ text: '', flags: [], order: 'newest' });
      return true;
    }
    if (m.type === 'requestRows') {
      await s.send({ type: 'rows', requestId: m.requestId, start: m.start, total: live.set.filteredCount, rows: await live.set.rows(m.start, Math.min(m.count, 500)) });
      return true;
    }
    return true;
  };
  try {
    await live.start();
    session = await harness.open({ groups: [], details: {}, totalCompletions: 0, autoInit: false, host });
    const counts = session.page.locator('[data-testid=counts]');
    await counts.waitFor();
    await counts.evaluate((el) => {
      const w = window as unknown as { __seen: [number, number][] };
      w.__seen = [];
      const read = (): void => {
        const m = /([\d,]+)\s+completions/.exec(el.textContent ?? '');
        if (!m) return;
        const c = Number(m[1]!.replace(/,/g, ''));
        // The frame that shows the change: stamped in the next animation frame.
        requestAnimationFrame(() => w.__seen.push([performance.timeOrigin + performance.now(), c]));
      };
      new MutationObserver(read).observe(el, { subtree: true, childList: true, characterData: true });
      read();
    });
    const writes: [number, number][] = [];
    const start = now();
    let next = start;
    while (now() - start < seconds * 1000) {
      write(linesPerWrite);
      writes.push([now(), n]);
      next += everyMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - now())));
    }
    const elapsed = (now() - start) / 1000;
    const seen = await (async () => {
      const deadline = now() + 15_000;
      for (;;) {
        const s = await session!.page.evaluate(() => (window as unknown as { __seen: [number, number][] }).__seen);
        if ((s.at(-1)?.[1] ?? 0) >= n || now() > deadline) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const lat: number[] = [];
    for (const [t, c] of writes) {
      const hit = seen.find(([ts, count]) => count >= c && ts >= t);
      lat.push(hit ? hit[0] - t : Number.POSITIVE_INFINITY);
    }
    const completions = n - 64;
    return { writes: writes.length, completions, rate: completions / elapsed, p50: percentile(lat, 50), p95: percentile(lat, 95), max: Math.max(...lat), intervalMs: LIVE_UPDATE_MS };
  } finally {
    closeSync(fd);
    await live.close();
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the process holds: the JS heap plus ArrayBuffers (the index's typed columns live outside the heap). */
function heldBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A full garbage collection, for heap measurements (no --expose-gc needed). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * The viewer's model opening `file` (follower + RolloutView: every record parsed, scored and
 * dropped): when the first 100 groups are listed, when the whole file is read and scored, what
 * the process then holds more per completion (JS heap + ArrayBuffers, after a full GC), and what
 * the view counts as its own (`memoryBytes`: the index's typed columns and group table, the list;
 * no records).
 */
export async function measureViewerOpen(file: string): Promise<{ firstRowsMs: number; listedMs: number; loadedMs: number; completions: number; heapBytesPerCompletion: number; viewBytesPerCompletion: number }> {
  collectGarbage();
  const heap0 = heldBytes();
  const t0 = performance.now();
  let first = 0;
  let listed = 0;
  return new Promise((done, fail) => {
    const live: LiveRollouts = new LiveRollouts(file, { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 3686400 }, () => {
      if (!first && live.set.filteredCount >= 100) first = performance.now() - t0;
      // Every group listed and filterable: the whole file scanned (scoring may still go on).
      const st = live.status();
      if (!listed && st.bytesTotal !== null && st.bytesRead >= st.bytesTotal * 0.999) listed = performance.now() - t0;
      if (!live.loaded) return;
      const loadedMs = performance.now() - t0;
      live.set.trim(); // as the viewer does once the first read is done
      collectGarbage();
      const completions = live.set.completionCount;
      const heapBytesPerCompletion = (heldBytes() - heap0) / Math.max(1, completions);
      const viewBytesPerCompletion = live.set.memoryBytes() / Math.max(1, completions);
      void live.close().then(() => done({ firstRowsMs: first, listedMs: listed || loadedMs, loadedMs, completions, heapBytesPerCompletion, viewBytesPerCompletion }));
    }, { intervalMs: LIVE_UPDATE_MS });
    live.start().catch(fail);
  });
}

if (process.argv[1]?.endsWith('live.ts')) {
  measureLive().then((s) => console.log(JSON.stringify(s)), (e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
