/**
 * The webview's one link to the extension host. `acquireVsCodeApi()` may be called only once per
 * page, so this module owns it. Incoming messages are untrusted until `isHostMessage` says so.
 */
import { EMPTY_STATE, isHostMessage, type HostMessage, type ViewerState, type WebviewMessage } from '../../src/protocol/viewer';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** Our own saved state can still be from an older build: accept it only when its shape fits. */
function asViewerState(x: unknown): ViewerState | null {
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
  };
}

export class HostChannel {
  private readonly api: VsCodeApi;

  constructor() {
    this.api = acquireVsCodeApi();
  }

  post(message: WebviewMessage): void {
    this.api.postMessage(message);
  }

  restoredState(): ViewerState | null {
    return asViewerState(this.api.getState());
  }

  saveState(state: ViewerState): void {
    this.api.setState(state);
  }

  /** Returns the function that stops listening. */
  listen(handler: (message: HostMessage) => void): () => void {
    const onMessage = (event: MessageEvent<unknown>) => {
      if (isHostMessage(event.data)) handler(event.data);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }
}
