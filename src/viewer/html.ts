/**
 * The viewer webview's HTML shell. No `vscode` import: the webview test harness builds the very
 * same document. Nothing from a rollout ever reaches this string; only host-made URIs and the
 * nonce, and those are attribute-escaped anyway.
 */
import { randomBytes } from 'node:crypto';

export interface ViewerHtmlOptions {
  /** `webview.cspSource` (or the harness origin). */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  codiconsUri: string;
  title: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

const escapeAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function viewerHtml(o: ViewerHtmlOptions): string {
  const src = escapeAttr(o.cspSource);
  const nonce = escapeAttr(o.nonce);
  const csp = [
    "default-src 'none'",
    `img-src ${src}`,
    `font-src ${src}`,
    `style-src ${src} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.codiconsUri)}" id="vscode-codicon-stylesheet" nonce="${nonce}">
<title>${escapeAttr(o.title)}</title>
</head>
<body>
<grpo-viewer></grpo-viewer>
<script type="module" nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
