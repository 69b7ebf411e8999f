/**
 * <grpo-chain>: one reasoning chain, drawn from its tokens. Every piece of model text goes in as
 * a Lit text binding (a text node), never as markup. Template literals here are written without
 * whitespace between tags so the chain's text is exactly the tokens' text.
 *
 * A long chain is drawn in chunks (chain-chunks.ts): the first screen when the group is shown,
 * then the next chunks whenever the end of what is drawn scrolls near (an IntersectionObserver on
 * a sentinel) or the page is idle, so selecting a group costs the same whatever its chains'
 * length. Chunks off screen skip layout (`content-visibility: auto`); a box hover re-draws only
 * the chunks holding that box.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { guard } from 'lit/directives/guard.js';
import type { ChainToken, ImageView } from '../../src/protocol/viewer';
import { chunkTokens, firstChunks, type ChainChunk } from './chain-chunks';
import { emit, type BoxRef } from './events';
import { base, codiconLink } from './theme';

/** Chunks added per idle callback, and when the sentinel comes within SENTINEL_MARGIN of view. */
const IDLE_CHUNKS = 2;
const NEAR_CHUNKS = 4;
const SENTINEL_MARGIN = '1500px';

type ImageToken = Extract<ChainToken, { kind: 'image' }>;

export class GrpoChain extends LitElement {
  static override properties = {
    tokens: { attribute: false },
    images: { attribute: false },
    completion: { attribute: false },
    hover: { attribute: false },
  };

  declare tokens: ChainToken[];
  declare images: Record<number, ImageView>;
  declare completion: number;
  declare hover: BoxRef | null;

  private chunks: ChainChunk[] = [];
  /** Chunks drawn so far. */
  private shown = 0;
  private idle: number | null = null;
  private observer: IntersectionObserver | null = null;

  constructor() {
    super();
    this.tokens = [];
    this.images = {};
    this.completion = 0;
    this.hover = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('tokens')) {
      this.chunks = chunkTokens(this.tokens);
      this.shown = firstChunks(this.chunks);
      this.cancelIdle();
    }
  }

  override render() {
    const hot = this.hover !== null && this.hover.completion === this.completion ? this.hover.id : -1;
    const drawn = this.chunks.slice(0, this.shown).map((c) =>
      guard([c, c.boxIds.has(hot) ? hot : -1, this.images], () => html`<div class="chunk">${c.parts.map((p) => this.renderToken(p.token, p.text, hot))}</div>`));
    const rest = this.shown < this.chunks.length;
    return html`${codiconLink()}<div class="chain" data-testid="chain" data-chunks=${this.chunks.length} data-shown=${this.shown}>${drawn}${rest
      ? html`<div class="more" data-testid="chain-more" aria-hidden="true"></div>`
      : nothing}</div>`;
  }

  protected override updated(): void {
    if (this.shown >= this.chunks.length) {
      this.observer?.disconnect();
      return;
    }
    const sentinel = this.renderRoot.querySelector('.more');
    if (sentinel) {
      // The scrolling view as the root: in a webview (a cross-origin frame) the implicit root's
      // margin would be ignored, and the next chunks drawn only once the end is in sight.
      this.observer ??= new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) this.drawMore(NEAR_CHUNKS);
      }, { root: scrollParent(this), rootMargin: SENTINEL_MARGIN });
      // Observed afresh after each draw: still in range, it reports at once and draws again.
      this.observer.disconnect();
      this.observer.observe(sentinel);
    }
    if (this.idle === null) {
      const whenIdle = (cb: () => void): number =>
        typeof requestIdleCallback === 'function' ? requestIdleCallback(cb, { timeout: 500 }) : window.setTimeout(cb, 50);
      this.idle = whenIdle(() => {
        this.idle = null;
        this.drawMore(IDLE_CHUNKS);
      });
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.cancelIdle();
    this.observer?.disconnect();
    this.observer = null;
  }

  private drawMore(n: number): void {
    if (this.shown >= this.chunks.length) return;
    this.shown = Math.min(this.chunks.length, this.shown + n);
    this.requestUpdate();
  }

  private cancelIdle(): void {
    if (this.idle === null) return;
    if (typeof cancelIdleCallback === 'function') cancelIdleCallback(this.idle);
    else window.clearTimeout(this.idle);
    this.idle = null;
  }

  /** `text`: the token's text, or the slice of it this chunk holds. */
  private renderToken(t: ChainToken, text: string, hotId: number) {
    switch (t.kind) {
      case 'tag':
        return html`<span class="tag">${text}</span>`;
      case 'step':
        return html`<span class="step ${t.region}">${text}</span>`;
      case 'text':
        if (t.region === 'outside' && t.text.trim() !== '') {
          return html`<span class="outside violation" data-testid="format-violation" title="Text outside <think>/<answer>: a format violation">${text}</span>`;
        }
        return html`<span class=${t.region}>${text}</span>`;
      case 'box': {
        const hot = hotId === t.boxId;
        const ref: BoxRef = { completion: this.completion, id: t.boxId };
        return html`<span class="box ${t.region} ${hot ? 'hot' : ''}" data-testid="box-token" data-box-id=${t.boxId}
data-completion=${this.completion} tabindex="0" @mouseenter=${() => emit(this, 'box-hover', ref)}
@mouseleave=${() => emit(this, 'box-hover', null)} @focus=${() => emit(this, 'box-hover', ref)}
@blur=${() => emit(this, 'box-hover', null)}>${t.text}</span>`;
      }
      case 'image':
        return this.renderImage(t);
    }
  }

  private renderImage(t: ImageToken) {
    const view = this.images[t.start];
    if (view?.src) {
      return html`<img class="inline-image" data-testid="chain-image" src=${view.src} alt=${view.path} title=${view.path}>`;
    }
    if (t.codes && t.codes.length > 0) {
      return html`<span class="chip generated" data-testid="generated-image" title=${t.text}><span class="codicon codicon-file-media"></span>generated image (${t.codes.length} codes)</span>`;
    }
    const path = view?.path ?? t.path ?? '(no path)';
    const tried = view && view.tried.length > 0 ? `\nLooked in:\n${view.tried.join('\n')}` : '';
    return html`<span class="chip missing" data-testid="chain-image-missing" title="Image not found: ${path}${tried}"><span class="codicon codicon-file-media"></span>missing image: ${path}</span>`;
  }

  static override styles = [
    base,
    css`
      :host { display: block; }
      .chunk { content-visibility: auto; contain-intrinsic-block-size: auto 1200px; }
      .more { height: 1px; }
      .chain {
        white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.55;
        font-family: var(--vscode-editor-font-family, ui-monospace, monospace);
        font-size: var(--vscode-editor-font-size, 12.5px);
      }
      .tag { color: var(--vscode-descriptionForeground, #9d9d9d); opacity: 0.6; }
      .think { color: var(--vscode-editor-foreground, #cccccc); }
      .answer {
        background: var(--vscode-editor-findMatchHighlightBackground, rgba(234, 92, 0, 0.33));
        color: var(--vscode-editor-foreground, #e0e0e0); border-radius: 2px; font-weight: 600;
      }
      .outside { color: var(--vscode-descriptionForeground, #9d9d9d); }
      .violation {
        color: var(--vscode-errorForeground, #f85149);
        text-decoration: wavy underline var(--vscode-editorError-foreground, #f14c4c);
        text-underline-offset: 3px;
      }
      .step {
        color: var(--vscode-symbolIcon-keywordForeground, #c586c0); font-weight: 600;
        border-left: 2px solid var(--vscode-symbolIcon-keywordForeground, #c586c0); padding-left: 3px;
      }
      .box {
        color: var(--c, var(--vscode-charts-blue, #3794ff));
        background: color-mix(in srgb, var(--c, #3794ff) 14%, transparent);
        border: 1px solid color-mix(in srgb, var(--c, #3794ff) 55%, transparent);
        border-radius: 3px; padding: 0 2px; cursor: pointer; transition: background 80ms;
      }
      .box.hot, .box:hover { background: color-mix(in srgb, var(--c, #3794ff) 45%, transparent); color: var(--vscode-editor-foreground, #ffffff); outline: 1px solid var(--c, #3794ff); }
      .box:focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); }
      .chip {
        display: inline-flex; align-items: center; gap: 4px; padding: 0 6px; border-radius: 9px; white-space: nowrap;
        font-family: var(--vscode-font-family, system-ui, sans-serif); font-size: 11px;
      }
      .generated { background: var(--vscode-badge-background, #616161); color: var(--vscode-badge-foreground, #f8f8f8); }
      .missing { border: 1px dashed var(--vscode-errorForeground, #f85149); color: var(--vscode-errorForeground, #f85149); }
      .inline-image { max-width: 160px; max-height: 120px; vertical-align: middle; border-radius: 3px; border: 1px solid var(--vscode-panel-border, #2b2b2b); }
    `,
  ];
}

/** The nearest ancestor that scrolls, across shadow roots; null: the viewport. */
function scrollParent(el: Element): Element | null {
  for (let n: Node | null = el.parentNode ?? (el.getRootNode() as ShadowRoot).host ?? null; n; ) {
    if (n instanceof Element) {
      const o = getComputedStyle(n).overflowY;
      if (o === 'auto' || o === 'scroll') return n;
    }
    n = n instanceof ShadowRoot ? n.host : n.parentNode;
  }
  return null;
}

customElements.define('grpo-chain', GrpoChain);
