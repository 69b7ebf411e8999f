/**
 * The viewer webview's page: the one shell of src/panelHtml.ts around `<grpo-viewer>`, with the
 * codicons stylesheet and the source's images and fonts allowed. No `vscode` import: the webview
 * test harness builds the very same document.
 */
import { makeNonce, webviewShell } from '../panelHtml';

export { makeNonce };

export interface ViewerHtmlOptions {
  /** `webview.cspSource` (or the harness origin). */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  codiconsUri: string;
  title: string;
}

export function viewerHtml(o: ViewerHtmlOptions): string {
  return webviewShell({
    cspSource: o.cspSource,
    nonce: o.nonce,
    scriptUri: o.scriptUri,
    styles: [{ href: o.codiconsUri, id: 'vscode-codicon-stylesheet' }],
    title: o.title,
    root: { element: 'grpo-viewer' },
    media: true,
  });
}
