/**
 * The Run Overview webview's HTML shell. Only host-made URIs and the nonce go in, attribute-
 * escaped; nothing from a rollout ever reaches this string (the page asks for data after `ready`).
 */
export interface OverviewHtmlOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function overviewHtml(o: OverviewHtmlOptions): string {
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
<title>Run Overview</title>
</head>
<body>
<main id="run-overview" data-testid="run-overview"></main>
<script type="module" nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
