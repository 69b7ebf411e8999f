/**
 * <grpo-toolbar>: the filter field (plain words, or a query in the language of docs/query.md,
 * whose errors show inline with their column), flag toggles, list order, jump to step, counts,
 * the follower's state (reading progress, then "following"), the banner of lines that could
 * not be read, and the adapters' notes about the input (information, not errors), and the
 * toggle of the reward histograms strip. Typing is debounced so the host filters once per pause, not once per key.
 */
import { LitElement, css, html, nothing } from 'lit';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import {
  GROUP_FLAGS, type BadLine, type FilterReading, type GroupFlag, type LiveStatus, type RowFilter, type SourceInfo, type SourceNote,
} from '../../src/protocol/viewer';
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
    badLineCount: { attribute: false },
    live: { attribute: false },
    source: { attribute: false },
    reading: { attribute: false },
    notes: { attribute: false },
    noteCount: { attribute: false },
    badLinesOpen: { state: true },
    notesOpen: { state: true },
    histogramsOpen: { attribute: false },
  };

  declare filter: RowFilter;
  declare shownGroups: number;
  declare totalGroups: number;
  declare totalCompletions: number;
  declare badLines: BadLine[];
  declare defaultFile: string;
  declare badLinesOpen: boolean;
  declare badLineCount: number;
  declare notes: SourceNote[];
  declare noteCount: number;
  declare notesOpen: boolean;
  declare live: LiveStatus | null;
  declare source: SourceInfo | null;
  declare reading: FilterReading;
  declare histogramsOpen: boolean;
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
    this.badLineCount = 0;
    this.notes = [];
    this.noteCount = 0;
    this.notesOpen = true;
    this.live = null;
    this.source = null;
    this.reading = { kind: 'none', message: null, column: null };
    this.histogramsOpen = false;
  }

  /** The filter text is about to be set from elsewhere (a histogram bar): a typed change not sent yet is dropped. */
  cancelPendingFilter(): void {
    clearTimeout(this.timer);
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

  private toggleOrder() {
    clearTimeout(this.timer);
    this.filter = { ...this.filter, order: this.filter.order === 'newest' ? 'file' : 'newest' };
    emit(this, 'filter-change', this.filter);
  }

  private onStepKey(e: KeyboardEvent) {
    if (e.key !== 'Enter') return;
    const value = (e.currentTarget as HTMLInputElement).value.trim();
    if (/^\d+$/.test(value)) emit(this, 'go-to-step', { step: Number(value) });
  }

  private renderLive() {
    const live = this.live;
    if (!live) return nothing;
    const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
    let text: string;
    if (live.mode === 'stopped') text = `not following: ${live.problem ?? 'stopped'}`;
    else if (live.unscored) {
      const done = Math.max(0, this.totalCompletions - live.unscored);
      text = `scoring ${Math.floor((100 * done) / Math.max(1, this.totalCompletions))}% · ${this.totalCompletions.toLocaleString()} completions listed; recomputed flags fill in`;
    } else if (live.loading) {
      text = live.bytesTotal
        ? `reading ${Math.floor((100 * live.bytesRead) / live.bytesTotal)}% (${mb(live.bytesRead)} of ${mb(live.bytesTotal)})`
        : 'reading…';
    } else text = `following${live.mode === 'poll' ? ' (polling)' : ''} · ${this.totalCompletions.toLocaleString()} completions`;
    const format = this.source?.format;
    return html`<span class="live ${live.loading ? 'loading' : ''}" data-testid="live-status" data-loading=${live.loading ? 'true' : 'false'}
        title=${live.problem ?? (live.mode === 'poll' ? 'No file events here: looking for new records every 250 ms' : 'New records appear as the trainer writes them')}>
        ${icon(live.loading ? 'sync' : live.mode === 'stopped' ? 'debug-disconnect' : 'pulse')}
        <span>${text}</span></span>
      ${format ? html`<span class="chip" data-testid="source-format" title="Trainer format">${format}</span>` : nothing}
      ${this.source?.stepsInferred
        ? html`<span class="chip warn" data-testid="steps-inferred"
            title="This log records no step numbers: steps were inferred from timestamps and order">${icon('info')} steps inferred</span>`
        : nothing}`;
  }

  private renderReading() {
    const r = this.reading;
    if (r.kind === 'error') {
      return html`<div class="filter-error" role="alert" data-testid="filter-error" data-column=${r.column ?? ''}>
        ${icon('error')}<span>${r.message}</span><span class="muted"> — the list still shows the last filter that worked</span></div>`;
    }
    return nothing;
  }

  override render() {
    const filtered = this.shownGroups !== this.totalGroups;
    const kind = this.reading.kind === 'query' ? 'query' : this.reading.kind === 'words' ? 'text' : null;
    return html`${codiconLink()}
      <div class="bar">
        <vscode-textfield
          class="filter"
          data-testid="filter"
          placeholder="Search text, or a query: reward.bbox < 0.3 and step > 100"
          label="Filter groups"
          .value=${this.filter.text}
          @input=${this.onInput}
        ><span slot="content-before" class="codicon codicon-filter lead"></span>${kind
          ? html`<span slot="content-after" class="kind" data-testid="filter-kind">${kind}</span>`
          : nothing}</vscode-textfield>
        <div class="flags" role="group" aria-label="Show only groups flagged">
          ${GROUP_FLAGS.map((f) => {
            const on = this.filter.flags.includes(f);
            return html`<button class="flag ${on ? 'on' : ''}" data-testid="flag-${f}" aria-pressed=${on ? 'true' : 'false'}
              title="Show only: ${FLAG_LABELS[f].label}" @click=${() => this.toggle(f)}>${icon(FLAG_LABELS[f].icon)}<span>${FLAG_LABELS[f].label}</span></button>`;
          })}
        </div>
        <button class="flag ${this.filter.order === 'newest' ? 'on' : ''}" data-testid="order-newest"
          aria-pressed=${this.filter.order === 'newest' ? 'true' : 'false'} title="Newest groups first"
          @click=${() => this.toggleOrder()}>${icon('arrow-up')}<span>Newest first</span></button>
        <button class="flag ${this.histogramsOpen ? 'on' : ''}" data-testid="toggle-histograms"
          aria-pressed=${this.histogramsOpen ? 'true' : 'false'} title="Reward histograms: click a bar to filter the list to it"
          @click=${() => emit(this, 'toggle-histograms', { open: !this.histogramsOpen })}>${icon('graph')}<span>Histograms</span></button>
        <label class="step">Step <input type="text" inputmode="numeric" size="6" data-testid="go-to-step" aria-label="Go to step"
          title="Enter: select the first group of this step" @keydown=${this.onStepKey}></label>
        ${this.renderLive()}
        <div class="counts" data-testid="counts">
          ${filtered ? html`<b>${this.shownGroups.toLocaleString()}</b> of ` : nothing}<b>${this.totalGroups.toLocaleString()}</b> groups ·
          <b>${this.totalCompletions.toLocaleString()}</b> completions
        </div>
      </div>
      ${this.renderReading()}
      ${this.badLines.length > 0 ? this.renderBadLines() : nothing}
      ${this.notes.length > 0 ? this.renderNotes() : nothing}`;
  }

  /** Notes name file:line (a button that opens it) or only the file when about no one line. */
  private renderNotes() {
    const n = Math.max(this.noteCount, this.notes.length);
    const shown = this.notesOpen ? this.notes.slice(0, BAD_LINES_SHOWN) : [];
    return html`<div class="notes" data-testid="source-notes" role="status">
      <button class="toggle" aria-expanded=${this.notesOpen ? 'true' : 'false'} @click=${() => (this.notesOpen = !this.notesOpen)}>
        ${icon(this.notesOpen ? 'chevron-down' : 'chevron-right')}${icon('info')}
        <span>${n.toLocaleString()} ${n === 1 ? 'note' : 'notes'} about the input</span>
      </button>
      ${this.notesOpen
        ? html`<ul>
            ${shown.map((note) => {
              const where = note.line === undefined
                ? html`<span class="mono" data-testid="source-note-file">${note.file}</span>`
                : html`<button class="link mono" data-testid="source-note-line" title="Open ${note.file} at line ${note.line}"
                    @click=${() => emit(this, 'reveal-line', { file: note.file, line: note.line! })}>${note.file}:${note.line}</button>`;
              return html`<li data-testid="source-note">${where} — <span>${note.message}</span></li>`;
            })}
            ${n > shown.length ? html`<li class="muted">… and ${(n - shown.length).toLocaleString()} more</li>` : nothing}
          </ul>`
        : nothing}
    </div>`;
  }

  private renderBadLines() {
    const n = Math.max(this.badLineCount, this.badLines.length);
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
      .filter { flex: 1 1 300px; max-width: 560px; }
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
      .live { display: inline-flex; align-items: center; gap: 4px; color: var(--vscode-descriptionForeground, #9d9d9d); white-space: nowrap; }
      .chip {
        display: inline-flex; align-items: center; gap: 3px; padding: 0 6px; border-radius: 9px; font-size: 11px;
        background: var(--vscode-badge-background, #616161); color: var(--vscode-badge-foreground, #f8f8f8);
      }
      .chip.warn { background: var(--vscode-inputValidation-warningBackground, #352a05); color: var(--vscode-foreground, #cccccc); }
      .kind { padding: 0 6px; font-size: 11px; color: var(--vscode-descriptionForeground, #9d9d9d); }
      .step { display: inline-flex; align-items: center; gap: 4px; color: var(--vscode-descriptionForeground, #9d9d9d); }
      .step input {
        width: 5em; font: inherit; padding: 2px 4px; border-radius: 2px;
        background: var(--vscode-input-background, #313131); color: var(--vscode-input-foreground, #cccccc);
        border: 1px solid var(--vscode-input-border, #3c3c3c);
      }
      .step input:focus { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: -1px; }
      .filter-error {
        display: flex; align-items: center; gap: 6px; margin: 0 10px 6px; padding: 3px 8px; border-radius: 2px;
        color: var(--vscode-errorForeground, #f85149);
        background: var(--vscode-inputValidation-errorBackground, #5a1d1d); border: 1px solid var(--vscode-inputValidation-errorBorder, #be1100);
      }
      .counts { margin-left: auto; color: var(--vscode-descriptionForeground, #9d9d9d); white-space: nowrap; }
      .counts b { color: var(--vscode-foreground, #cccccc); font-weight: 600; }
      .bad-lines {
        margin: 0 10px 6px; padding: 4px 8px; border-radius: 2px;
        background: var(--vscode-inputValidation-warningBackground, #352a05);
        border: 1px solid var(--vscode-inputValidation-warningBorder, #b89500);
      }
      .notes {
        margin: 0 10px 6px; padding: 4px 8px; border-radius: 2px;
        background: var(--vscode-inputValidation-infoBackground, #063b49);
        border: 1px solid var(--vscode-inputValidation-infoBorder, #007acc);
      }
      :is(.bad-lines, .notes) .toggle { display: flex; align-items: center; gap: 4px; background: none; border: none; color: inherit; font: inherit; cursor: pointer; padding: 0; }
      :is(.bad-lines, .notes) ul { margin: 4px 0 2px; padding-left: 22px; max-height: 140px; overflow: auto; }
      :is(.bad-lines, .notes) li { margin: 2px 0; }
    `,
  ];
}

customElements.define('grpo-toolbar', GrpoToolbar);
