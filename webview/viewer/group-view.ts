/**
 * <grpo-group-view>: one GRPO group: its prompt, the image with every completion's boxes, then
 * the completions side by side. It owns the "which box is pointed at" state so a box hovered in
 * a chain lights up on the image and the other way round.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { BoxFrameSetting, GroupDetail } from '../../src/protocol/viewer';
import type { BoxRef } from './events';
import type { CompletionBoxes } from './image-panel';
import { base, codiconLink, FLAG_LABELS, icon } from './theme';
import './image-panel';
import './completion-card';

export class GrpoGroupView extends LitElement {
  static override properties = {
    detail: { attribute: false },
    frameSetting: { attribute: false },
    loading: { attribute: false },
    hover: { state: true },
  };

  declare detail: GroupDetail | null;
  declare frameSetting: BoxFrameSetting;
  declare loading: boolean;
  declare hover: BoxRef | null;

  constructor() {
    super();
    this.detail = null;
    this.frameSetting = 'auto';
    this.loading = false;
    this.hover = null;
    this.addEventListener('box-hover', (e) => {
      this.hover = (e as CustomEvent<BoxRef | null>).detail;
    });
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('detail') && (changed.get('detail') as GroupDetail | null | undefined)?.key !== this.detail?.key) this.hover = null;
  }

  private action(action: 'timeline' | 'compare', key: string): void {
    this.dispatchEvent(new CustomEvent('group-action', { detail: { action, key }, bubbles: true, composed: true }));
  }

  override focus(): void {
    this.renderRoot.querySelector<HTMLElement>('.view')?.focus();
  }

  override render() {
    const d = this.detail;
    if (!d) {
      return html`${codiconLink()}<div class="empty muted">${this.loading ? 'Loading…' : 'Select a group on the left to read its completions.'}</div>`;
    }
    const boxes: CompletionBoxes[] = d.completions.map((c, position) => ({ index: c.index, position, boxes: c.boxes }));
    return html`${codiconLink()}<div class="view ${this.loading ? 'loading' : ''}" data-testid="group-view" tabindex="-1" aria-busy=${this.loading ? 'true' : 'false'}>
      <header>
        <h2>${d.step === null ? 'Group' : `Step ${d.step}`} <span class="muted key mono">${d.key}</span></h2>
        <span class="muted">${d.completions.length} completions · ${d.variant}</span>
        <span class="flags">${d.flags.map((f) => html`<span class="flag">${icon(FLAG_LABELS[f].icon)}${FLAG_LABELS[f].label}</span>`)}</span>
        <span class="actions">
          <button data-testid="group-timeline" title="This prompt's groups across steps" @click=${() => this.action('timeline', d.key)}>${icon('graph-line')}Timeline</button>
          <button data-testid="group-compare" title="Compare this group's completions with another step or run" @click=${() => this.action('compare', d.key)}>${icon('diff')}Compare…</button>
        </span>
      </header>
      <section class="prompt">
        <h3>Prompt</h3>
        <div class="text" data-testid="prompt">${d.promptText}</div>
        ${d.solution !== null
          ? html`<details><summary class="muted">Solution</summary><div class="text mono" data-testid="solution">${d.solution}</div></details>`
          : nothing}
      </section>
      <section class="image">
        <grpo-image-panel .groupKey=${d.key} .image=${d.image} .gold=${d.gold} .completions=${boxes} .frame=${d.frame}
          .frameSetting=${this.frameSetting} .hover=${this.hover}></grpo-image-panel>
      </section>
      <section class="completions" data-testid="completions" aria-label="Completions">
        ${d.completions.map((c, position) => html`<grpo-completion data-testid="completion" data-index=${c.index} .view=${c} .position=${position} .hover=${this.hover}></grpo-completion>`)}
      </section>
    </div>`;
  }

  static override styles = [
    base,
    css`
      :host { display: block; overflow: auto; min-width: 0; }
      .empty { display: flex; align-items: center; justify-content: center; height: 100%; padding: 24px; }
      .view { padding: 10px 14px 24px; display: flex; flex-direction: column; gap: 14px; outline: none; transition: opacity 120ms; }
      .view.loading { opacity: 0.6; }
      header { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
      h2 { margin: 0; font-size: 16px; font-weight: 600; }
      h2 .key { font-size: 12px; font-weight: normal; margin-left: 6px; }
      h3 { margin: 0 0 4px; font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; color: var(--vscode-descriptionForeground, #9d9d9d); }
      .flags { display: flex; gap: 6px; }
      .actions { margin-left: auto; display: flex; gap: 6px; }
      .actions button {
        display: inline-flex; align-items: center; gap: 4px; font: inherit; font-size: 12px; padding: 2px 8px; cursor: pointer; border-radius: 2px;
        border: 1px solid var(--vscode-button-border, transparent);
        background: var(--vscode-button-secondaryBackground, #3a3d41); color: var(--vscode-button-secondaryForeground, #fff);
      }
      .actions button:hover { background: var(--vscode-button-secondaryHoverBackground, #45494e); }
      .flag {
        display: inline-flex; align-items: center; gap: 4px; padding: 0 8px; border-radius: 10px; font-size: 11px;
        background: var(--vscode-inputValidation-warningBackground, #352a05); color: var(--vscode-editorWarning-foreground, #cca700);
      }
      .prompt .text { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.5; max-height: 9em; overflow-y: auto; }
      details { margin-top: 6px; }
      details .text { font-size: 12px; margin-top: 4px; }
      .completions {
        display: grid; grid-auto-flow: column; grid-auto-columns: minmax(300px, 1fr); gap: 10px;
        overflow-x: auto; align-items: start; padding-bottom: 6px;
      }
    `,
  ];
}

customElements.define('grpo-group-view', GrpoGroupView);
