/**
 * <grpo-histograms>: the strip of reward histograms under the toolbar (docs/query.md,
 * "Histograms"), one small chart per column the filter can name (`reward`, `reward.<name>`,
 * `advantage`). Each bar is a button: a faint bar for the whole list, a solid one for the filtered
 * list, its range and counts in the tooltip and aria-label; a click (or Enter) sets the filter
 * text to the bar's `apply` text (its clause, AND-ed with the filter in force), through the
 * viewer's ordinary filter path. Drawn with Lit templates (escaped text, SVG attributes set as
 * numbers made here), never from markup strings: reward names are file content.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { Histogram, HistogramBar, HistogramSet } from '../../src/protocol/viewer';
import { emit } from './events';
import { base, num } from './theme';

/** Chart height in SVG units (viewBox), the bar heights' scale. */
const H = 100;
/** A bar with any completion is at least this tall, so one completion in a thousand still shows. */
const MIN_H = 3;

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString()} ${n === 1 ? one : many}`;

export class GrpoHistograms extends LitElement {
  static override properties = {
    set: { attribute: false },
  };

  declare set: HistogramSet | null;

  constructor() {
    super();
    this.set = null;
  }

  private barText(h: Histogram, b: HistogramBar, filtered: boolean): string {
    const where = h.kind === 'values' ? `${h.column} = ${b.label}` : `${h.column} in ${b.label}`;
    const counts = filtered
      ? `${b.filtered.toLocaleString()} of ${plural(b.count, 'completion')} in the filtered list (${plural(b.filteredGroups, 'group')})`
      : `${plural(b.count, 'completion')} (${plural(b.filteredGroups, 'group')})`;
    return `${where}: ${counts}. Click to filter: ${b.apply}`;
  }

  private renderChart(h: Histogram, filtered: boolean) {
    const top = Math.max(1, ...h.bars.map((b) => b.count));
    const height = (n: number): number => (n === 0 ? 0 : Math.max(MIN_H, (H * n) / top));
    const inFilter = h.bars.reduce((a, b) => a + b.filtered, 0);
    const all = h.bars.reduce((a, b) => a + b.count, 0);
    const first = h.bars[0];
    const last = h.bars.at(-1);
    return html`<section class="chart" data-testid="histogram" data-column=${h.column} aria-label="${h.column} histogram">
      <header>
        <span class="name mono" title=${h.column}>${h.column}</span>
        <span class="muted" data-testid="histogram-total">${filtered ? `${inFilter.toLocaleString()} of ` : ''}${all.toLocaleString()}</span>
      </header>
      <div class="bars" role="group" aria-label="${h.column}: bars filter the list">
        ${h.bars.map((b) => {
          const text = this.barText(h, b, filtered);
          const a = height(b.count);
          const f = height(b.filtered);
          return html`<button class="bar" data-testid="histogram-bar" data-column=${h.column} data-label=${b.label}
            data-clause=${b.clause} data-apply=${b.apply} data-count=${b.count} data-filtered=${b.filtered} data-groups=${b.filteredGroups}
            ?disabled=${b.filtered === 0} title=${text} aria-label=${text}
            @click=${() => emit(this, 'histogram-bar', { apply: b.apply })}>
            <svg viewBox="0 0 10 ${H}" preserveAspectRatio="none" aria-hidden="true">
              <rect class="all" x="0" y=${H - a} width="10" height=${a}></rect>
              <rect class="sel" x="0" y=${H - f} width="10" height=${f}></rect>
            </svg>
          </button>`;
        })}
      </div>
      <div class="axis muted">
        ${h.kind === 'values'
          ? h.bars.map((b) => html`<span class="tick">${b.label}</span>`)
          : html`<span>${num(first?.lo)}</span><span>${num(last?.hi)}</span>`}
      </div>
      ${h.missing > 0 ? html`<div class="missing muted" title="Completions that did not log ${h.column}">${plural(h.missing, 'completion')} without</div>` : nothing}
    </section>`;
  }

  override render() {
    const set = this.set;
    if (!set) return html`<div class="strip" data-testid="histograms" aria-busy="true"><span class="muted">Counting…</span></div>`;
    const filtered = set.filtered !== set.total;
    return html`<div class="strip" data-testid="histograms" role="region" aria-label="Reward histograms">
      ${set.histograms.length === 0 ? html`<span class="muted">No rewards or advantages logged yet.</span>` : nothing}
      ${set.histograms.map((h) => this.renderChart(h, filtered))}
      ${set.unfilterable.length
        ? html`<span class="muted note" title="reward.<name> takes letters, digits, _, - and . only">Not filterable by name: ${set.unfilterable.join(', ')}</span>`
        : nothing}
    </div>`;
  }

  static override styles = [
    base,
    css`
      :host { display: block; border-bottom: 1px solid var(--vscode-panel-border, #2b2b2b); }
      .strip { display: flex; gap: 14px; padding: 6px 10px 4px; overflow-x: auto; align-items: flex-start; }
      .chart { flex: 0 0 auto; width: 190px; display: flex; flex-direction: column; gap: 2px; }
      header { display: flex; justify-content: space-between; gap: 6px; font-size: 11px; }
      .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 600; }
      .bars { display: flex; align-items: stretch; gap: 2px; height: 52px; border-bottom: 1px solid var(--vscode-panel-border, #2b2b2b); }
      .bar {
        flex: 1 1 0; min-width: 6px; padding: 0; margin: 0; border: none; background: transparent; cursor: pointer;
        display: block; border-radius: 1px;
      }
      .bar:hover { background: var(--vscode-toolbar-hoverBackground, rgba(90, 93, 94, 0.31)); }
      .bar:disabled { cursor: default; }
      .bar:focus-visible { outline: 1px solid var(--vscode-focusBorder, #0078d4); outline-offset: 1px; }
      svg { display: block; width: 100%; height: 100%; }
      rect.all { fill: var(--vscode-charts-blue, #3794ff); opacity: 0.28; }
      rect.sel { fill: var(--vscode-charts-blue, #3794ff); }
      .bar:hover rect.sel { fill: var(--vscode-charts-orange, #d18616); }
      .axis { display: flex; justify-content: space-between; font-size: 10px; gap: 2px; }
      .tick { flex: 1 1 0; text-align: center; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .missing { font-size: 10px; }
      .note { align-self: center; font-size: 11px; }
    `,
  ];
}

customElements.define('grpo-histograms', GrpoHistograms);
