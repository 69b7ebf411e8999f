/**
 * Looks shared by the viewer's components: VS Code theme variables (with Dark Modern fallbacks
 * so the page still reads outside VS Code), the codicon font inside shadow roots, and the
 * per-completion colours used both in chains and on the image.
 */
import { css, html, nothing, type TemplateResult } from 'lit';

export const base = css`
  :host {
    color: var(--vscode-foreground, #cccccc);
    font-family: var(--vscode-font-family, system-ui, sans-serif);
    font-size: var(--vscode-font-size, 13px);
    box-sizing: border-box;
  }
  *, *::before, *::after { box-sizing: inherit; }
  button.link {
    background: none; border: none; padding: 0; font: inherit; cursor: pointer;
    color: var(--vscode-textLink-foreground, #4daafc);
  }
  button.link:hover { text-decoration: underline; color: var(--vscode-textLink-activeForeground, #4daafc); }
  :focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: -1px; }
  .codicon { vertical-align: text-bottom; }
  .muted { color: var(--vscode-descriptionForeground, #9d9d9d); }
  .mono { font-family: var(--vscode-editor-font-family, ui-monospace, monospace); }
  /* One colour per completion; chart colours follow the theme. */
  .c0 { --c: var(--vscode-charts-blue, #3794ff); }
  .c1 { --c: var(--vscode-charts-orange, #d18616); }
  .c2 { --c: var(--vscode-charts-purple, #b180d7); }
  .c3 { --c: var(--vscode-charts-red, #f14c4c); }
  .c4 { --c: var(--vscode-terminal-ansiCyan, #29b8db); }
  .c5 { --c: var(--vscode-terminal-ansiMagenta, #d670d6); }
  .c6 { --c: var(--vscode-terminal-ansiBrightGreen, #23d18b); }
  .c7 { --c: var(--vscode-terminal-ansiBrightYellow, #f5f543); }
`;

export const PALETTE_SIZE = 8;
export const colourClass = (position: number): string => `c${position % PALETTE_SIZE}`;

/**
 * Codicons are a font declared in a document stylesheet, which does not reach into shadow roots;
 * each component links the same (host-made, CSP-allowed) stylesheet again.
 */
export function codiconLink(): TemplateResult | typeof nothing {
  const link = document.getElementById('vscode-codicon-stylesheet');
  const href = link instanceof HTMLLinkElement ? link.href : null;
  return href ? html`<link rel="stylesheet" href=${href}>` : nothing;
}

export function icon(name: string, title?: string): TemplateResult {
  return html`<span class="codicon codicon-${name}" title=${title ?? nothing} aria-hidden=${title ? 'false' : 'true'}></span>`;
}

/** Numbers as a researcher reads them: up to 3 decimals, no trailing zeros; null as a dash. */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return Number.isInteger(x) ? String(x) : String(Number(x.toFixed(3)));
}

export const FLAG_LABELS = {
  zero_variance: { label: 'Zero variance', icon: 'circle-slash' },
  format_failure: { label: 'Format failure', icon: 'warning' },
  reward_mismatch: { label: 'Reward mismatch', icon: 'diff' },
  bad_boxes: { label: 'Bad boxes', icon: 'screen-normal' },
  misaligned: { label: 'Misaligned', icon: 'debug-disconnect' },
} as const;

// Inline styles go through `.style=${text}` (a CSSOM write, which the CSP allows) and never
// through the style attribute (which `style-src` without 'unsafe-inline' refuses). Only numbers
// made here are ever written into them.
