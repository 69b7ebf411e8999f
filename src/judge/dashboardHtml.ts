/**
 * The Alignment dashboard's HTML shell: strict CSP with a nonce, only host-made URIs go in
 * (attribute-escaped). The table itself is drawn by the webview from `show` messages.
 */
export interface DashboardHtmlOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function dashboardHtml(o: DashboardHtmlOptions): string {
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
<title>Alignment</title>
</head>
<body>
<main id="alignment" data-testid="alignment"></main>
<script type="module" nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
