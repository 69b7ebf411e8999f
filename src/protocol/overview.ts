/**
 * The Run Overview panel's protocol: every message between the extension host and the overview
 * webview, defined once and imported by both sides. No `vscode` value import, no DOM types.
 *
 * Flow: the webview posts `ready`; the host answers `show` (the source and every step so far),
 * then pushes `steps` with only the steps that changed (coalesced, at most about 4 a second).
 * A `show` replaces everything (first contact, a webview rebuilt after being hidden, a truncated
 * file recounted). A click on a chart posts `openStep`.
 */
import type { StepSummary } from '../core/overview/stepSummary';

export type { Quantiles, Spread, StepSummary } from '../core/overview/stepSummary';

export interface OverviewSource {
  /** The file or folder followed (absolute path). */
  target: string;
  /** Its base name, for the title. */
  name: string;
  format: string | null;
  /** The reward variant the rewards were recomputed with. */
  variant: string;
  /** The variant's reward functions, in its order. */
  rewards: string[];
}

/** Everything besides the steps themselves: sent with each message. */
export interface OverviewStatus {
  /** Completions with no step: not charted, counted here. */
  unstepped: number;
  /** Reward functions the trainer logged so far. */
  loggedNames: string[];
  stepsInferred: boolean;
  /** The first read of what already existed is still going. */
  reading: boolean;
  problem: string | null;
}

// ---- webview → host -------------------------------------------------------------------------
export type OverviewWebviewMessage = { type: 'ready' } | { type: 'openStep'; step: number };

// ---- host → webview -------------------------------------------------------------------------
export type OverviewHostMessage =
  | { type: 'show'; source: OverviewSource; steps: StepSummary[]; status: OverviewStatus }
  | { type: 'steps'; steps: StepSummary[]; status: OverviewStatus };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Host side: messages from the webview are untrusted input; check shape before use. */
export function isOverviewWebviewMessage(x: unknown): x is OverviewWebviewMessage {
  if (!isObj(x)) return false;
  if (x.type === 'ready') return true;
  return x.type === 'openStep' && typeof x.step === 'number' && Number.isInteger(x.step) && x.step >= 0;
}

export function isStatus(x: unknown): x is OverviewStatus {
  return (
    isObj(x) &&
    typeof x.unstepped === 'number' &&
    Array.isArray(x.loggedNames) &&
    x.loggedNames.every((n) => typeof n === 'string') &&
    typeof x.stepsInferred === 'boolean' &&
    typeof x.reading === 'boolean' &&
    (x.problem === null || typeof x.problem === 'string')
  );
}

const isSpread = (x: unknown): boolean => isObj(x) && typeof x.n === 'number' && typeof x.mean === 'number' && typeof x.std === 'number';

export function isStepSummary(x: unknown): x is StepSummary {
  if (!isObj(x) || !isObj(x.rewards) || !isObj(x.logged) || !isObj(x.length)) return false;
  return (
    typeof x.step === 'number' &&
    typeof x.completions === 'number' &&
    typeof x.groups === 'number' &&
    typeof x.zeroVarianceGroups === 'number' &&
    typeof x.groupStd === 'number' &&
    typeof x.formatFailures === 'number' &&
    isSpread(x.total) &&
    Object.values(x.rewards).every(isSpread) &&
    (x.logged.total === null || isSpread(x.logged.total)) &&
    isObj(x.logged.rewards) &&
    Object.values(x.logged.rewards).every(isSpread) &&
    typeof x.length.mean === 'number' &&
    typeof x.length.p90 === 'number' &&
    (x.iou === null || (isObj(x.iou) && typeof x.iou.p10 === 'number' && typeof x.iou.p50 === 'number' && typeof x.iou.p90 === 'number'))
  );
}

function isSource(x: unknown): x is OverviewSource {
  return (
    isObj(x) &&
    typeof x.target === 'string' &&
    typeof x.name === 'string' &&
    (x.format === null || typeof x.format === 'string') &&
    typeof x.variant === 'string' &&
    Array.isArray(x.rewards) &&
    x.rewards.every((r) => typeof r === 'string')
  );
}

/** Webview side: what arrives on `message` is checked before it is drawn. */
export function isOverviewHostMessage(x: unknown): x is OverviewHostMessage {
  if (!isObj(x) || !Array.isArray(x.steps) || !x.steps.every(isStepSummary) || !isStatus(x.status)) return false;
  if (x.type === 'steps') return true;
  return x.type === 'show' && isSource(x.source);
}
