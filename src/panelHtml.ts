/**
 * The one HTML shell of every webview (the viewer, Run Metrics, Run Overview, Alignment): a
 * strict CSP with a per-load nonce (`default-src 'none'`; scripts by nonce only; styles, and for
 * the viewer images and fonts, only from the webview's own resource origin), the stylesheets,
 * one module script, and one empty root that the script fills from the host's messages.
 * Only host-made URIs, the nonce and fixed names go in, attribute-escaped; nothing from a
 * rollout ever reaches this string. No `vscode` import: the webview test harness builds the
 * very same document (through src/viewer/html.ts).
 */
import { randomBytes } from 'node:crypto';

export interface ShellOptions {
  /** `webview.cspSource` (or the harness origin). */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  /** Stylesheets in order; `id` where VS Code looks one up (the codicons sheet). */
  styles: { href: string; id?: string }[];
  /** The document title. */
  title: string;
  /** What the script fills: a `<main>` with this id and data-testid, or a custom element. */
  root: { main: string } | { element: string };
  /** Also allow images and fonts from `cspSource` (the viewer's images and codicons). */
  media?: boolean;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A custom element's name (a hyphen, lowercase): anything else is a programming error. */
const ELEMENT_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;

export function webviewShell(o: ShellOptions): string {
  const src = escapeAttr(o.cspSource);
  const nonce = escapeAttr(o.nonce);
  const csp = [
    "default-src 'none'",
    ...(o.media ? [`img-src ${src}`, `font-src ${src}`] : []),
    `style-src ${src} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const styles = o.styles.map((s) => `<link rel="stylesheet" href="${escapeAttr(s.href)}"${s.id ? ` id="${escapeAttr(s.id)}"` : ''} nonce="${nonce}">`);
  let root: string;
  if ('main' in o.root) {
    const id = escapeAttr(o.root.main);
    root = `<main id="${id}" data-testid="${id}"></main>`;
  } else {
    if (!ELEMENT_NAME.test(o.root.element)) throw new Error(`not a custom element name: ${o.root.element}`);
    root = `<${o.root.element}></${o.root.element}>`;
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles.join('\n')}
<title>${escapeText(o.title)}</title>
</head>
<body>
${root}
<script type="module" nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}

export interface PanelHtmlOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  title: string;
  /** id and data-testid of the `<main>` the script fills. */
  rootId: string;
  /** Also allow images from the webview's resource origin (a panel showing rollout images). */
  media?: boolean;
}

/** A panel bundle's page (Run Metrics, Run Overview, Alignment): its stylesheet and a `<main>`. */
export function panelHtml(o: PanelHtmlOptions): string {
  return webviewShell({ cspSource: o.cspSource, nonce: o.nonce, scriptUri: o.scriptUri, styles: [{ href: o.styleUri }], title: o.title, root: { main: o.rootId }, media: o.media });
}
