/**
 * The rollout viewer's protocol: every message between the extension host and the viewer
 * webview is defined once here and imported by both sides. No value import of `vscode` and no
 * DOM types: this module compiles under both tsconfigs.
 *
 * Flow: the webview posts `ready` (with the state it restored, if any); the host answers `init`;
 * the webview then asks for the rows it shows (`requestRows`, a virtual window) and for the
 * group it selects (`selectGroup`). The host never pushes the whole list.
 *
 * Live: the host follows the files and, at most every LIVE_UPDATE_MS, posts one `status` (counts,
 * bad lines, loading progress) and one `listChanged` with `grown: true` when the list only grew or
 * its rows changed in place; the webview keeps its scroll and selection and re-requests only the
 * rows it shows. A selected group that gained completions gets a fresh `groupDetail`.
 *
 * Histograms: while the webview's strip is open (`requestHistograms` with `open: true`) the host
 * sends `histograms` at once and again whenever the list changes (records arrive, a filter is
 * set, verdicts come in), at most every HISTOGRAM_UPDATE_MS. A bar's click is an ordinary
 * `setFilter` with the bar's `apply` text.
 */
import type { BadLine } from '../core/schema/record';
import type { HistogramSet } from '../core/view/histogramTypes';
import {
  FACT_KINDS, type BoxFrameSetting, type FactKind, type FactView, type GroupDetail, type GroupRow,
  type LiveStatus, type RowFilter, type SourceNote,
} from '../core/view/types';

// The domain shapes live in src/core/view/types.ts; the webview imports them from here.
export {
  FACTS_SENT, FACT_KINDS, GROUP_FLAGS, type BoxFrameSetting, type CompletionView, type DrawBox,
  type FactKind, type FactView, type FrameInfo, type GroupDetail, type GroupFlag, type GroupRow,
  type ImageView, type LiveStatus, type RowFilter, type SourceNote, type ValuePair, type VerdictView,
} from '../core/view/types';
export type { BadLine } from '../core/schema/record';
export type { Histogram, HistogramBar, HistogramSet } from '../core/view/histogramTypes';
export type { ChainToken } from '../core/chain/types';

export interface ViewerSettings {
  boxFrame: BoxFrameSetting;
  variant: string;
  matching: 'seed' | 'optimal';
}

export interface SourceInfo {
  title: string;
  /** What the viewer follows: one file or folder (older panels restored a list of files). */
  files: string[];
  /** The trainer format in use, once known (`native`, `verl`, `trl`, `vlmr1`, `easyr1`). */
  format: string | null;
  /** Steps were inferred (VLM-R1 logs carry none): the UI says so. */
  stepsInferred: boolean;
}

/**
 * Host → webview at most this often while records arrive: about three frames, so a fast writer
 * costs ~20 messages a second and an append shows within ~0.1 s (`npm run bench`: live_p95_ms).
 */
export const LIVE_UPDATE_MS = 50;
/** Bad lines sent to the webview; the count says how many more there are. */
export const BAD_LINES_SENT = 200;
/**
 * While the webview's histograms are open the host sends them again when the list changes, at
 * most this often: each is one pass over every completion per reward column.
 */
export const HISTOGRAM_UPDATE_MS = 250;
/** Source notes sent to the webview (same rule). */
export const NOTES_SENT = 200;

/** How the host read the filter text; an error keeps the previous filter in force. */
export interface FilterReading {
  kind: 'none' | 'words' | 'query' | 'error';
  /** For 'error': the message and the 1-based column in the text where the problem starts. */
  message: string | null;
  column: number | null;
}

/** What the webview keeps with setState and sends back in `ready`. */
export interface ViewerState {
  selectedKey: string | null;
  filter: RowFilter;
  scrollTop: number;
  frame: BoxFrameSetting | null;
  /** The reward histograms strip is open (the webview asks for them again after a reload). */
  histograms?: boolean;
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
  | { type: 'revealLine'; file: string; line: number }
  /** A group view header button: the host runs showPromptTimeline / compareCompletions on (this source, key). */
  | { type: 'groupAction'; action: 'timeline' | 'compare'; key: string }
  /** Select the first group of `step` in the list as shown. */
  | { type: 'goToStep'; step: number }
  /** The histograms strip opened (send them now, and again as the list changes) or closed (stop). */
  | { type: 'requestHistograms'; open: boolean };

// ---- host → webview -------------------------------------------------------------------------
export type HostMessage =
  | {
      type: 'init';
      source: SourceInfo;
      totalGroups: number;
      totalCompletions: number;
      /** The first BAD_LINES_SENT bad lines; `badLineCount` counts them all. */
      badLines: BadLine[];
      badLineCount: number;
      /** What the adapters noted about the input (not errors): the first NOTES_SENT, and the count. */
      notes: SourceNote[];
      noteCount: number;
      live: LiveStatus;
      filterReading: FilterReading;
      settings: ViewerSettings;
      /** The state to restore, echoed back (host may have adjusted it). */
      state: ViewerState;
    }
  /** Reply to requestRows; `total` is the filtered list's length. */
  | { type: 'rows'; requestId: number; start: number; total: number; rows: GroupRow[] }
  /**
   * The list changed: the webview re-requests its window. `grown`: the same list with rows
   * added or updated (records arrived), so scroll position and selection stay; otherwise the
   * list was replaced (filter, rescore, truncation).
   */
  | { type: 'listChanged'; total: number; grown: boolean }
  /** Counts, bad lines and the follower's state, coalesced while records arrive. */
  | {
      type: 'status';
      source: SourceInfo;
      totalGroups: number;
      totalCompletions: number;
      badLines: BadLine[];
      badLineCount: number;
      notes: SourceNote[];
      noteCount: number;
      live: LiveStatus;
    }
  /** The host set or read the filter (a command set it, or it answers `setFilter`). */
  | { type: 'filterApplied'; filter: RowFilter; reading: FilterReading }
  /** Select this group and scroll it into view (jump to step). */
  | { type: 'reveal'; key: string; ordinal: number }
  | { type: 'groupDetail'; detail: GroupDetail }
  /** The reward histograms of the list as it stands (answers requestHistograms; again when the list changes while open). */
  | { type: 'histograms'; set: HistogramSet }
  /** Palette commands forwarded to the focused viewer. */
  | { type: 'command'; command: 'nextGroup' | 'previousGroup' | 'focusFilter' }
  | { type: 'error'; message: string };

const WEBVIEW_TYPES = new Set<WebviewMessage['type']>(['ready', 'requestRows', 'selectGroup', 'setFilter', 'setFrame', 'revealLine', 'goToStep', 'groupAction', 'requestHistograms']);
const HOST_TYPES = new Set<HostMessage['type']>(['init', 'rows', 'listChanged', 'status', 'filterApplied', 'reveal', 'groupDetail', 'histograms', 'command', 'error']);

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
      return isObj(x.filter) && typeof x.filter.text === 'string' && Array.isArray(x.filter.flags)
        && (x.filter.order === undefined || x.filter.order === 'file' || x.filter.order === 'newest');
    case 'setFrame':
      return typeof x.frame === 'string';
    case 'revealLine':
      return typeof x.file === 'string' && isNum(x.line);
    case 'goToStep':
      return isNum(x.step);
    case 'groupAction':
      return (x.action === 'timeline' || x.action === 'compare') && typeof x.key === 'string';
    case 'requestHistograms':
      return typeof x.open === 'boolean';
    default:
      return true;
  }
}

export function isFactView(x: unknown): x is FactView {
  return isObj(x) && typeof x.key === 'string' && FACT_KINDS.includes(x.kind as FactKind) && typeof x.text === 'string'
    && (x.full === null || typeof x.full === 'string');
}

export function isSourceNote(x: unknown): x is SourceNote {
  return isObj(x) && typeof x.file === 'string' && typeof x.message === 'string' && (x.line === undefined || isNum(x.line));
}

const isCompletionFacts = (c: unknown): boolean => isObj(c) && Array.isArray(c.facts) && c.facts.every(isFactView) && isNum(c.moreFacts);

/**
 * Webview side: what arrives on `message` is checked before it is drawn. File content that
 * reaches the page as strings of its own (facts, notes, bad lines) is checked in full.
 */
export function isHostMessage(x: unknown): x is HostMessage {
  if (!isObj(x) || typeof x.type !== 'string' || !HOST_TYPES.has(x.type as HostMessage['type'])) return false;
  switch (x.type) {
    case 'init':
    case 'status':
      return Array.isArray(x.badLines) && x.badLines.every(isBadLine) && isNum(x.badLineCount)
        && Array.isArray(x.notes) && x.notes.every(isSourceNote) && isNum(x.noteCount);
    case 'groupDetail':
      return isObj(x.detail) && typeof x.detail.key === 'string' && Array.isArray(x.detail.completions) && x.detail.completions.every(isCompletionFacts);
    case 'histograms':
      return isHistogramSet(x.set);
    default:
      return true;
  }
}

const isHistogramBar = (b: unknown): boolean => isObj(b) && isNum(b.lo) && isNum(b.hi) && typeof b.label === 'string'
  && typeof b.clause === 'string' && typeof b.apply === 'string' && isNum(b.count) && isNum(b.filtered) && isNum(b.filteredGroups);

const isHistogram = (h: unknown): boolean => isObj(h) && typeof h.column === 'string' && (h.kind === 'range' || h.kind === 'values')
  && Array.isArray(h.bars) && h.bars.every(isHistogramBar) && isNum(h.missing) && isNum(h.filteredMissing);

/** Reward names (file content) reach the page in columns and clauses: the whole set is checked. */
export function isHistogramSet(x: unknown): x is HistogramSet {
  return isObj(x) && isNum(x.total) && isNum(x.filtered) && typeof x.filterText === 'string'
    && Array.isArray(x.histograms) && x.histograms.every(isHistogram) && Array.isArray(x.unfilterable) && x.unfilterable.every((n) => typeof n === 'string');
}

const isBadLine = (x: unknown): x is BadLine =>
  isObj(x) && isNum(x.line) && typeof x.error === 'string' && (x.file === undefined || typeof x.file === 'string');

export const EMPTY_STATE: ViewerState = { selectedKey: null, filter: { text: '', flags: [] }, scrollTop: 0, frame: null };
