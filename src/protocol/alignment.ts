/**
 * The Alignment dashboard's protocol: every message between the extension host and the
 * alignment webview, defined once and imported by both sides. No `vscode` value import, no DOM.
 *
 * Flow: the webview posts `ready`; the host answers `show` (the table for the files it shows),
 * and sends `show` again whenever their verdict caches change (a judge run, the CLI). The
 * "Export as Markdown" button posts `exportMarkdown`. Run names come from rollout files: text
 * only on the webview side.
 */

export type AlignmentScope = 'run' | 'checkpoint' | 'step';
export const MISALIGNMENT_TYPE_NAMES = ['contradiction', 'missing_detail', 'irrelevant', 'other'] as const;
export type MisalignmentTypeName = (typeof MISALIGNMENT_TYPE_NAMES)[number];

export interface TierAgreementView {
  a: string;
  b: string;
  both: number;
  agree: number;
}

/** One row of the table (src/core/judge/alignment.ts `AlignmentRow`). Percentages are 0–100. */
export interface AlignmentRowView {
  label: string;
  scope: AlignmentScope;
  run: string;
  step: number | null;
  checkpoint: string | null;
  completions: number;
  reasoningShare: number;
  scored: number;
  accuracy: number | null;
  judged: number;
  aligned: number;
  misaligned: number;
  unparseable: number;
  alignment: number | null;
  types: Record<MisalignmentTypeName, number>;
  agreement: TierAgreementView[];
}

export interface AlignmentView {
  /** The file or folder shown (for the title). */
  target: string;
  files: number;
  completions: number;
  /** Verdicts in the caches beside the files. */
  verdicts: number;
  rows: AlignmentRowView[];
  /** Lines that were not records, with where they are. */
  problems: string[];
}

// ---- webview → host -------------------------------------------------------------------------
export type AlignmentWebviewMessage = { type: 'ready' } | { type: 'exportMarkdown' };

// ---- host → webview -------------------------------------------------------------------------
export type AlignmentHostMessage =
  | { type: 'show'; view: AlignmentView }
  | { type: 'loading'; target: string }
  | { type: 'error'; target: string; message: string };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isNumOrNull = (x: unknown): boolean => x === null || isNum(x);
const isStr = (x: unknown): x is string => typeof x === 'string';

export function isAlignmentWebviewMessage(m: unknown): m is AlignmentWebviewMessage {
  return isObj(m) && (m.type === 'ready' || m.type === 'exportMarkdown');
}

function isRow(r: unknown): r is AlignmentRowView {
  if (!isObj(r)) return false;
  const counts = ['completions', 'reasoningShare', 'scored', 'judged', 'aligned', 'misaligned', 'unparseable'] as const;
  return (
    isStr(r.label) &&
    (r.scope === 'run' || r.scope === 'checkpoint' || r.scope === 'step') &&
    isStr(r.run) &&
    isNumOrNull(r.step) &&
    (r.checkpoint === null || isStr(r.checkpoint)) &&
    counts.every((k) => isNum(r[k])) &&
    isNumOrNull(r.accuracy) &&
    isNumOrNull(r.alignment) &&
    isObj(r.types) &&
    MISALIGNMENT_TYPE_NAMES.every((t) => isNum((r.types as Record<string, unknown>)[t])) &&
    Array.isArray(r.agreement) &&
    r.agreement.every((a: unknown) => isObj(a) && isStr(a.a) && isStr(a.b) && isNum(a.both) && isNum(a.agree))
  );
}

export function isAlignmentHostMessage(m: unknown): m is AlignmentHostMessage {
  if (!isObj(m)) return false;
  switch (m.type) {
    case 'show': {
      const v = m.view;
      return (
        isObj(v) &&
        isStr(v.target) &&
        isNum(v.files) &&
        isNum(v.completions) &&
        isNum(v.verdicts) &&
        Array.isArray(v.rows) &&
        v.rows.every(isRow) &&
        Array.isArray(v.problems) &&
        v.problems.every(isStr)
      );
    }
    case 'loading':
      return isStr(m.target);
    case 'error':
      return isStr(m.target) && isStr(m.message);
    default:
      return false;
  }
}
