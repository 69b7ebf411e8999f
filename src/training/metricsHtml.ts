/**
 * The Run Metrics webview's HTML shell. Its own small function because the viewer's shell
 * (src/viewer/html.ts) hard-codes the viewer's element; the nonce comes from the same
 * `makeNonce`. Only host-made URIs and the nonce go in, attribute-escaped.
 */
export interface MetricsHtmlOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function metricsHtml(o: MetricsHtmlOptions): string {
  const src = escapeAttr(o.cspSource);
  const nonce = escapeAttr(o.nonce);
  const csp = ["default-src 'none'", `style-src ${src} 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}" nonce="${nonce}">
<title>Run Metrics</title>
</head>
<body>
<main id="run-metrics" data-testid="run-metrics"></main>
<script type="module" nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
