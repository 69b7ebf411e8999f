/**
 * <grpo-group-list>: the virtual list of groups. Only the rows in view (plus overscan) exist in
 * the DOM, and only their pages are asked of the host, so a million groups scroll like ten.
 * Rows sit in a sticky, viewport-sized layer and are placed by arithmetic, which keeps the list
 * exact past the browser's element-height cap.
 */
import { LitElement, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { GroupRow } from '../../src/protocol/viewer';
import { emit } from './events';
import { ROW_HEIGHT, RowWindow, scrollTopForVirtual, scrollWindow } from './row-window';
import { base, codiconLink, FLAG_LABELS, icon, num } from './theme';

const OVERSCAN = 8;

export class GrpoGroupList extends LitElement {
  static override properties = {
    rows: { attribute: false },
    selectedKey: { attribute: false },
    scrollTop: { state: true },
    viewport: { state: true },
  };

  declare rows: RowWindow | null;
  declare selectedKey: string | null;
  declare scrollTop: number;
  declare viewport: number;
  /** Keyboard position; follows the selection when the selected row is known. */
  private cursor = -1;
  /** A row the keyboard moved to before its page arrived: select it on arrival. */
  private pendingSelect = -1;
  private restoreTop: number | null = null;
  private readonly resize = new ResizeObserver((entries) => {
    const h = entries[0]?.contentRect.height ?? 0;
    if (h !== this.viewport) this.viewport = h;
  });

  constructor() {
    super();
    this.rows = null;
    this.selectedKey = null;
    this.scrollTop = 0;
    this.viewport = 0;
  }

  /** Scroll position to apply once the list has rows (state restored after reload). */
  restoreScroll(top: number): void {
    this.restoreTop = top;
    this.requestUpdate();
  }

  /** The list was replaced (filter, reload): forget the keyboard position. */
  listReplaced(resetScroll: boolean): void {
    this.cursor = -1;
    this.pendingSelect = -1;
    if (resetScroll) this.restoreScroll(0);
    this.requestUpdate();
  }

  focusList(): void {
    this.scroller()?.focus();
  }

  /** Moves the selection by `delta` rows (keyboard and palette commands). */
  move(delta: number): void {
    const total = this.rows?.total ?? 0;
    if (total === 0) return;
    const from = this.currentOrdinal();
    const target = from < 0 ? (delta > 0 ? this.window().first : this.window().last) : from + delta;
    this.moveTo(Math.min(total - 1, Math.max(0, target)));
  }

  /** Scrolls row `ordinal` into view and puts the keyboard cursor on it (the host selected it). */
  reveal(ordinal: number): void {
    this.cursor = ordinal;
    this.pendingSelect = -1;
    this.revealRow(ordinal);
    this.rows?.ensure(ordinal, ordinal);
    this.requestUpdate();
  }

  moveTo(ordinal: number): void {
    this.cursor = ordinal;
    this.revealRow(ordinal);
    const row = this.rows?.get(ordinal);
    if (row) {
      this.pendingSelect = -1;
      emit(this, 'select-group', { key: row.key, ordinal });
    } else {
      this.pendingSelect = ordinal;
      this.rows?.ensure(ordinal, ordinal);
    }
    this.requestUpdate();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
  }

  private scroller(): HTMLElement | null {
    return this.renderRoot.querySelector<HTMLElement>('.scroller');
  }

  private window() {
    return scrollWindow(this.rows?.total ?? 0, this.scrollTop, this.viewport);
  }

  private currentOrdinal(): number {
    if (this.cursor >= 0 && this.rows?.get(this.cursor)?.key === this.selectedKey) return this.cursor;
    if (this.selectedKey !== null && this.rows) {
      const o = this.rows.ordinalOf(this.selectedKey);
      if (o >= 0) return o;
    }
    return this.cursor;
  }

  private revealRow(ordinal: number) {
    const el = this.scroller();
    if (!el || !this.rows) return;
    const w = this.window();
    const top = ordinal * ROW_HEIGHT;
    let virtualTop = w.offset;
    if (top < w.offset) virtualTop = top;
    else if (top + ROW_HEIGHT > w.offset + this.viewport) virtualTop = top + ROW_HEIGHT - this.viewport;
    else return;
    el.scrollTop = scrollTopForVirtual(this.rows.total, virtualTop, this.viewport);
    this.scrollTop = el.scrollTop;
  }

  private onScroll(e: Event) {
    this.scrollTop = (e.currentTarget as HTMLElement).scrollTop;
    emit(this, 'list-scroll', { scrollTop: this.scrollTop });
  }

  private onKey(e: KeyboardEvent) {
    const page = Math.max(1, Math.floor(this.viewport / ROW_HEIGHT) - 1);
    const total = this.rows?.total ?? 0;
    const moves: Record<string, () => void> = {
      ArrowDown: () => this.move(1),
      ArrowUp: () => this.move(-1),
      PageDown: () => this.move(page),
      PageUp: () => this.move(-page),
      Home: () => this.moveTo(0),
      End: () => this.moveTo(total - 1),
      Enter: () => {
        const o = this.currentOrdinal();
        const row = o >= 0 ? this.rows?.get(o) : undefined;
        if (row) emit(this, 'open-group', { key: row.key });
      },
    };
    const action = moves[e.key];
    if (!action || total === 0) return;
    e.preventDefault();
    action();
  }

  private onClick(row: GroupRow) {
    this.cursor = row.ordinal;
    emit(this, 'select-group', { key: row.key, ordinal: row.ordinal });
  }

  protected override updated(): void {
    const el = this.scroller();
    const total = this.rows?.total ?? 0;
    if (el && this.restoreTop !== null && total > 0 && this.viewport > 0) {
      el.scrollTop = this.restoreTop;
      this.restoreTop = null;
      if (el.scrollTop !== this.scrollTop) this.scrollTop = el.scrollTop;
    }
    const w = this.window();
    this.rows?.ensure(w.first - OVERSCAN, w.last + OVERSCAN);
    if (this.pendingSelect >= 0) {
      const row = this.rows?.get(this.pendingSelect);
      if (row) {
        this.pendingSelect = -1;
        emit(this, 'select-group', { key: row.key, ordinal: row.ordinal });
      }
    }
  }

  override render() {
    const rows = this.rows;
    const total = rows?.total ?? 0;
    const w = this.window();
    const from = Math.max(0, w.first - OVERSCAN);
    const to = Math.min(total - 1, w.last + OVERSCAN);
    const ordinals: number[] = [];
    for (let i = from; i <= to; i++) ordinals.push(i);
    const cursor = this.currentOrdinal();
    return html`${codiconLink()}
      <div class="scroller" data-testid="group-list" tabindex="0" role="listbox" aria-label="Groups"
        aria-activedescendant=${cursor >= 0 ? `row-${cursor}` : nothing}
        @scroll=${this.onScroll} @keydown=${this.onKey}>
        <div class="spacer" .style=${`height:${w.height}px`}>
          <div class="layer" .style=${`height:${this.viewport}px`}>
            ${repeat(ordinals, (i) => i, (i) => this.renderRow(i, rows?.get(i), w.offset, i === cursor))}
          </div>
        </div>
        ${total === 0 ? html`<div class="empty muted">No groups match.</div>` : nothing}
      </div>`;
  }

  private renderRow(i: number, row: GroupRow | undefined, offset: number, isCursor: boolean) {
    const place = `transform:translateY(${i * ROW_HEIGHT - offset}px)`;
    if (!row) return html`<div class="row loading" .style=${place}><span class="muted">…</span></div>`;
    const selected = row.key === this.selectedKey;
    return html`<div class="row ${selected ? 'selected' : ''} ${isCursor ? 'cursor' : ''}" id="row-${i}" role="option"
        aria-selected=${selected ? 'true' : 'false'} aria-posinset=${i + 1} aria-setsize=${this.rows?.total ?? 0}
        data-testid="group-row" data-key=${row.key} data-ordinal=${i} data-size=${row.size} data-flags=${row.flags.join(' ')} .style=${place} @click=${() => this.onClick(row)}>
        <div class="line1">
          <span class="step">${row.step === null ? '—' : `step ${row.step}`}</span>
          <span class="snippet" title=${row.promptSnippet}>${row.promptSnippet}</span>
          <span class="flags">${row.flags.map((f) => icon(FLAG_LABELS[f].icon, FLAG_LABELS[f].label))}</span>
        </div>
        <div class="line2">
          <span class="size" title="${row.size} completions">${icon('list-flat')} ${row.size}</span>
          ${this.renderSpread(row)}
          <span class="range mono">${num(row.rewardMin)} – ${num(row.rewardMax)}</span>
        </div>
      </div>`;
  }

  /** The group's reward range on the scale of every group seen in this list. */
  private renderSpread(row: GroupRow) {
    const rows = this.rows;
    if (!rows || row.rewardMin === null || row.rewardMax === null) return html`<span class="bar"></span>`;
    const span = rows.hi - rows.lo;
    const at = (x: number) => (span > 0 ? ((x - rows.lo) / span) * 100 : 50);
    const left = at(row.rewardMin);
    const width = Math.max(0, at(row.rewardMax) - left);
    const title = `reward min ${num(row.rewardMin)} · mean ${num(row.rewardMean)} · max ${num(row.rewardMax)}`;
    return html`<span class="bar" title=${title} data-testid="spread-bar">
      <span class="fill ${width === 0 ? 'zero' : ''}" .style=${`left:${left}%;width:${width}%`}></span>
      ${row.rewardMean !== null ? html`<span class="mean" .style=${`left:${at(row.rewardMean)}%`}></span>` : nothing}
    </span>`;
  }

  static override styles = [
    base,
    css`
      :host { display: block; position: relative; min-height: 0; }
      .scroller { position: absolute; inset: 0; overflow-y: auto; overflow-x: hidden; outline: none; }
      .scroller:focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: -1px; }
      .spacer { position: relative; }
      .layer { position: sticky; top: 0; overflow: hidden; contain: strict; }
      .row {
        position: absolute; left: 0; right: 0; top: 0; height: ${ROW_HEIGHT}px; padding: 5px 10px 4px 12px;
        cursor: pointer; display: flex; flex-direction: column; justify-content: space-between; contain: strict;
        border-bottom: 1px solid var(--vscode-tree-inactiveIndentGuidesStroke, rgba(88, 88, 88, 0.25));
      }
      .row:hover { background: var(--vscode-list-hoverBackground, #2a2d2e); }
      .row.selected { background: var(--vscode-list-inactiveSelectionBackground, #37373d); }
      .scroller:focus .row.selected {
        background: var(--vscode-list-activeSelectionBackground, #04395e);
        color: var(--vscode-list-activeSelectionForeground, #ffffff);
      }
      .scroller:focus .row.cursor { outline: 1px solid var(--vscode-list-focusOutline, #0078d4); outline-offset: -1px; }
      .line1, .line2 { display: flex; align-items: center; gap: 8px; min-width: 0; white-space: nowrap; }
      .step { font-variant-numeric: tabular-nums; color: var(--vscode-descriptionForeground, #9d9d9d); flex: none; font-size: 11px; }
      .snippet { overflow: hidden; text-overflow: ellipsis; flex: 1; }
      .flags { display: flex; gap: 3px; flex: none; color: var(--vscode-editorWarning-foreground, #cca700); }
      .size { flex: none; font-size: 11px; color: var(--vscode-descriptionForeground, #9d9d9d); min-width: 34px; }
      .range { flex: none; font-size: 11px; color: var(--vscode-descriptionForeground, #9d9d9d); }
      .bar { position: relative; flex: 1; height: 6px; border-radius: 3px; background: var(--vscode-editorWidget-border, rgba(128, 128, 128, 0.25)); }
      .fill { position: absolute; top: 0; bottom: 0; border-radius: 3px; background: var(--vscode-charts-blue, #3794ff); min-width: 2px; }
      .fill.zero { background: var(--vscode-editorWarning-foreground, #cca700); min-width: 6px; transform: translateX(-3px); }
      .mean { position: absolute; top: -2px; bottom: -2px; width: 2px; background: var(--vscode-foreground, #cccccc); transform: translateX(-1px); }
      .empty { padding: 16px; text-align: center; }
    `,
  ];
}

customElements.define('grpo-group-list', GrpoGroupList);
