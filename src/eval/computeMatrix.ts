/**
 * Run `compute` (src/eval/sources.ts) in a worker thread: dist/eval-worker.js beside the bundle,
 * else the source file through tsx (tests). One worker per computation, ended when it answers.
 * A package that lacks the worker file computes on the calling thread instead (slower to answer,
 * the same result). No vscode import.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { compute, type Computed, type MatrixSource } from './sources';

export function workerPath(): string | undefined {
  for (const f of ['eval-worker.js', 'matrixWorker.ts']) if (existsSync(join(__dirname, f))) return join(__dirname, f);
  return undefined;
}

export function computeInWorker(source: MatrixSource, path = workerPath()): Promise<Computed> {
  if (!path) return new Promise((resolve) => setImmediate(() => resolve(compute(source))));
  return new Promise((resolve, reject) => {
    // From source, a worker does not inherit `--import tsx`: it loads tsx's CommonJS hook itself.
    const w = new Worker(path, { workerData: source, ...(path.endsWith('.ts') ? { execArgv: ['--require', 'tsx/cjs'] } : {}) });
    let settled = false;
    w.once('message', (m: { ok: true; result: Computed } | { ok: false; error: string }) => {
      settled = true;
      void w.terminate();
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
    });
    w.once('error', (e) => {
      settled = true;
      reject(e);
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`the matrix worker exited (code ${code}) without an answer`));
    });
  });
}
