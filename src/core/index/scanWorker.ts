/**
 * The parallel index build's worker thread (bundled as dist/index-worker.js, a file of its own
 * because a worker needs one): scans the byte ranges parallel.ts sends and posts back their
 * column chunks, transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { chunkBuffers, scanRange, type ScanJob } from './scanRange';

export type WorkerRequest = { id: number; job: ScanJob };
export type WorkerReply =
  | { id: number; kind: 'progress'; bytes: number; rows: number }
  | { id: number; kind: 'done'; chunk: import('./scanRange').ScanChunk }
  | { id: number; kind: 'error'; error: string };

const port = parentPort;
if (port) {
  port.on('message', ({ id, job }: WorkerRequest) => {
    try {
      let last = 0;
      const chunk = scanRange(job, (bytes, rows) => {
        const now = performance.now();
        if (now - last < 25) return;
        last = now;
        port.postMessage({ id, kind: 'progress', bytes, rows } satisfies WorkerReply);
      });
      port.postMessage({ id, kind: 'done', chunk } satisfies WorkerReply, chunkBuffers(chunk));
    } catch (e) {
      port.postMessage({ id, kind: 'error', error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
    }
  });
}
