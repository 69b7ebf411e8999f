/**
 * <grpo-viewer>: the root. The only component that talks to the host: it says `ready`, waits for
 * `init`, keeps the ViewerState (saved with setState on every change so a hidden or reloaded
 * panel comes back where it was), and hands rows, group details and histograms down to its children.
 */
import { LitElement, css, html, nothing } from 'lit';
import {
  EMPTY_STATE, isHostMessage, type BadLine, type FilterReading, type GroupDetail, type HostMessage, type LiveStatus, type RowFilter, type SourceInfo, type SourceNote,
  type HistogramSet, type ViewerState, type WebviewMessage,
} from '../../src/protocol/viewer';
import type { ViewerEvents } from './events';
import type { GrpoGroupList } from './group-list';
import type { GrpoGroupView } from './group-view';
import { HostChannel } from '../shared/host-channel';
import { asViewerState } from './saved-state';
import { RowWindow } from './row-window';
import type { GrpoToolbar } from './toolbar';
import { base } from './theme';
import './toolbar';
import './group-list';
import './group-view';
import './histograms';

const SCROLL_SAVE_MS = 150;

export class GrpoViewer extends LitElement {
  static override properties = {
    ready: { state: true },
    detail: { state: true },
    loading: { state: true },
    error: { state: true },
    histograms: { state: true },
  };

  declare ready: boolean;
  declare detail: GroupDetail | null;
  declare loading: boolean;
  declare error: string | null;
  /** The last histograms the host sent (null until the first, while the strip is open). */
  declare histograms: HistogramSet | null;
  private channel: HostChannel<HostMessage, WebviewMessage> | null = null;
  private stopListening: (() => void) | null = null;
  private state: ViewerState = EMPTY_STATE;
  private sourceTitle = '';
  private source: SourceInfo | null = null;
  private files: string[] = [];
  private totalGroups = 0;
  private totalCompletions = 0;
  private badLines: BadLine[] = [];
  private badLineCount = 0;
  private notes: SourceNote[] = [];
  private noteCount = 0;
  private live: LiveStatus | null = null;
  private reading: FilterReading = { kind: 'none', message: null, column: null };
  /** Filter texts sent and not yet answered, to tell the host's echoes from a filter it set itself. */
  private sentTexts: string[] = [];
  private scrollTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly rows = new RowWindow((requestId, start, count) => this.channel?.post({ type: 'requestRows', requestId, start, count }));

  constructor() {
    super();
    this.ready = false;
    this.detail = null;
    this.loading = false;
    this.error = null;
    this.histograms = null;
    this.listen('toggle-histograms', (d) => this.showHistograms(d.open));
    this.listen('histogram-bar', (d) => {
      this.child<GrpoToolbar>('grpo-toolbar')?.cancelPendingFilter();
      this.setFilter({ ...this.state.filter, text: d.apply });
      this.requestUpdate();
    });
    this.listen('select-group', (d) => this.select(d.key));
    this.listen('open-group', (d) => {
      if (d.key !== this.state.selectedKey) this.select(d.key);
      this.child<GrpoGroupView>('grpo-group-view')?.focus();
    });
    this.listen('filter-change', (f) => this.setFilter(f));
    this.listen('go-to-step', (d) => this.channel?.post({ type: 'goToStep', step: d.step }));
    this.listen('group-action', (d) => this.channel?.post({ type: 'groupAction', action: d.action, key: d.key }));
    this.listen('reveal-line', (d) => this.channel?.post({ type: 'revealLine', file: d.file, line: d.line }));
    this.listen('set-frame', (d) => {
      this.changeState({ frame: d.frame });
      this.loading = this.state.selectedKey !== null;
      this.channel?.post({ type: 'setFrame', frame: d.frame });
    });
    this.listen('list-scroll', (d) => {
      this.state = { ...this.state, scrollTop: d.scrollTop };
      clearTimeout(this.scrollTimer);
      this.scrollTimer = setTimeout(() => this.channel?.saveState(this.state), SCROLL_SAVE_MS);
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.channel) return;
    this.channel = new HostChannel<HostMessage, WebviewMessage>(isHostMessage);
    this.stopListening = this.channel.listen((m) => this.onHost(m));
    // Handshake: say ready with what we restored, then wait for init before anything else.
    this.channel.post({ type: 'ready', state: asViewerState(this.channel.savedState()) });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.scrollTimer);
    this.stopListening?.();
  }

  private listen<K extends keyof ViewerEvents>(name: K, handler: (detail: ViewerEvents[K]) => void): void {
    this.addEventListener(name, (e) => handler((e as CustomEvent<ViewerEvents[K]>).detail));
  }

  private child<T extends Element>(selector: string): T | null {
    return this.renderRoot.querySelector(selector) as T | null;
  }

  /** Changes the saved state and saves it at once. */
  private changeState(change: Partial<ViewerState>): void {
    this.state = { ...this.state, ...change };
    this.channel?.saveState(this.state);
  }

  private select(key: string): void {
    if (key === this.state.selectedKey && this.detail?.key === key) return;
    this.changeState({ selectedKey: key });
    this.loading = true;
    this.channel?.post({ type: 'selectGroup', key });
    this.requestUpdate();
  }

  private setFilter(filter: RowFilter): void {
    this.sentTexts.push(filter.text);
    this.changeState({ filter, scrollTop: 0 });
    this.child<GrpoGroupList>('grpo-group-list')?.listReplaced(true);
    this.channel?.post({ type: 'setFilter', filter });
  }

  /** Opens or closes the histograms strip (kept in the saved state); the host sends them while it is open. */
  private showHistograms(open: boolean): void {
    this.changeState({ histograms: open });
    if (!open) this.histograms = null;
    this.channel?.post({ type: 'requestHistograms', open });
    this.requestUpdate();
  }

  private onHost(m: HostMessage): void {
    if (!this.ready && m.type !== 'init') return;
    switch (m.type) {
      case 'init':
        this.ready = true;
        this.state = m.state;
        this.sourceTitle = m.source.title;
        this.source = m.source;
        this.files = m.source.files;
        this.totalGroups = m.totalGroups;
        this.totalCompletions = m.totalCompletions;
        this.badLines = m.badLines;
        this.badLineCount = m.badLineCount;
        this.notes = m.notes;
        this.noteCount = m.noteCount;
        this.live = m.live;
        this.reading = m.filterReading;
        this.sentTexts = [];
        // The host applied the echoed filter; the first rows reply tells the filtered length.
        this.rows.reset(m.totalGroups);
        this.channel?.saveState(this.state);
        if (m.state.selectedKey !== null) {
          this.loading = true;
          this.channel?.post({ type: 'selectGroup', key: m.state.selectedKey });
        }
        void this.updateComplete.then(() => this.child<GrpoGroupList>('grpo-group-list')?.restoreScroll(m.state.scrollTop));
        this.histograms = null;
        if (m.state.histograms) this.channel?.post({ type: 'requestHistograms', open: true });
        break;
      case 'histograms':
        if (this.state.histograms) this.histograms = m.set;
        break;
      case 'rows':
        if (this.rows.accept(m.requestId, m.start, m.total, m.rows)) this.refreshList();
        break;
      case 'listChanged':
        if (m.grown) this.rows.refresh(m.total);
        else {
          this.rows.reset(m.total);
          this.child<GrpoGroupList>('grpo-group-list')?.listReplaced(false);
        }
        this.refreshList();
        break;
      case 'status':
        this.source = m.source;
        this.totalGroups = m.totalGroups;
        this.totalCompletions = m.totalCompletions;
        this.badLines = m.badLines;
        this.badLineCount = m.badLineCount;
        this.notes = m.notes;
        this.noteCount = m.noteCount;
        this.live = m.live;
        this.requestUpdate();
        break;
      case 'filterApplied':
        this.reading = m.reading;
        // Our own filter echoed back changes nothing (answers come in order); a filter the host
        // set itself (a command) is shown in the field.
        const echo = this.sentTexts.indexOf(m.filter.text);
        if (echo >= 0) this.sentTexts.splice(0, echo + 1);
        else {
          this.changeState({ filter: m.filter, scrollTop: 0 });
          this.child<GrpoGroupList>('grpo-group-list')?.listReplaced(true);
        }
        this.requestUpdate();
        break;
      case 'reveal':
        this.changeState({ selectedKey: m.key });
        if (this.detail?.key !== m.key) this.loading = true;
        this.child<GrpoGroupList>('grpo-group-list')?.reveal(m.ordinal);
        this.requestUpdate();
        break;
      case 'groupDetail':
        // A reply for a group that is no longer selected is stale.
        if (m.detail.key !== this.state.selectedKey) return;
        this.detail = m.detail;
        this.loading = false;
        break;
      case 'command':
        if (m.command === 'focusFilter') this.child<GrpoToolbar>('grpo-toolbar')?.focusFilter();
        else this.child<GrpoGroupList>('grpo-group-list')?.move(m.command === 'nextGroup' ? 1 : -1);
        break;
      case 'error':
        this.error = m.message;
        this.loading = false;
        break;
    }
  }

  private refreshList(): void {
    this.child<GrpoGroupList>('grpo-group-list')?.requestUpdate();
    this.requestUpdate();
  }

  override render() {
    if (!this.ready) return html`<div class="waiting">Loading rollouts…</div>`;
    return html`
      <grpo-toolbar .filter=${this.state.filter} .shownGroups=${this.rows.total} .totalGroups=${this.totalGroups}
        .totalCompletions=${this.totalCompletions} .badLines=${this.badLines} .badLineCount=${this.badLineCount}
        .notes=${this.notes} .noteCount=${this.noteCount}
        .defaultFile=${this.files[0] ?? ''} .live=${this.live} .source=${this.source} .reading=${this.reading}
        .histogramsOpen=${this.state.histograms === true} title=${this.sourceTitle}></grpo-toolbar>
      ${this.state.histograms ? html`<grpo-histograms .set=${this.histograms}></grpo-histograms>` : nothing}
      ${this.error
        ? html`<div class="error" role="alert"><span>${this.error}</span><button aria-label="Dismiss" @click=${() => (this.error = null)}>×</button></div>`
        : nothing}
      <div class="main">
        <grpo-group-list .rows=${this.rows} .selectedKey=${this.state.selectedKey}></grpo-group-list>
        <grpo-group-view .detail=${this.detail} .frameSetting=${this.state.frame ?? 'auto'} .loading=${this.loading}></grpo-group-view>
      </div>`;
  }

  static override styles = [
    base,
    css`
      :host {
        display: flex; flex-direction: column; height: 100vh; overflow: hidden;
        background: var(--vscode-editor-background, #1f1f1f);
      }
      .waiting { padding: 20px; color: var(--vscode-descriptionForeground, #9d9d9d); }
      .main { flex: 1; min-height: 0; display: grid; grid-template-columns: minmax(240px, 28%) 1fr; }
      grpo-group-list { border-right: 1px solid var(--vscode-panel-border, #2b2b2b); background: var(--vscode-sideBar-background, #181818); }
      grpo-group-view { min-height: 0; }
      .error {
        display: flex; justify-content: space-between; align-items: center; padding: 4px 10px;
        background: var(--vscode-inputValidation-errorBackground, #5a1d1d); border-bottom: 1px solid var(--vscode-inputValidation-errorBorder, #be1100);
      }
      .error button { background: none; border: none; color: inherit; cursor: pointer; font-size: 16px; }
    `,
  ];
}

customElements.define('grpo-viewer', GrpoViewer);
