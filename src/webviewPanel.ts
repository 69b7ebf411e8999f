/**
 * Loads one of the panel bundles (dist/webview/<bundle>.js and .css) into a webview panel in the
 * shared shell of src/panelHtml.ts: the extension's icon, scripts on, resources from
 * dist/webview only, a fresh nonce. The Run Metrics, Run Overview and Alignment panels use it.
 */
import * as vscode from 'vscode';
import { panelHtml } from './panelHtml';
import { makeNonce } from './viewer/html';

export function loadPanel(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, o: { bundle: string; title: string; rootId: string }): void {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const asset = (ext: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, `${o.bundle}.${ext}`)).toString();
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'dist', 'media', 'grpo-studio.svg');
  panel.webview.options = { enableScripts: true, localResourceRoots: [dist] };
  panel.webview.html = panelHtml({ cspSource: panel.webview.cspSource, nonce: makeNonce(), scriptUri: asset('js'), styleUri: asset('css'), title: o.title, rootId: o.rootId });
}
