/**
 * `node --import tsx bench/viewer-open.ts [completions]`: the viewer's model alone on a generated
 * native file (default 1M completions, reused from bench-data/ when there): first rows, whole
 * file read and scored, bytes held per completion (JS heap + ArrayBuffers after a full GC) and
 * the view's own count, beside the index build alone (a scan, no parse) of the same file in the
 * same run, so a loaded machine shows as a ratio.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateBenchFile } from './generate';
import { measureViewerOpen } from './live';
import { RolloutIndex } from '../src/core/index/rolloutIndex';

const completions = Number(process.argv[2] ?? 1_000_000);
const dir = join(__dirname, '..', 'bench-data');
mkdirSync(dir, { recursive: true });
const file = join(dir, `viewer-${completions}.jsonl`);

async function main(): Promise<void> {
  const gen = await generateBenchFile(file, completions);
  // The viewer first, so what it holds is not mixed with the scan's index.
  const v = await measureViewerOpen(file);
  const t0 = performance.now();
  const index = new RolloutIndex(file);
  await index.update();
  const indexMs = performance.now() - t0;
  await index.close();
  console.log(JSON.stringify({ completions: v.completions, mb: Math.round(gen.bytes / 1e6), indexBuildMs: Math.round(indexMs), ...v, loadedVsIndex: v.loadedMs / indexMs }));
}

void main();
