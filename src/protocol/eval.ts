/**
 * The Evaluation Matrix panel's protocol: every message between the extension host and the
 * matrix webview, defined once and imported by both sides. No `vscode` value import, no DOM.
 *
 * Flow: the webview posts `ready`; the host answers `show` (checkpoints × benchmarks, computed by
 * src/core/eval), and sends `show` again after an evaluation from the editor finishes. Buttons
 * post `exportReport` and `evaluate`; a click on a cell posts `openPredictions` with its ids (the
 * host looks the file up itself). Checkpoint and benchmark names come from folder names and
 * profiles: text only on the webview side.
 */

export interface MatrixDeltaView {
  value: number;
  lo?: number;
  hi?: number;
  p?: number;
  test?: string;
  significant?: boolean;
}

export interface MatrixCellView {
  checkpoint: string;
  benchmark: string;
  /** Fractions 0-1: the headline value and its 95% interval. */
  value: number;
  lo: number;
  hi: number;
  n: number;
  /** Read from an lmms-eval results.json, not computed here. */
  logged: boolean;
  /** Lines of its file that could not be scored. */
  bad: number;
  /** Against the base checkpoint (absent for the base itself). */
  delta?: MatrixDeltaView;
}

export interface MatrixView {
  title: string;
  /** What was read: the eval profile's results folder, a manifest or a folder. */
  source: string;
  base: string;
  checkpoints: { id: string; label: string; step: number | null }[];
  benchmarks: { id: string; label: string; metric: string }[];
  cells: MatrixCellView[];
  /** Unreadable files and the first bad lines, as `file:line: why`. */
  problems: string[];
  badLines: number;
}

// ---- webview → host -------------------------------------------------------------------------
export type EvalWebviewMessage =
  | { type: 'ready' }
  | { type: 'exportReport' }
  | { type: 'evaluate' }
  | { type: 'openPredictions'; checkpoint: string; benchmark: string };

// ---- host → webview -------------------------------------------------------------------------
export type EvalHostMessage = { type: 'show'; view: MatrixView } | { type: 'loading'; source: string } | { type: 'error'; source: string; message: string };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const optNum = (x: unknown): boolean => x === undefined || isNum(x);

export function isEvalWebviewMessage(m: unknown): m is EvalWebviewMessage {
  if (!isObj(m)) return false;
  if (m.type === 'ready' || m.type === 'exportReport' || m.type === 'evaluate') return true;
  return m.type === 'openPredictions' && isStr(m.checkpoint) && isStr(m.benchmark);
}

function isDelta(d: unknown): boolean {
  return isObj(d) && isNum(d.value) && optNum(d.lo) && optNum(d.hi) && optNum(d.p) && (d.test === undefined || isStr(d.test)) && (d.significant === undefined || typeof d.significant === 'boolean');
}

function isCell(c: unknown): c is MatrixCellView {
  return (
    isObj(c) &&
    isStr(c.checkpoint) &&
    isStr(c.benchmark) &&
    [c.value, c.lo, c.hi, c.n, c.bad].every(isNum) &&
    typeof c.logged === 'boolean' &&
    (c.delta === undefined || isDelta(c.delta))
  );
}

export function isEvalHostMessage(m: unknown): m is EvalHostMessage {
  if (!isObj(m)) return false;
  switch (m.type) {
    case 'show': {
      const v = m.view;
      return (
        isObj(v) &&
        isStr(v.title) &&
        isStr(v.source) &&
        isStr(v.base) &&
        Array.isArray(v.checkpoints) &&
        v.checkpoints.every((c: unknown) => isObj(c) && isStr(c.id) && isStr(c.label) && (c.step === null || isNum(c.step))) &&
        Array.isArray(v.benchmarks) &&
        v.benchmarks.every((b: unknown) => isObj(b) && isStr(b.id) && isStr(b.label) && isStr(b.metric)) &&
        Array.isArray(v.cells) &&
        v.cells.every(isCell) &&
        Array.isArray(v.problems) &&
        v.problems.every(isStr) &&
        isNum(v.badLines)
      );
    }
    case 'loading':
      return isStr(m.source);
    case 'error':
      return isStr(m.source) && isStr(m.message);
    default:
      return false;
  }
}
