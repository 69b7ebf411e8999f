/**
 * The host side of every panel webview: `loadPanel` puts a panel bundle
 * (dist/webview/<bundle>.js and .css) into the one shell of src/panelHtml.ts (the extension's
 * icon, scripts on, resources from dist/webview only, a fresh nonce); `PanelChannel` is the
 * panel's one link to its page, with the handshake every panel follows (docs/architecture.md,
 * "Host and webview"):
 *
 * - the page speaks first: its `ready` makes the channel ready, and `onReady` sends everything
 *   the page needs;
 * - hidden means not ready: without retainContextWhenHidden a hidden page is gone, so nothing is
 *   posted until it says `ready` again;
 * - what the page sends is untrusted: a message the protocol's guard rejects is logged and dropped.
 *
 * The rollout viewer, Run Metrics, Run Overview, Alignment and Evaluation panels use it.
 */
import * as vscode from 'vscode';
import { makeNonce, panelHtml } from './panelHtml';
import { log } from './log';

/** `imageRoots`: folders whose images the page may show (the CSP then allows them; none by default). */
export function loadPanel(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, o: { bundle: string; title: string; rootId: string; imageRoots?: vscode.Uri[] }): void {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const asset = (ext: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, `${o.bundle}.${ext}`)).toString();
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'dist', 'media', 'grpo-studio.svg');
  panel.webview.options = { enableScripts: true, localResourceRoots: [dist, ...(o.imageRoots ?? [])] };
  panel.webview.html = panelHtml({ cspSource: panel.webview.cspSource, nonce: makeNonce(), scriptUri: asset('js'), styleUri: asset('css'), title: o.title, rootId: o.rootId, media: (o.imageRoots?.length ?? 0) > 0 });
}

export interface PanelChannelOptions<FromPage extends { type: string }> {
  /** For the log: which panel dropped a message. */
  name: string;
  /** The protocol's guard for messages from the page. */
  isMessage(m: unknown): m is FromPage;
  /** The page said `ready` (first load, or shown again; the message may carry what it restored): send it everything. */
  onReady(m: Extract<FromPage, { type: 'ready' }>): void;
  /** Any other message from the page. */
  onMessage(m: Exclude<FromPage, { type: 'ready' }>): void;
  /** The panel was closed; the channel has let go of it. */
  onDispose?(): void;
}

export class PanelChannel<ToPage, FromPage extends { type: string }> implements vscode.Disposable {
  private isReady = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly panel: vscode.WebviewPanel, private readonly o: PanelChannelOptions<FromPage>) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (!o.isMessage(m)) {
          log().warn(`${o.name}: ignored a malformed message from the webview`);
          return;
        }
        if (m.type === 'ready') {
          this.isReady = true;
          o.onReady(m as Extract<FromPage, { type: 'ready' }>);
        } else o.onMessage(m as Exclude<FromPage, { type: 'ready' }>);
      }),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.isReady = false;
      }),
      panel.onDidDispose(() => {
        this.isReady = false;
        this.dispose();
        o.onDispose?.();
      }),
    );
  }

  /** The page is there and has said `ready`. */
  get ready(): boolean {
    return this.isReady;
  }

  /** Posts when the page is ready; otherwise drops it (the next `ready` resends everything). */
  post(m: ToPage): boolean {
    if (!this.isReady) return false;
    void this.panel.webview.postMessage(m);
    return true;
  }

  /** Stops listening; the panel itself stays (dispose the panel to close it). */
  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
