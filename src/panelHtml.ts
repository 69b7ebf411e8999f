/**
 * The HTML shell of a webview panel (Run Metrics, Run Overview, Alignment): a strict CSP with a
 * per-load nonce, one stylesheet, one module script, and one empty root that the script fills
 * from the host's messages. Only host-made URIs, the nonce and fixed names go in, attribute-
 * escaped; nothing from a rollout ever reaches this string. (The viewer has its own shell,
 * src/viewer/html.ts, around its custom element.)
 */
export interface PanelHtmlOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** The document title. */
  title: string;
  /** id and data-testid of the `<main>` the script fills. */
  rootId: string;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function panelHtml(o: PanelHtmlOptions): string {
  const src = escapeAttr(o.cspSource);
  const nonce = escapeAttr(o.nonce);
  const root = escapeAttr(o.rootId);
  const csp = ["default-src 'none'", `style-src ${src} 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}" nonce="${nonce}">
<title>${escapeText(o.title)}</title>
</head>
<body>
<main id="${root}" data-testid="${root}"></main>
<script type="module" nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
