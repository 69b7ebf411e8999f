/**
 * The Run Overview webview's one link to the extension host (`acquireVsCodeApi` may be called
 * once per page). Incoming messages are untrusted until `isOverviewHostMessage` says so.
 */
import { isOverviewHostMessage, type OverviewHostMessage, type OverviewWebviewMessage } from '../../src/protocol/overview';

interface VsCodeApi {
  postMessage(message: unknown): void;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export class OverviewChannel {
  private readonly api = acquireVsCodeApi();

  post(message: OverviewWebviewMessage): void {
    this.api.postMessage(message);
  }

  /** Which source the panel shows, for the serializer after a reload. */
  remember(target: string): void {
    this.api.setState({ target });
  }

  listen(handler: (message: OverviewHostMessage) => void): () => void {
    const onMessage = (event: MessageEvent<unknown>) => {
      if (isOverviewHostMessage(event.data)) handler(event.data);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }
}
