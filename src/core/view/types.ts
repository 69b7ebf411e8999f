/**
 * What the views compute, in the viewer's terms: a group's row in the list, the group as drawn
 * (completions, boxes, logged beside recomputed values, facts, verdicts), the filter a user
 * types, the follower's state. src/core builds these; src/protocol carries them to the webview
 * unchanged (it imports them from here, never the reverse; test/unit/imports.test.ts checks).
 * Plain JSON shapes: no functions, no class instances, no NaN.
 */
import type { BoxFrame } from '../schema/record';
import type { ChainToken } from '../chain/types';

export type { SourceNote } from '../ingest/types';

export type BoxFrameSetting = 'auto' | BoxFrame;
/** `misaligned`: a judge found a completion whose reasoning does not support its answer. */
export type GroupFlag = 'zero_variance' | 'format_failure' | 'reward_mismatch' | 'bad_boxes' | 'misaligned';
export const GROUP_FLAGS: readonly GroupFlag[] = ['zero_variance', 'format_failure', 'reward_mismatch', 'bad_boxes', 'misaligned'];

/** The follower's state, shown in the toolbar. */
export interface LiveStatus {
  /** 'watch' (fs.watch plus a slow poll), 'poll' (polling only), 'stopped' (failed to start). */
  mode: 'watch' | 'poll' | 'stopped';
  /** Still reading what existed when the viewer opened. */
  loading: boolean;
  /** Bytes read of what existed when the viewer opened, and that total (null when unknown). */
  bytesRead: number;
  bytesTotal: number | null;
  /** Why following stopped or failed, when it did. */
  problem: string | null;
  /**
   * Completions listed from a scan of the file's bytes (logged values) whose rewards are still
   * being recomputed from the records read back; their flags fill in as they are scored.
   */
  unscored?: number;
}

/** Facts sent per completion; `moreFacts` counts the rest. */
export const FACTS_SENT = 64;

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

/**
 * The judge's verdict on a completion (docs/judge.md), from the verdict cache beside its file.
 * `why` is judge output: hostile text, shown as text only. `failed`: the last try could not
 * judge it (not cached), with the reason; then `aligns`/`type` are null and `why` is empty.
 */
export interface VerdictView {
  aligns: boolean | null;
  type: string | null;
  why: string;
  tier: string;
  failed?: string;
}

/** A logged value next to our recomputed one. */
export interface ValuePair {
  name: string;
  logged: number | null;
  recomputed: number | null;
  mismatch: boolean;
}

/** What kind of JSON value a fact holds (bigint cells from parquet count as numbers). */
export type FactKind = 'number' | 'bool' | 'string' | 'null' | 'list' | 'dict';
export const FACT_KINDS: readonly FactKind[] = ['number', 'bool', 'string', 'null', 'list', 'dict'];

/**
 * One per-completion fact (a key of the record's `meta`), rendered by the host: `text` is what
 * the card shows (a scalar as text, a list or dict as compact JSON, cut short), `full` the whole
 * value for the tooltip (itself capped) when `text` is cut, else null. File content: text only.
 */
export interface FactView {
  key: string;
  kind: FactKind;
  text: string;
  full: string | null;
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
  /** The record's `meta`, in its order, the first FACTS_SENT keys; `moreFacts` counts the rest. */
  facts: FactView[];
  moreFacts: number;
  chars: number;
  words: number;
  formatOk: boolean;
  violations: string[];
  /** Null when no judge has seen this completion. */
  verdict: VerdictView | null;
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
  /** A query (docs/query.md) when it parses as one; plain words search prompt and completion. */
  text: string;
  flags: GroupFlag[];
  /** 'newest': latest-written groups first (while following); default file order. */
  order?: 'file' | 'newest';
}
