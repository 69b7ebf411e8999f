/**
 * <grpo-completion>: one completion of a group as a column: its rewards (logged next to
 * recomputed, mismatches marked), its facts (the record's `meta`, as the host rendered them to
 * text), length, format verdict, and the reasoning chain.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { CompletionView, FactView, ValuePair, VerdictView } from '../../src/protocol/viewer';
import { emit, type BoxRef } from './events';
import { base, codiconLink, colourClass, icon, num } from './theme';
import './chain-view';

export class GrpoCompletion extends LitElement {
  static override properties = {
    view: { attribute: false },
    position: { attribute: false },
    hover: { attribute: false },
  };

  declare view: CompletionView | null;
  declare position: number;
  declare hover: BoxRef | null;

  constructor() {
    super();
    this.view = null;
    this.position = 0;
    this.hover = null;
  }

  override render() {
    const v = this.view;
    if (!v) return nothing;
    const fileName = v.file.split(/[\\/]/).pop() ?? v.file;
    return html`${codiconLink()}
      <header>
        <span class="swatch ${colourClass(this.position)}"></span>
        <span class="title">#${v.index}</span>
        <span class="big" title="Total reward">${num(v.reward.logged ?? v.reward.recomputed)}</span>
        <span class="adv muted" title="Advantage">adv ${num(v.advantage.logged ?? v.advantage.recomputed)}</span>
        <button class="link source mono" title="Open ${v.file} at line ${v.line}" @click=${() => emit(this, 'reveal-line', { file: v.file, line: v.line })}>${fileName}:${v.line}</button>
      </header>
      <table class="rewards">
        <thead><tr><th>reward</th><th>logged</th><th>recomputed</th></tr></thead>
        <tbody>
          ${v.rewards.map((r) => this.renderPair(r))}
          ${this.renderPair(v.reward, 'total')}
          ${this.renderPair(v.advantage, 'advantage')}
        </tbody>
      </table>
      ${v.facts.length ? this.renderFacts(v.facts, v.moreFacts) : nothing}
      <div class="facts">
        <span title="Length">${icon('symbol-ruler')} ${v.chars.toLocaleString()} chars · ${v.words.toLocaleString()} words</span>
        ${v.formatOk
          ? html`<span class="ok" data-testid="format-ok">${icon('pass-filled')} format ok</span>`
          : html`<span class="bad" data-testid="format-bad">${icon('error')} format: ${v.violations.length} ${v.violations.length === 1 ? 'violation' : 'violations'}</span>`}
      </div>
      ${v.formatOk || v.violations.length === 0 ? nothing : html`<ul class="violations">${v.violations.map((m) => html`<li>${m}</li>`)}</ul>`}
      ${v.verdict ? this.renderVerdict(v.verdict) : nothing}
      <grpo-chain class=${colourClass(this.position)} .tokens=${v.tokens} .images=${v.images} .completion=${v.index} .hover=${this.hover}></grpo-chain>`;
  }

  /** The judge's verdict: a badge, then its reason (judge output: text bindings only). */
  private renderVerdict(j: VerdictView) {
    const [cls, glyph, word] = j.failed !== undefined ? ['failed', 'error', 'not judged']
      : j.aligns === true ? ['aligned', 'pass', 'aligned']
      : j.aligns === false ? ['misaligned', 'debug-disconnect', `misaligned${j.type ? ` · ${j.type.replace(/_/g, ' ')}` : ''}`]
      : ['uncertain', 'question', 'uncertain'];
    return html`<div class="verdict ${cls}" data-testid="verdict" data-verdict=${cls}>
      <span class="badge" data-testid="verdict-badge" title=${j.tier ? `Judged by the ${j.tier} tier` : 'Judge'}>${icon(glyph)} ${word}${j.tier ? html` <span class="tier">${j.tier}</span>` : nothing}</span>
      <span class="why" data-testid="verdict-why">${j.failed ?? j.why}</span>
    </div>`;
  }

  /** Facts are file content: text bindings only; a cut value shows whole in its tooltip. */
  private renderFacts(facts: FactView[], more: number) {
    return html`<table class="meta" data-testid="facts">
      <thead><tr><th>fact</th><th>value</th></tr></thead>
      <tbody>
        ${facts.map((f) => html`<tr data-testid="fact" data-key=${f.key} data-kind=${f.kind} title=${f.full ?? nothing}>
          <td class="name mono">${f.key}</td>
          <td class="v ${f.kind}">${f.text}</td>
        </tr>`)}
        ${more > 0 ? html`<tr class="more"><td colspan="2" class="muted">… and ${more.toLocaleString()} more</td></tr>` : nothing}
      </tbody>
    </table>`;
  }

  private renderPair(p: ValuePair, kind?: 'total' | 'advantage') {
    const tip = p.mismatch ? `Logged ${num(p.logged)} but recomputed ${num(p.recomputed)}` : nothing;
    return html`<tr class="${p.mismatch ? 'mismatch' : ''} ${kind ?? ''}" data-testid=${p.mismatch ? 'reward-mismatch' : 'reward-row'}
        data-name=${p.name} title=${tip}>
      <td class="name">${p.mismatch ? icon('warning') : nothing}${kind === 'total' ? 'total' : kind === 'advantage' ? 'advantage' : p.name}</td>
      <td class="n">${num(p.logged)}</td>
      <td class="n">${num(p.recomputed)}</td>
    </tr>`;
  }

  static override styles = [
    base,
    css`
      :host {
        display: flex; flex-direction: column; gap: 8px; padding: 10px 12px; min-width: 0;
        background: var(--vscode-editorWidget-background, #202020);
        border: 1px solid var(--vscode-widget-border, #313131); border-radius: 4px;
      }
      header { display: flex; align-items: baseline; gap: 8px; }
      .swatch { width: 10px; height: 10px; border-radius: 2px; background: var(--c); align-self: center; flex: none; }
      .title { font-weight: 600; }
      .big { font-size: 15px; font-weight: 600; font-variant-numeric: tabular-nums; }
      .adv { font-variant-numeric: tabular-nums; }
      .source { margin-left: auto; font-size: 11px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
      table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
      th { text-align: left; font-weight: normal; font-size: 11px; color: var(--vscode-descriptionForeground, #9d9d9d); padding: 0 6px 2px 0; }
      th:not(:first-child), td.n { text-align: right; }
      td { padding: 1px 6px 1px 0; border-top: 1px solid var(--vscode-widget-border, rgba(128, 128, 128, 0.18)); }
      tr.total td { font-weight: 600; }
      tr.mismatch td { background: var(--vscode-inputValidation-errorBackground, rgba(90, 29, 29, 0.6)); color: var(--vscode-errorForeground, #f85149); }
      tr.mismatch .codicon { margin-right: 3px; }
      table.meta td.name { width: 1%; max-width: 14em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 12px; color: var(--vscode-descriptionForeground, #9d9d9d); }
      table.meta th { text-align: left; }
      table.meta td.v { overflow-wrap: anywhere; }
      table.meta td.v.number, table.meta td.v.bool, table.meta td.v.null { font-variant-numeric: tabular-nums; }
      table.meta td.v.list, table.meta td.v.dict { font-family: var(--vscode-editor-font-family, monospace); font-size: 12px; }
      table.meta td.v.null { color: var(--vscode-descriptionForeground, #9d9d9d); }
      .facts { display: flex; gap: 12px; flex-wrap: wrap; font-size: 12px; color: var(--vscode-descriptionForeground, #9d9d9d); }
      .ok { color: var(--vscode-testing-iconPassed, #73c991); }
      .bad { color: var(--vscode-errorForeground, #f85149); }
      .violations { margin: -4px 0 0; padding-left: 18px; font-size: 12px; color: var(--vscode-errorForeground, #f85149); }
      .verdict { display: flex; flex-wrap: wrap; gap: 2px 8px; align-items: baseline; font-size: 12px; }
      .verdict .badge { flex: none; padding: 0 6px; border-radius: 8px; border: 1px solid currentColor; white-space: nowrap; }
      .verdict .tier { opacity: 0.75; font-size: 11px; }
      .verdict .why { flex: 1 1 12em; min-width: 12em; overflow-wrap: anywhere; color: var(--vscode-foreground, #ccc); }
      .verdict.aligned .badge { color: var(--vscode-testing-iconPassed, #73c991); }
      .verdict.misaligned .badge { color: var(--vscode-errorForeground, #f85149); }
      .verdict.failed .badge, .verdict.uncertain .badge { color: var(--vscode-descriptionForeground, #9d9d9d); }
      grpo-chain { border-top: 1px solid var(--vscode-widget-border, rgba(128, 128, 128, 0.18)); padding-top: 8px; }
    `,
  ];
}

customElements.define('grpo-completion', GrpoCompletion);
