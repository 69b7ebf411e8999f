/**
 * <grpo-toolbar>: the filter field, flag toggles, counts, and the banner of lines that could not
 * be read. Typing is debounced so the host filters once per pause, not once per key.
 */
import { LitElement, css, html, nothing } from 'lit';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { BadLine } from '../../src/core/schema/record';
import { GROUP_FLAGS, type GroupFlag, type RowFilter } from '../../src/protocol/viewer';
import { emit } from './events';
import { base, codiconLink, FLAG_LABELS, icon } from './theme';

const FILTER_DELAY_MS = 250;
const BAD_LINES_SHOWN = 200;

export class GrpoToolbar extends LitElement {
  static override properties = {
    filter: { attribute: false },
    shownGroups: { attribute: false },
    totalGroups: { attribute: false },
    totalCompletions: { attribute: false },
    badLines: { attribute: false },
    defaultFile: { attribute: false },
    badLinesOpen: { state: true },
  };

  declare filter: RowFilter;
  declare shownGroups: number;
  declare totalGroups: number;
  declare totalCompletions: number;
  declare badLines: BadLine[];
  declare defaultFile: string;
  declare badLinesOpen: boolean;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.filter = { text: '', flags: [] };
    this.shownGroups = 0;
    this.totalGroups = 0;
    this.totalCompletions = 0;
    this.badLines = [];
    this.defaultFile = '';
    this.badLinesOpen = true;
  }

  focusFilter(): void {
    const field = this.renderRoot.querySelector<HTMLElement>('vscode-textfield');
    field?.focus();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.timer);
  }

  private onInput(e: Event) {
    const text = (e.currentTarget as HTMLInputElement).value;
    this.filter = { ...this.filter, text };
    clearTimeout(this.timer);
    this.timer = setTimeout(() => emit(this, 'filter-change', this.filter), FILTER_DELAY_MS);
  }

  private toggle(flag: GroupFlag) {
    clearTimeout(this.timer);
    const flags = this.filter.flags.includes(flag) ? this.filter.flags.filter((f) => f !== flag) : [...this.filter.flags, flag];
    this.filter = { ...this.filter, flags: GROUP_FLAGS.filter((f) => flags.includes(f)) };
    emit(this, 'filter-change', this.filter);
  }

  override render() {
    const filtered = this.shownGroups !== this.totalGroups;
    return html`${codiconLink()}
      <div class="bar">
        <vscode-textfield
          class="filter"
          data-testid="filter"
          placeholder="Filter groups (prompt, key, step)"
          label="Filter groups"
          .value=${this.filter.text}
          @input=${this.onInput}
        ><span slot="content-before" class="codicon codicon-filter lead"></span></vscode-textfield>
        <div class="flags" role="group" aria-label="Show only groups flagged">
          ${GROUP_FLAGS.map((f) => {
            const on = this.filter.flags.includes(f);
            return html`<button class="flag ${on ? 'on' : ''}" data-testid="flag-${f}" aria-pressed=${on ? 'true' : 'false'}
              title="Show only: ${FLAG_LABELS[f].label}" @click=${() => this.toggle(f)}>${icon(FLAG_LABELS[f].icon)}<span>${FLAG_LABELS[f].label}</span></button>`;
          })}
        </div>
        <div class="counts" data-testid="counts">
          ${filtered ? html`<b>${this.shownGroups.toLocaleString()}</b> of ` : nothing}<b>${this.totalGroups.toLocaleString()}</b> groups ·
          <b>${this.totalCompletions.toLocaleString()}</b> completions
        </div>
      </div>
      ${this.badLines.length > 0 ? this.renderBadLines() : nothing}`;
  }

  private renderBadLines() {
    const n = this.badLines.length;
    const shown = this.badLinesOpen ? this.badLines.slice(0, BAD_LINES_SHOWN) : [];
    return html`<div class="bad-lines" data-testid="bad-lines" role="status">
      <button class="toggle" aria-expanded=${this.badLinesOpen ? 'true' : 'false'} @click=${() => (this.badLinesOpen = !this.badLinesOpen)}>
        ${icon(this.badLinesOpen ? 'chevron-down' : 'chevron-right')}${icon('warning')}
        <span>${n.toLocaleString()} ${n === 1 ? 'line' : 'lines'} could not be read and ${n === 1 ? 'was' : 'were'} skipped</span>
      </button>
      ${this.badLinesOpen
        ? html`<ul>
            ${shown.map((b) => {
              const file = b.file ?? this.defaultFile;
              return html`<li><button class="link mono" data-testid="bad-line" title="Open ${file} at line ${b.line}"
                @click=${() => emit(this, 'reveal-line', { file, line: b.line })}>${file}:${b.line}</button> — <span>${b.error}</span></li>`;
            })}
            ${n > shown.length ? html`<li class="muted">… and ${(n - shown.length).toLocaleString()} more</li>` : nothing}
          </ul>`
        : nothing}
    </div>`;
  }

  static override styles = [
    base,
    css`
      :host { display: block; border-bottom: 1px solid var(--vscode-panel-border, #2b2b2b); }
      .bar { display: flex; align-items: center; gap: 10px; padding: 6px 10px; flex-wrap: wrap; }
      .filter { flex: 1 1 260px; max-width: 420px; }
      .lead { padding-left: 4px; opacity: 0.8; }
      .flags { display: flex; gap: 4px; flex-wrap: wrap; }
      .flag {
        display: inline-flex; align-items: center; gap: 4px; cursor: pointer; font: inherit;
        padding: 2px 8px; border-radius: 11px; border: 1px solid var(--vscode-checkbox-border, #3c3c3c);
        background: transparent; color: var(--vscode-foreground, #cccccc);
      }
      .flag:hover { background: var(--vscode-toolbar-hoverBackground, rgba(90, 93, 94, 0.31)); }
      .flag.on {
        background: var(--vscode-inputOption-activeBackground, rgba(36, 137, 219, 0.51));
        border-color: var(--vscode-inputOption-activeBorder, #2488db);
        color: var(--vscode-inputOption-activeForeground, #ffffff);
      }
      .counts { margin-left: auto; color: var(--vscode-descriptionForeground, #9d9d9d); white-space: nowrap; }
      .counts b { color: var(--vscode-foreground, #cccccc); font-weight: 600; }
      .bad-lines {
        margin: 0 10px 6px; padding: 4px 8px; border-radius: 2px;
        background: var(--vscode-inputValidation-warningBackground, #352a05);
        border: 1px solid var(--vscode-inputValidation-warningBorder, #b89500);
      }
      .bad-lines .toggle { display: flex; align-items: center; gap: 4px; background: none; border: none; color: inherit; font: inherit; cursor: pointer; padding: 0; }
      .bad-lines ul { margin: 4px 0 2px; padding-left: 22px; max-height: 140px; overflow: auto; }
      .bad-lines li { margin: 2px 0; }
    `,
  ];
}

customElements.define('grpo-toolbar', GrpoToolbar);
