/**
 * The Run Metrics webview's one link to the extension host (`acquireVsCodeApi` may be called
 * once per page). Incoming messages are untrusted until `isRunsHostMessage` says so.
 */
import { isRunsHostMessage, type RunsHostMessage, type RunsWebviewMessage } from '../../src/protocol/runs';

interface VsCodeApi {
  postMessage(message: unknown): void;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export class RunsChannel {
  private readonly api = acquireVsCodeApi();

  post(message: RunsWebviewMessage): void {
    this.api.postMessage(message);
  }

  /** Which run the panel shows, for the serializer after a reload. */
  remember(run: string | null): void {
    this.api.setState(run ? { run } : {});
  }

  listen(handler: (message: RunsHostMessage) => void): () => void {
    const onMessage = (event: MessageEvent<unknown>) => {
      if (isRunsHostMessage(event.data)) handler(event.data);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }
}
