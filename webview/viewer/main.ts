/**
 * Entry of the viewer webview bundle (dist/webview/viewer.js). The HTML shell
 * (src/viewer/html.ts) holds one <grpo-viewer>; defining it starts the handshake.
 */
import { css } from 'lit';
import './viewer';

// The page itself: no default margins, theme background behind the components.
const page = css`
  html, body { margin: 0; padding: 0; height: 100%; overflow: hidden; background: var(--vscode-editor-background, #1f1f1f); }
`;
if (page.styleSheet) document.adoptedStyleSheets = [...document.adoptedStyleSheets, page.styleSheet];
