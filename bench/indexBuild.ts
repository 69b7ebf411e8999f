/**
 * The index build beside its baselines, all on the same file in the page cache in the same run,
 * interleaved so a load that comes and goes hits every contender alike: a bare `JSON.parse` per
 * line loop, python's `json.loads` loop, `jq -c .`, and the sequential `update` (what the
 * parallel build gains from the cores). The parallel build runs the worker bundled as the
 * product ships it (esbuild, into bench-data/).
 */
import { spawn, spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { LineSplitter } from '../src/core/ingest/lines';
import { RolloutIndex } from '../src/core/index/rolloutIndex';
import { updateParallel, type ParallelResult } from '../src/core/index/parallel';
import { runQuery } from '../src/core/index/filter';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** src/core/index/scanWorker.ts bundled as scripts/bundles.mjs bundles it (dist/index-worker.js), into `dir`. */
export function bundleWorker(root: string, dir: string): string {
  const outfile = join(dir, 'index-worker.js');
  buildSync({ entryPoints: [join(root, 'src/core/index/scanWorker.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' });
  return outfile;
}

/** The baseline: read in 1 MiB chunks, split lines, JSON.parse each one. */
export async function jsonParseLoop(file: string): Promise<number> {
  const fh = await open(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let n = 0;
  const lines = new LineSplitter((b) => {
    const o = JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')) as { step?: number };
    if (o.step !== undefined) n++;
  });
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    lines.push(buf.subarray(0, bytesRead));
  }
  lines.finish();
  await fh.close();
  return n;
}

export function runProcess(cmd: string, args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', rej);
    p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`${cmd} exited ${code}`))));
  });
}

const PYTHON = 'import json,sys\nfor line in open(sys.argv[1], "rb"):\n    json.loads(line)\n';

export function has(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface BuildFigures {
  /** Medians in ms; NaN for a tool that is not installed. */
  parallel: number;
  sequential: number;
  json: number;
  python: number;
  jq: number;
  hasPython: boolean;
  hasJq: boolean;
  workers: number;
  ranges: number;
  cores: number;
  /** The last parallel build, for the figures that read an index. */
  index: RolloutIndex;
}

export async function parallelBuild(file: string, workerPath: string): Promise<{ index: RolloutIndex; result: ParallelResult }> {
  const index = new RolloutIndex(file);
  // Workers stay warm between the timed runs (python and jq at 1M take a minute), as the main thread's code does.
  const result = await updateParallel(index, { workerPath, keepWorkersMs: 300_000 });
  if (result.fallback) throw new Error(`the parallel build fell back: ${result.fallback}`);
  return { index, result };
}

export async function measureIndexBuild(file: string, runs: number, workerPath: string, log: (s: string) => void): Promise<BuildFigures> {
  // Page cache and JIT warm (the main thread's and the pooled workers') for every in-process contender.
  await jsonParseLoop(file);
  await (await parallelBuild(file, workerPath)).index.close();
  const warm = new RolloutIndex(file);
  await warm.update();
  await warm.close();
  const hasPython = has('python3');
  const hasJq = has('jq');
  const t = { parallel: [] as number[], sequential: [] as number[], json: [] as number[], python: [] as number[], jq: [] as number[] };
  const built: { last: { index: RolloutIndex; result: ParallelResult } | null } = { last: null };
  for (let r = 0; r < runs; r++) {
    log(`index build run ${r + 1}/${runs}`);
    t.json.push(await timed(() => jsonParseLoop(file)));
    await built.last?.index.close();
    t.parallel.push(await timed(async () => (built.last = await parallelBuild(file, workerPath))));
    t.sequential.push(await timed(async () => {
      const seq = new RolloutIndex(file);
      await seq.update();
      await seq.close();
    }));
    if (hasPython) t.python.push(await timed(() => runProcess('python3', ['-c', PYTHON, file])));
    if (hasJq) t.jq.push(await timed(() => runProcess('sh', ['-c', `jq -c . "${file}" > /dev/null`])));
  }
  const done = built.last;
  if (!done) throw new Error('no index build ran');
  return {
    parallel: median(t.parallel), sequential: median(t.sequential), json: median(t.json), python: median(t.python), jq: median(t.jq),
    hasPython, hasJq, workers: done.result.workers, ranges: done.result.ranges, cores: availableParallelism(), index: done.index,
  };
}

/** A numeric filter over the index, and as its baseline one pass summing a typed column (the least any filter reads). */
export async function measureFilter(index: RolloutIndex, query: string, runs = 7): Promise<{ ms: number; hits: number; baselineMs: number; sum: number }> {
  const times: number[] = [];
  const base: number[] = [];
  let hits = 0;
  let sum = 0;
  for (let r = 0; r < runs; r++) {
    times.push(await timed(async () => (hits = (await runQuery(index, query)).rows.length)));
    base.push(await timed(async () => {
      const d = index.total.data;
      let s = 0;
      for (let i = 0; i < index.count; i++) s += d[i]!;
      sum = s;
    }));
  }
  return { ms: median(times), hits, baselineMs: median(base), sum };
}
