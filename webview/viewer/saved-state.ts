/**
 * The viewer's saved state (selection, filter, scroll, frame) as VS Code gives it back after the
 * page was hidden or reloaded, through the shared host channel (webview/shared/host-channel.ts).
 */
import { EMPTY_STATE, type ViewerState } from '../../src/protocol/viewer';

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** Our own saved state can still be from an older build: accept it only when its shape fits. */
export function asViewerState(x: unknown): ViewerState | null {
  if (!isObj(x) || !isObj(x.filter)) return null;
  const f = x.filter;
  if (typeof f.text !== 'string' || !Array.isArray(f.flags)) return null;
  return {
    selectedKey: typeof x.selectedKey === 'string' ? x.selectedKey : null,
    filter: {
      text: f.text,
      flags: f.flags.filter((v): v is ViewerState['filter']['flags'][number] => typeof v === 'string'),
      ...(f.order === 'newest' || f.order === 'file' ? { order: f.order } : {}),
    },
    scrollTop: typeof x.scrollTop === 'number' && Number.isFinite(x.scrollTop) ? Math.max(0, x.scrollTop) : 0,
    frame: typeof x.frame === 'string' ? (x.frame as ViewerState['frame']) : EMPTY_STATE.frame,
    ...(x.histograms === true ? { histograms: true } : {}),
  };
}
