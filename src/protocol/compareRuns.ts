/**
 * The Compare Runs panel's protocol (2–4 rollout sources on shared charts): every message between
 * the extension host and its webview, defined once. No `vscode` value import, no DOM types.
 *
 * Flow: the webview posts `ready`; the host answers `show` (the runs and every step of each so
 * far), then pushes `steps` for one run with only its steps that changed (coalesced per run, at
 * most about 4 a second). `steps` with `reset` replaces that run's steps (a file read again, a
 * rescore). A click on a chart posts `openStep` with the run it picked and the step.
 */
import { isStatus, isStepSummary, type OverviewStatus, type StepSummary } from './overview';

export type { OverviewStatus, StepSummary } from './overview';
// The shared step axis and the smoothing, computed the same way in the webview and the tests.
export { emaSmooth, onSharedSteps, sharedSteps } from '../core/overview/compareRuns';

/** The most runs one panel compares (more lines than this stop being readable). */
export const MAX_COMPARED_RUNS = 4;

export interface ComparedRun {
  /** The file or folder followed (absolute path). */
  target: string;
  /** A short label for the legend: the base name, made unique among the runs. */
  label: string;
  format: string | null;
}

// ---- webview → host -------------------------------------------------------------------------
export type CompareRunsWebviewMessage = { type: 'ready' } | { type: 'openStep'; run: number; step: number };

// ---- host → webview -------------------------------------------------------------------------
export type CompareRunsHostMessage =
  | { type: 'show'; runs: ComparedRun[]; variant: string; rewards: string[]; steps: StepSummary[][]; status: OverviewStatus[] }
  /** `format`: the run's format as known now (detected once its first file is read). */
  | { type: 'steps'; run: number; reset: boolean; steps: StepSummary[]; status: OverviewStatus; format: string | null };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isRunIndex = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < MAX_COMPARED_RUNS;

/** Host side: messages from the webview are untrusted input; check shape before use. */
export function isCompareRunsWebviewMessage(x: unknown): x is CompareRunsWebviewMessage {
  if (!isObj(x)) return false;
  if (x.type === 'ready') return true;
  return x.type === 'openStep' && isRunIndex(x.run) && typeof x.step === 'number' && Number.isInteger(x.step) && x.step >= 0;
}

const isRun = (x: unknown): x is ComparedRun =>
  isObj(x) && typeof x.target === 'string' && typeof x.label === 'string' && (x.format === null || typeof x.format === 'string');

/** Webview side: what arrives on `message` is checked before it is drawn. */
export function isCompareRunsHostMessage(x: unknown): x is CompareRunsHostMessage {
  if (!isObj(x)) return false;
  if (x.type === 'steps') return isRunIndex(x.run) && typeof x.reset === 'boolean' && (x.format === null || typeof x.format === 'string') && Array.isArray(x.steps) && x.steps.every(isStepSummary) && isStatus(x.status);
  return (
    x.type === 'show' &&
    Array.isArray(x.runs) && x.runs.length >= 1 && x.runs.length <= MAX_COMPARED_RUNS && x.runs.every(isRun) &&
    typeof x.variant === 'string' &&
    Array.isArray(x.rewards) && x.rewards.every((r) => typeof r === 'string') &&
    Array.isArray(x.steps) && x.steps.length === x.runs.length && x.steps.every((s) => Array.isArray(s) && s.every(isStepSummary)) &&
    Array.isArray(x.status) && x.status.length === x.runs.length && x.status.every(isStatus)
  );
}
