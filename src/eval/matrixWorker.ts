/**
 * The matrix computation in a worker thread (dist/eval-worker.js), so the extension host stays
 * responsive while the paired bootstraps run: workerData is a MatrixSource, the one message back
 * is `{ ok: true, result }` or `{ ok: false, error }` (a bad manifest, an unreadable folder).
 * No vscode import.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compute, type MatrixSource } from './sources';

try {
  parentPort?.postMessage({ ok: true, result: compute(workerData as MatrixSource) });
} catch (e) {
  parentPort?.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
}
