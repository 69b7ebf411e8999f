/**
 * The rollout viewer's protocol: every message between the extension host and the viewer
 * webview is defined once here and imported by both sides. No value import of `vscode` and no
 * DOM types: this module compiles under both tsconfigs.
 *
 * Flow: the webview posts `ready` (with the state it restored, if any); the host answers `init`;
 * the webview then asks for the rows it shows (`requestRows`, a virtual window) and for the
 * group it selects (`selectGroup`). The host never pushes the whole list.
 */
import type { BoxFrame, BadLine } from '../core/schema/record';
import type { ChainToken } from '../core/chain/types';

export type BoxFrameSetting = 'auto' | BoxFrame;
export type GroupFlag = 'zero_variance' | 'format_failure' | 'reward_mismatch' | 'bad_boxes';
export const GROUP_FLAGS: readonly GroupFlag[] = ['zero_variance', 'format_failure', 'reward_mismatch', 'bad_boxes'];

export interface ViewerSettings {
  boxFrame: BoxFrameSetting;
  variant: string;
  matching: 'seed' | 'optimal';
}

export interface SourceInfo {
  title: string;
  files: string[];
}

/** One row of the group list. */
export interface GroupRow {
  key: string;
  /** Position in the current (filtered) list. */
  ordinal: number;
  step: number | null;
  promptSnippet: string;
  size: number;
  rewardMin: number | null;
  rewardMax: number | null;
  rewardMean: number | null;
  flags: GroupFlag[];
}

/** An image as the webview may load it: `src` is a webview URI; when missing, `tried` lists the paths looked at. */
export interface ImageView {
  path: string;
  src: string | null;
  width: number | null;
  height: number | null;
  tried: string[];
}

/** A box in the original image's pixel frame, ready to draw. */
export interface DrawBox {
  /** For predicted boxes: the ParsedBox id in its completion's tokens; for gold: index in gold list. */
  id: number;
  label: string | null;
  box: [number, number, number, number];
  point: boolean;
  /** IoU with the matched gold box (predicted boxes only). */
  iou: number | null;
  /** Index of the matched gold box, or null. */
  gold: number | null;
  region: 'think' | 'answer' | 'outside';
  /** Coordinates fall outside the image. */
  outside: boolean;
}

/** A logged value next to our recomputed one. */
export interface ValuePair {
  name: string;
  logged: number | null;
  recomputed: number | null;
  mismatch: boolean;
}

export interface CompletionView {
  file: string;
  line: number;
  index: number;
  text: string;
  tokens: ChainToken[];
  /** Image tokens' resolved images, keyed by token start offset. */
  images: Record<number, ImageView>;
  boxes: DrawBox[];
  rewards: ValuePair[];
  reward: ValuePair;
  advantage: ValuePair;
  chars: number;
  words: number;
  formatOk: boolean;
  violations: string[];
}

export interface FrameInfo {
  /** The frame used to draw. */
  used: BoxFrame;
  /** What the data or syntax suggests, before any user choice. */
  detected: BoxFrame;
  /** More than one frame fits the coordinates: the UI offers a choice. */
  ambiguous: boolean;
  /** Qwen2.5-VL input size [w, h] when the resized frame is in play. */
  resized: [number, number] | null;
}

export interface GroupDetail {
  key: string;
  step: number | null;
  promptText: string;
  image: ImageView | null;
  gold: DrawBox[];
  frame: FrameInfo;
  solution: string | null;
  completions: CompletionView[];
  flags: GroupFlag[];
  variant: string;
}

export interface RowFilter {
  text: string;
  flags: GroupFlag[];
}

/** What the webview keeps with setState and sends back in `ready`. */
export interface ViewerState {
  selectedKey: string | null;
  filter: RowFilter;
  scrollTop: number;
  frame: BoxFrameSetting | null;
  /** Set by the host in `init.state`; the webview keeps it verbatim so a restored panel knows its files. */
  source?: string[];
}

// ---- webview → host -------------------------------------------------------------------------
export type WebviewMessage =
  | { type: 'ready'; state: ViewerState | null }
  | { type: 'requestRows'; requestId: number; start: number; count: number }
  | { type: 'selectGroup'; key: string }
  | { type: 'setFilter'; filter: RowFilter }
  | { type: 'setFrame'; frame: BoxFrameSetting }
  | { type: 'revealLine'; file: string; line: number };

// ---- host → webview -------------------------------------------------------------------------
export type HostMessage =
  | {
      type: 'init';
      source: SourceInfo;
      totalGroups: number;
      totalCompletions: number;
      badLines: BadLine[];
      settings: ViewerSettings;
      /** The state to restore, echoed back (host may have adjusted it). */
      state: ViewerState;
    }
  /** Reply to requestRows; `total` is the filtered list's length. */
  | { type: 'rows'; requestId: number; start: number; total: number; rows: GroupRow[] }
  /** The list changed (filter, reload): the webview re-requests its window. */
  | { type: 'listChanged'; total: number }
  | { type: 'groupDetail'; detail: GroupDetail }
  /** Palette commands forwarded to the focused viewer. */
  | { type: 'command'; command: 'nextGroup' | 'previousGroup' | 'focusFilter' }
  | { type: 'error'; message: string };

const WEBVIEW_TYPES = new Set<WebviewMessage['type']>(['ready', 'requestRows', 'selectGroup', 'setFilter', 'setFrame', 'revealLine']);
const HOST_TYPES = new Set<HostMessage['type']>(['init', 'rows', 'listChanged', 'groupDetail', 'command', 'error']);

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Host side: messages from the webview are untrusted input; check shape before use. */
export function isWebviewMessage(x: unknown): x is WebviewMessage {
  if (!isObj(x) || typeof x.type !== 'string' || !WEBVIEW_TYPES.has(x.type as WebviewMessage['type'])) return false;
  switch (x.type) {
    case 'requestRows':
      return isNum(x.requestId) && isNum(x.start) && isNum(x.count);
    case 'selectGroup':
      return typeof x.key === 'string';
    case 'setFilter':
      return isObj(x.filter) && typeof x.filter.text === 'string' && Array.isArray(x.filter.flags);
    case 'setFrame':
      return typeof x.frame === 'string';
    case 'revealLine':
      return typeof x.file === 'string' && isNum(x.line);
    default:
      return true;
  }
}

export function isHostMessage(x: unknown): x is HostMessage {
  return isObj(x) && typeof x.type === 'string' && HOST_TYPES.has(x.type as HostMessage['type']);
}

export const EMPTY_STATE: ViewerState = { selectedKey: null, filter: { text: '', flags: [] }, scrollTop: 0, frame: null };
