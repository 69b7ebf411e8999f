/**
 * `npm run bench -- --huge` (or GRPO_BENCH_HUGE=1): 5M completions, about 6.6 GB, generated into
 * os.tmpdir() and deleted afterwards (also on failure or Ctrl-C). The index opens it (the
 * parallel build), filters it, and what the process holds more per completion is measured (JS
 * heap + ArrayBuffers after a full GC), beside the filter's baseline pass over a typed column.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateBenchFile } from './generate';
import { measureFilter, parallelBuild, timed } from './indexBuild';

export const HUGE_COMPLETIONS = 5_000_000;

export interface HugeFigures {
  completions: number;
  bytes: number;
  generateMs: number;
  openMs: number;
  workers: number;
  filterMs: number;
  filterBaselineMs: number;
  hits: number;
  heapBytesPerCompletion: number;
}

function heldBytes(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export async function measureHuge(workerPath: string, query: string, log: (s: string) => void, completions = HUGE_COMPLETIONS): Promise<HugeFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-bench-huge-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const file = join(dir, `bench-${completions}.rollouts.jsonl`);
    log(`huge: generating ${completions.toLocaleString()} completions into ${dir}…`);
    let gen = { bytes: 0, reused: false };
    const generateMs = await timed(async () => (gen = await generateBenchFile(file, completions)));
    log(`huge: ${(gen.bytes / 1e9).toFixed(2)} GB generated; opening…`);
    const held0 = heldBytes();
    let built: Awaited<ReturnType<typeof parallelBuild>> | null = null;
    const openMs = await timed(async () => (built = await parallelBuild(file, workerPath)));
    const { index, result } = built!;
    const heapBytesPerCompletion = (heldBytes() - held0) / Math.max(1, index.count);
    const f = await measureFilter(index, query, 5);
    await index.close();
    return { completions: index.count, bytes: gen.bytes, generateMs, openMs, workers: result.workers, filterMs: f.ms, filterBaselineMs: f.baselineMs,
      hits: f.hits, heapBytesPerCompletion };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}
