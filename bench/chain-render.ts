/**
 * Group selection time of the real viewer bundle in headless Chromium (the webview test harness):
 * from the host's `groupDetail` message to the next painted frame showing that group, for a group
 * whose first completion is a runaway chain of `bytes` (2 MB by default) and, as the baseline
 * measured in the same run, the same group with only regular completions. Software paint
 * (--disable-gpu), as in bench/webview.ts.
 *   node --import tsx bench/chain-render.ts        (needs dist/webview/viewer.js: npm run build)
 */
import type { GroupDetail } from '../src/protocol/viewer';
import { Harness } from '../test/webview/harness';
import { detail, groupRows, testPng } from '../test/webview/fixtures';
import { LONG_KEY, SHORT_KEY, longDetail } from '../test/webview/long-chain';
import { percentile } from './webview';

export interface SelectStats {
  bytes: number;
  /** Median and worst of `runs` selections, ms. */
  baseline: { p50: number; max: number };
  long: { p50: number; max: number };
  /** long p50 / baseline p50. */
  ratio: number;
}

/** Times, in the page, each `groupDetail` message until two frames later (the one showing it painted). */
export async function measureGroupSelect(bytes = 2_000_000, runs = 7): Promise<SelectStats> {
  const harness = await Harness.start({ '/images/scene.png': testPng() });
  try {
    const image = { path: 'images/scene.png', src: harness.imageUrl('scene.png'), width: 800, height: 600, tried: [] };
    const details: Record<string, GroupDetail> = { [LONG_KEY]: longDetail(LONG_KEY, image, bytes), [SHORT_KEY]: detail(SHORT_KEY, image) };
    const s = await harness.open({ groups: groupRows(16), details, totalCompletions: 64 });
    await s.page.locator('[data-testid=group-row][data-ordinal="0"]').waitFor({ timeout: 30_000 });
    await s.page.evaluate((d) => {
      (window as unknown as { __details: unknown }).__details = d;
    }, details);
    const times = await s.page.evaluate(
      async (o) => {
        const d = (window as unknown as { __details: Record<string, unknown> }).__details;
        const frame = () => new Promise<number>((r) => requestAnimationFrame(r));
        const shownKey = (): string | null => {
          const viewer = document.querySelector('grpo-viewer');
          const view = viewer?.shadowRoot?.querySelector('grpo-group-view');
          return view?.shadowRoot?.querySelector('[data-testid=group-view] .key')?.textContent ?? null;
        };
        const out: Record<string, number[]> = { [o.long]: [], [o.short]: [] };
        for (let i = 0; i < o.runs; i++) {
          for (const key of [o.short, o.long]) {
            await frame();
            const t0 = performance.now();
            // As the host answers a selection: `reveal` (selects), then the group's detail.
            window.postMessage({ type: 'reveal', key, ordinal: 0 }, '*');
            window.postMessage({ type: 'groupDetail', detail: d[key] }, '*');
            while (shownKey() !== key) {
              if (performance.now() - t0 > 60_000) throw new Error(`group ${key} not shown after 60 s`);
              await frame();
            }
            await frame();
            out[key]!.push(performance.now() - t0);
          }
        }
        return out;
      },
      { runs, long: LONG_KEY, short: SHORT_KEY },
    );
    await s.close();
    const stats = (xs: number[]) => ({ p50: percentile(xs, 50), max: Math.max(...xs) });
    const baseline = stats(times[SHORT_KEY]!);
    const long = stats(times[LONG_KEY]!);
    return { bytes, baseline, long, ratio: long.p50 / baseline.p50 };
  } finally {
    await harness.close();
  }
}

/** One line for the bench table: the figure beside its baseline. */
export function selectLine(r: SelectStats): string {
  const mb = (r.bytes / 1e6).toFixed(1);
  return `group select, ${mb} MB chain: p50 ${r.long.p50.toFixed(0)} ms (max ${r.long.max.toFixed(0)}) vs regular group ${r.baseline.p50.toFixed(0)} ms (max ${r.baseline.max.toFixed(0)}): ×${r.ratio.toFixed(1)}`;
}

if (process.argv[1] && /chain-render\.ts$/.test(process.argv[1])) {
  const bytes = Number(process.argv[2] ?? 2_000_000);
  measureGroupSelect(bytes).then((r) => console.log(selectLine(r)), (e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
