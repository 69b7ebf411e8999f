/**
 * A webview's one link to the extension host, the same for every panel. `acquireVsCodeApi()` may
 * be called only once per page, so each page makes one channel and nothing else calls it.
 * Incoming messages are untrusted until the panel's protocol guard says otherwise; the rest are
 * dropped. The page speaks first: it posts `ready` once it listens (docs/architecture.md).
 */
interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export class HostChannel<FromHost, ToHost> {
  private readonly api: VsCodeApi = acquireVsCodeApi();

  constructor(private readonly isMessage: (m: unknown) => m is FromHost) {}

  post(message: ToHost): void {
    this.api.postMessage(message);
  }

  /** What this page saved with `saveState` before it was hidden or reloaded: unchecked, from an older build maybe. */
  savedState(): unknown {
    return this.api.getState();
  }

  /** Kept by VS Code across hide/show and reloads; the host's serializer gets it too. */
  saveState(state: unknown): void {
    this.api.setState(state);
  }

  /** Returns the function that stops listening. */
  listen(handler: (message: FromHost) => void): () => void {
    const onMessage = (event: MessageEvent<unknown>) => {
      if (this.isMessage(event.data)) handler(event.data);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }
}
