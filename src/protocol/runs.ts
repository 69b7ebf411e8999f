/**
 * The Run Metrics panel's protocol: every message between the extension host and the runs
 * webview, defined once and imported by both sides. No `vscode` value import, no DOM types.
 *
 * Flow: the webview posts `ready`; the host answers `show` (the run and its whole metric history
 * so far, plus the last GPU state), then pushes `metrics`, `status` and `gpus` as they arrive.
 * A click on a chart posts `openRollouts`. Non-finite metric values travel as null (a gap).
 */

export type RunStatusName = 'starting' | 'running' | 'exited' | 'failed' | 'stopped' | 'lost';

export interface RunProgressView {
  step: number;
  total: number;
  /** Iterations per second. */
  rate?: number;
  /** Seconds left. */
  eta?: number;
}

export interface RunView {
  id: string;
  profile: string;
  status: RunStatusName;
  live: boolean;
  progress?: RunProgressView;
  /** Whether the run's profile names rollouts the viewer can open. */
  hasRollouts: boolean;
}

/** One metric value at one step; null where the trainer logged nan or inf. */
export interface MetricView {
  step: number;
  name: string;
  value: number | null;
}

export interface GpuView {
  index: number;
  name: string;
  /** Percent. */
  utilization?: number;
  /** MiB. */
  memoryUsed?: number;
  memoryTotal?: number;
  /** Runs whose processes hold memory on this GPU. */
  runs: string[];
}

export interface GpuSampleView {
  /** ms since the epoch. */
  time: number;
  gpus: GpuView[];
}

// ---- webview → host -------------------------------------------------------------------------
export type RunsWebviewMessage =
  | { type: 'ready' }
  | { type: 'openRollouts'; run: string; step?: number };

// ---- host → webview -------------------------------------------------------------------------
export type RunsHostMessage =
  /** Replaces everything shown: a run (or none yet) and its metric history. */
  | { type: 'show'; run: RunView | null; metrics: MetricView[]; gpuHistory: GpuSampleView[]; gpusOff?: string }
  | { type: 'metrics'; run: string; points: MetricView[] }
  | { type: 'status'; run: RunView }
  | { type: 'gpus'; sample: GpuSampleView }
  /** nvidia-smi is missing or failed: said once, calmly. */
  | { type: 'gpusOff'; message: string };

const WEBVIEW_TYPES = new Set<RunsWebviewMessage['type']>(['ready', 'openRollouts']);
const HOST_TYPES = new Set<RunsHostMessage['type']>(['show', 'metrics', 'status', 'gpus', 'gpusOff']);

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** Host side: messages from the webview are untrusted input; check shape before use. */
export function isRunsWebviewMessage(x: unknown): x is RunsWebviewMessage {
  if (!isObj(x) || typeof x.type !== 'string' || !WEBVIEW_TYPES.has(x.type as RunsWebviewMessage['type'])) return false;
  if (x.type === 'openRollouts') {
    return typeof x.run === 'string' && (x.step === undefined || (typeof x.step === 'number' && Number.isFinite(x.step)));
  }
  return true;
}

export function isRunsHostMessage(x: unknown): x is RunsHostMessage {
  return isObj(x) && typeof x.type === 'string' && HOST_TYPES.has(x.type as RunsHostMessage['type']);
}

/** NaN and ±Infinity do not survive JSON: they become null, which the charts draw as a gap. */
export function metricView(step: number, name: string, value: number): MetricView {
  return { step, name, value: Number.isFinite(value) ? value : null };
}
