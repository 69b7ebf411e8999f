/**
 * Frame-time benchmarks of the real viewer bundle in headless Chromium, hosted by the webview
 * test harness (test/webview/harness.ts): the same HTML, CSP and bundle VS Code loads, with node
 * answering the protocol. Chromium runs with --disable-gpu, so every frame is painted in
 * software: a machine with a GPU paints faster, never slower.
 */
import { Harness } from '../test/webview/harness';
import { groupRows, testPng } from '../test/webview/fixtures';

export interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export function frameStats(deltas: readonly number[]): FrameStats {
  return { frames: deltas.length, p50: percentile(deltas, 50), p95: percentile(deltas, 95), max: Math.max(...deltas) };
}

/** Gaps between `frames` animation frames of the page as it is (nothing scrolls): the machine's own frame time now. */
function idleFrames(frames: number): Promise<number[]> {
  return new Promise<number[]>((done) => {
    const out: number[] = [];
    let last = 0;
    const tick = (t: number): void => {
      if (last) out.push(t - last);
      last = t;
      if (out.length >= frames) return done(out);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

/**
 * Scrolls a list of `rows` groups by `rowsPerFrame` rows every animation frame for `frames`
 * frames (a steady fling through fresh rows the host has to send) and returns the gaps between
 * frames, and as the baseline the gaps between as many frames of the same page not scrolling
 * (an empty frame, measured just before). Past the browser's height cap the scrollbar is scaled,
 * so the pixels per frame are worked out from the list's real scroll height: the same rows per
 * frame at every size.
 */
export async function measureScroll(rows = 1_000_000, frames = 240, rowsPerFrame = 10): Promise<FrameStats & { idle: FrameStats }> {
  const harness = await Harness.start({ '/images/test.png': testPng() });
  try {
    const s = await harness.open({ groups: groupRows(rows), details: {}, totalCompletions: rows * 4 });
    await s.page.locator('[data-testid=group-row][data-ordinal="0"]').waitFor({ timeout: 30_000 });
    const idle = await s.page.evaluate(idleFrames, frames);
    const deltas = await s.page.locator('[data-testid=group-list]').evaluate(
      (list, o) =>
        new Promise<number[]>((done) => {
          const out: number[] = [];
          let last = 0;
          const rowPx = 48;
          const scale = (list.scrollHeight - list.clientHeight) / (o.rows * rowPx - list.clientHeight);
          const pxPerFrame = o.rowsPerFrame * rowPx * scale;
          const tick = (t: number): void => {
            if (last) out.push(t - last);
            last = t;
            if (out.length >= o.frames) return done(out);
            list.scrollTop += pxPerFrame;
            requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        }),
      { frames, rowsPerFrame, rows },
    );
    await s.close();
    return { ...frameStats(deltas), idle: frameStats(idle) };
  } finally {
    await harness.close();
  }
}

/**
 * The live figure's baseline: node stamps the time, asks the viewer page (same harness, an empty
 * list) for its next animation frame and takes that frame's time, `samples` times every
 * `everyMs`: a message reaching the page and painted, with no rollout work at all.
 */
export async function measureFrameRoundTrip(samples = 200, everyMs = 10): Promise<FrameStats> {
  const harness = await Harness.start({});
  try {
    const s = await harness.open({ groups: groupRows(0), details: {}, totalCompletions: 0 });
    const lat: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.timeOrigin + performance.now();
      const painted = await s.page.evaluate(() => new Promise<number>((r) => requestAnimationFrame(() => r(performance.timeOrigin + performance.now()))));
      lat.push(painted - t);
      await new Promise((r) => setTimeout(r, everyMs));
    }
    await s.close();
    return frameStats(lat);
  } finally {
    await harness.close();
  }
}
