/**
 * The Prompt Timeline panel's protocol: every message between the extension host and the
 * timeline webview, defined once and imported by both sides. No `vscode` value import, no DOM.
 *
 * Flow: the webview posts `ready`; the host answers `show` (the prompt and its groups so far in
 * step order), and again whenever the run grows (coalesced). A click on a point or a row posts
 * `reveal` (select that group in the viewer); a row's Compare posts `compare`.
 */
import type { TimelineGroup, VerdictName } from '../core/view/timelineTypes';

export type { TimelineGroup, VerdictName } from '../core/view/timelineTypes';

export interface TimelineSource {
  /** The file or folder followed (absolute path) and its base name. */
  target: string;
  name: string;
  /** The group the panel was opened on. */
  key: string;
}

export interface TimelineData {
  prompt: { text: string; images: string[] };
  variant: string;
  rewardNames: string[];
  hasIou: boolean;
  groups: TimelineGroup[];
}

// ---- webview → host -------------------------------------------------------------------------
export type TimelineWebviewMessage = { type: 'ready' } | { type: 'reveal'; key: string } | { type: 'compare'; key: string };

// ---- host → webview -------------------------------------------------------------------------
export type TimelineHostMessage =
  | { type: 'show'; source: TimelineSource; timeline: TimelineData | null; reading: boolean }
  | { type: 'error'; message: string };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number';
const isNumOrNull = (x: unknown): boolean => x === null || isNum(x);
const VERDICTS: readonly VerdictName[] = ['aligned', 'misaligned', 'uncertain', 'failed', 'unjudged'];

/** Host side: messages from the webview are untrusted input. */
export function isTimelineWebviewMessage(x: unknown): x is TimelineWebviewMessage {
  if (!isObj(x)) return false;
  if (x.type === 'ready') return true;
  return (x.type === 'reveal' || x.type === 'compare') && typeof x.key === 'string' && x.key.length > 0;
}

function isGroup(x: unknown): x is TimelineGroup {
  return (
    isObj(x) &&
    typeof x.key === 'string' &&
    isNumOrNull(x.step) &&
    isNum(x.size) &&
    [x.mean, x.min, x.max, x.std, x.length].every(isNum) &&
    isNumOrNull(x.iou) &&
    typeof x.zeroVariance === 'boolean' &&
    isObj(x.rewards) &&
    Object.values(x.rewards).every(isNum) &&
    isObj(x.verdicts) &&
    VERDICTS.every((v) => isNum((x.verdicts as Record<string, unknown>)[v]))
  );
}

function isData(x: unknown): x is TimelineData {
  return (
    isObj(x) &&
    isObj(x.prompt) &&
    typeof x.prompt.text === 'string' &&
    Array.isArray(x.prompt.images) &&
    x.prompt.images.every((i) => typeof i === 'string') &&
    typeof x.variant === 'string' &&
    Array.isArray(x.rewardNames) &&
    x.rewardNames.every((n) => typeof n === 'string') &&
    typeof x.hasIou === 'boolean' &&
    Array.isArray(x.groups) &&
    x.groups.every(isGroup)
  );
}

/** Webview side: what arrives on `message` is checked before it is drawn. */
export function isTimelineHostMessage(x: unknown): x is TimelineHostMessage {
  if (!isObj(x)) return false;
  if (x.type === 'error') return typeof x.message === 'string';
  return (
    x.type === 'show' &&
    isObj(x.source) &&
    typeof x.source.target === 'string' &&
    typeof x.source.name === 'string' &&
    typeof x.source.key === 'string' &&
    (x.timeline === null || isData(x.timeline)) &&
    typeof x.reading === 'boolean'
  );
}
