/**
 * The Compare Completions panel's protocol: one prompt's group in two places (two steps of a run,
 * or two runs) side by side. Every message between the host and the webview, defined once; no
 * `vscode` value import, no DOM types.
 *
 * Flow: the webview posts `ready`; the host answers `show` with both sides (each group's detail
 * as the viewer builds it: chains, rewards, boxes, verdicts) and the word differences of each pair
 * of completions with the same index. It posts `show` again when either source changes. The page
 * may ask to open a side's group in its viewer (`reveal`).
 */
import type { GroupDetail } from '../core/view/types';
import type { ChainDiff } from '../core/view/chainDiff';

export type { ChainDiff, DiffSegment } from '../core/view/chainDiff';
export type { CompletionView, DrawBox, GroupDetail, ImageView, ValuePair, VerdictView } from '../core/view/types';

export interface CompareSide {
  /** The file or folder the group is in (absolute path). */
  target: string;
  /** A short name for the run: its base name (with parent folders where both sides' are equal). */
  label: string;
  key: string;
  /** null: not read yet, or no longer in the source (`problem` says which). */
  detail: GroupDetail | null;
  problem: string | null;
}

// ---- webview → host -------------------------------------------------------------------------
export type CompareWebviewMessage = { type: 'ready' } | { type: 'reveal'; side: 0 | 1 };

// ---- host → webview -------------------------------------------------------------------------
export type CompareHostMessage = {
  type: 'show';
  sides: [CompareSide, CompareSide];
  /** diffs[i]: completion i of the left group against completion i of the right (as many as the smaller group has). */
  diffs: ChainDiff[];
  /** The two groups' prompts differ (a hash match the records did not confirm cannot happen; a user's pick can). */
  samePrompt: boolean;
  reading: boolean;
};

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number';
const isStr = (x: unknown): x is string => typeof x === 'string';

/** Host side: messages from the webview are untrusted input. */
export function isCompareWebviewMessage(x: unknown): x is CompareWebviewMessage {
  if (!isObj(x)) return false;
  return x.type === 'ready' || (x.type === 'reveal' && (x.side === 0 || x.side === 1));
}

const isPair = (p: unknown): boolean => isObj(p) && isStr(p.name) && (p.logged === null || isNum(p.logged)) && (p.recomputed === null || isNum(p.recomputed));
const isBox = (b: unknown): boolean => isObj(b) && Array.isArray(b.box) && b.box.length === 4 && b.box.every(isNum) && (b.label === null || isStr(b.label));
const isImage = (i: unknown): boolean => isObj(i) && isStr(i.path) && (i.src === null || isStr(i.src)) && (i.width === null || isNum(i.width)) && (i.height === null || isNum(i.height));
const isVerdict = (v: unknown): boolean => v === null || (isObj(v) && isStr(v.why) && isStr(v.tier) && (v.aligns === null || typeof v.aligns === 'boolean'));

function isCompletion(c: unknown): boolean {
  return isObj(c) && isStr(c.text) && isNum(c.index) && Array.isArray(c.rewards) && c.rewards.every(isPair) && isPair(c.reward) && isPair(c.advantage)
    && Array.isArray(c.boxes) && c.boxes.every(isBox) && typeof c.formatOk === 'boolean' && isVerdict(c.verdict);
}

function isDetail(d: unknown): d is GroupDetail {
  return isObj(d) && isStr(d.key) && (d.step === null || isNum(d.step)) && isStr(d.promptText) && (d.image === null || isImage(d.image))
    && Array.isArray(d.gold) && d.gold.every(isBox) && Array.isArray(d.completions) && d.completions.every(isCompletion) && isStr(d.variant);
}

const isSide = (s: unknown): boolean => isObj(s) && isStr(s.target) && isStr(s.label) && isStr(s.key) && (s.detail === null || isDetail(s.detail)) && (s.problem === null || isStr(s.problem));
const isSegment = (s: unknown): boolean => isObj(s) && isStr(s.text) && typeof s.changed === 'boolean';
const isDiff = (d: unknown): boolean => isObj(d) && Array.isArray(d.left) && d.left.every(isSegment) && Array.isArray(d.right) && d.right.every(isSegment) && typeof d.approximate === 'boolean';

/** Webview side: what arrives is checked before it is drawn (chains and reasons are model output). */
export function isCompareHostMessage(x: unknown): x is CompareHostMessage {
  return isObj(x) && x.type === 'show' && Array.isArray(x.sides) && x.sides.length === 2 && x.sides.every(isSide)
    && Array.isArray(x.diffs) && x.diffs.every(isDiff) && typeof x.samePrompt === 'boolean' && typeof x.reading === 'boolean';
}
