/**
 * <grpo-image-panel>: the prompt image with every box drawn over it. The SVG overlay covers the
 * <img> exactly and its viewBox is the image's own pixel grid, so a box at (x1,y1,x2,y2) in image
 * pixels lands on those pixels at any zoom or panel width without any arithmetic of ours.
 */
import { LitElement, css, html, nothing, svg } from 'lit';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { BoxFrameSetting, DrawBox, FrameInfo, ImageView } from '../../src/protocol/viewer';
import { emit, sameBox, type BoxRef } from './events';
import { LABEL_FONT_PX, placeLabels } from './label-layout';
import { base, codiconLink, colourClass, icon, num } from './theme';

export interface CompletionBoxes {
  index: number;
  position: number;
  boxes: DrawBox[];
}

const ZOOMS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4];
const FRAMES: { value: BoxFrameSetting; label: string }[] = [
  { value: 'auto', label: 'auto' },
  { value: 'abs', label: 'abs — original image pixels' },
  { value: 'resized', label: 'resized — Qwen2.5-VL input pixels' },
  { value: 'rel1000', label: 'rel1000 — relative 0–1000' },
  { value: 'rel1', label: 'rel1 — relative 0–1' },
];

export class GrpoImagePanel extends LitElement {
  static override properties = {
    groupKey: { attribute: false },
    image: { attribute: false },
    gold: { attribute: false },
    completions: { attribute: false },
    frame: { attribute: false },
    frameSetting: { attribute: false },
    hover: { attribute: false },
    zoom: { state: true },
    shownWidth: { state: true },
    natural: { state: true },
    failed: { state: true },
    hiddenSet: { state: true },
  };

  declare groupKey: string;
  declare image: ImageView | null;
  declare gold: DrawBox[];
  declare completions: CompletionBoxes[];
  declare frame: FrameInfo | null;
  declare frameSetting: BoxFrameSetting;
  declare hover: BoxRef | null;
  declare zoom: number | 'fit';
  declare shownWidth: number;
  declare natural: [number, number] | null;
  declare failed: boolean;
  /** Completions (by index) whose boxes are switched off; -1 is the gold set. */
  declare hiddenSet: ReadonlySet<number>;
  private observed: Element | null = null;
  private readonly resize = new ResizeObserver((entries) => {
    const w = entries[0]?.contentRect.width ?? 0;
    if (w > 0 && w !== this.shownWidth) this.shownWidth = w;
  });

  constructor() {
    super();
    this.groupKey = '';
    this.image = null;
    this.gold = [];
    this.completions = [];
    this.frame = null;
    this.frameSetting = 'auto';
    this.hover = null;
    this.zoom = 'fit';
    this.shownWidth = 0;
    this.natural = null;
    this.failed = false;
    this.hiddenSet = new Set();
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('groupKey')) this.hiddenSet = new Set();
    if (changed.has('image')) {
      const old = changed.get('image') as ImageView | null | undefined;
      if (old?.src !== this.image?.src) {
        this.failed = false;
        this.natural = null;
      }
    }
  }

  protected override updated(): void {
    const img = this.renderRoot.querySelector('img.picture');
    if (img !== this.observed) {
      this.resize.disconnect();
      if (img) this.resize.observe(img);
      this.observed = img;
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    this.observed = null;
  }

  private size(): [number, number] | null {
    const i = this.image;
    if (i?.width && i.height) return [i.width, i.height];
    return this.natural;
  }

  private toggle(index: number) {
    const next = new Set(this.hiddenSet);
    if (next.has(index)) next.delete(index);
    else next.add(index);
    this.hiddenSet = next;
  }

  private stepZoom(dir: 1 | -1) {
    const size = this.size();
    const current = this.zoom === 'fit' ? (size ? this.shownWidth / size[0] : 1) : this.zoom;
    const next = dir > 0 ? ZOOMS.find((z) => z > current + 1e-6) : [...ZOOMS].reverse().find((z) => z < current - 1e-6);
    this.zoom = next ?? this.zoom;
  }

  override render() {
    return html`${codiconLink()}${this.renderTools()}<div class="stage">${this.renderStage()}</div>`;
  }

  private renderTools() {
    const f = this.frame;
    return html`<div class="tools">
      <div class="legend">
        ${this.gold.length > 0 ? this.renderToggle(-1, 'gold', 'gold') : nothing}
        ${this.completions.map((c) => this.renderToggle(c.index, `#${c.index}`, colourClass(c.position)))}
      </div>
      <div class="frame">
        ${f?.ambiguous
          ? html`<span class="ambiguous" data-testid="frame-ambiguous" title="More than one coordinate frame fits these boxes. Detected ${f.detected}; drawn as ${f.used}.">${icon('warning')} frame ambiguous</span>`
          : nothing}
        <label class="muted" for="frame">Box frame</label>
        <vscode-single-select id="frame" data-testid="frame-select" .value=${this.frameSetting}
          title=${f ? `Drawn as ${f.used}${f.resized ? ` (model input ${f.resized[0]}×${f.resized[1]})` : ''}; detected ${f.detected}` : nothing}
          @change=${(e: Event) => emit(this, 'set-frame', { frame: (e.currentTarget as HTMLSelectElement).value as BoxFrameSetting })}>
          ${FRAMES.map((o) => html`<vscode-option value=${o.value} ?selected=${o.value === this.frameSetting}>${o.value === 'auto' && f ? `auto (${f.detected})` : o.label}</vscode-option>`)}
        </vscode-single-select>
      </div>
      <div class="zoom" role="group" aria-label="Zoom">
        <button class="icon-btn" title="Zoom out" aria-label="Zoom out" @click=${() => this.stepZoom(-1)}>${icon('zoom-out')}</button>
        <button class="icon-btn ${this.zoom === 'fit' ? 'on' : ''}" title="Fit to panel" aria-label="Fit to panel" @click=${() => (this.zoom = 'fit')}>${icon('screen-full')}</button>
        <button class="icon-btn" title="Zoom in" aria-label="Zoom in" @click=${() => this.stepZoom(1)}>${icon('zoom-in')}</button>
        <span class="muted pct">${this.zoom === 'fit' ? 'fit' : `${Math.round(this.zoom * 100)}%`}</span>
      </div>
    </div>`;
  }

  private renderToggle(index: number, label: string, cls: string) {
    const on = !this.hiddenSet.has(index);
    return html`<button class="swatch-btn ${cls} ${on ? 'on' : ''}" data-testid="toggle-completion" data-completion=${index < 0 ? 'gold' : index}
      aria-pressed=${on ? 'true' : 'false'} title="${on ? 'Hide' : 'Show'} boxes of ${label}" @click=${() => this.toggle(index)}>
      <span class="swatch ${index < 0 ? 'dashed' : ''}"></span>${label}</button>`;
  }

  private renderStage() {
    const img = this.image;
    if (!img) return html`<div class="placeholder muted" data-testid="no-image">${icon('file-media')} This prompt has no image.</div>`;
    if (!img.src || this.failed) {
      return html`<div class="placeholder missing" data-testid="image-missing">
        <div class="head">${icon('warning')} Image not found: <span class="mono">${img.path}</span></div>
        ${img.tried.length > 0
          ? html`<div class="muted">Looked in:</div><ul>${img.tried.map((p) => html`<li class="mono">${p}</li>`)}</ul>`
          : nothing}
      </div>`;
    }
    const size = this.size();
    const width = size && this.zoom !== 'fit' ? `width:${size[0] * this.zoom}px` : '';
    return html`<div class="canvas ${this.zoom === 'fit' ? 'fit' : ''}">
      <img class="picture" data-testid="image" src=${img.src} alt=${img.path} .style=${width}
        @load=${(e: Event) => this.onLoad(e)} @error=${() => (this.failed = true)}>
      ${size ? this.renderOverlay(size) : nothing}
    </div>`;
  }

  private onLoad(e: Event) {
    const el = e.currentTarget as HTMLImageElement;
    if (!this.image?.width || !this.image.height) this.natural = [el.naturalWidth, el.naturalHeight];
  }

  private renderOverlay([w, h]: [number, number]) {
    // One screen pixel in image pixels: keeps labels and markers a constant size on screen.
    const u = this.shownWidth > 0 ? w / this.shownWidth : 1;
    const preds: Drawn[] = this.completions
      .filter((c) => !this.hiddenSet.has(c.index))
      .flatMap((c) => c.boxes.map((b) => ({ b, completion: c.index, cls: colourClass(c.position) })))
      .sort((p, q) => area(q.b) - area(p.b)); // small boxes on top, so each stays reachable
    const drawn: Drawn[] = [...(this.hiddenSet.has(-1) ? [] : this.gold.map((b) => ({ b, completion: null, cls: 'gold' }))), ...preds];
    // The pointed-at box's label is placed first (its natural spot) and drawn last (on top).
    const order = [...drawn].sort((p, q) => Number(this.isHot(q)) - Number(this.isHot(p)));
    const spots = placeLabels(order.map((d) => ({ text: shortLabel(d), x: Math.min(d.b.box[0], d.b.box[2]), top: Math.min(d.b.box[1], d.b.box[3]), bottom: Math.max(d.b.box[1], d.b.box[3]) })), u, h);
    const fontSize = LABEL_FONT_PX * u;
    return html`<svg class="overlay" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" data-testid="overlay"
      @mouseleave=${() => emit(this, 'box-hover', null)}>
      ${drawn.map((d) => this.renderBox(d, u))}
      ${order.map((d, i) => svg`<text class="label ${this.classesOf(d)}" x=${spots[i]?.x ?? 0} y=${spots[i]?.y ?? 0} font-size=${fontSize} stroke-width=${3 * u}>${shortLabel(d)}</text>`).reverse()}
    </svg>`;
  }

  private isHot(d: Drawn): boolean {
    return sameBox(this.hover, { completion: d.completion, id: d.b.id });
  }

  private classesOf(d: Drawn): string {
    const hot = this.isHot(d);
    return `${d.cls} ${hot ? 'hot' : ''} ${this.hover !== null && !hot ? 'dim' : ''} ${d.b.outside ? 'outside' : ''}`;
  }

  private renderBox(d: Drawn, u: number) {
    const { b, completion } = d;
    const ref: BoxRef = { completion, id: b.id };
    const [x1, y1, x2, y2] = b.box;
    const kind = completion === null ? 'gold-box' : 'pred-box';
    const shape = b.point
      ? svg`<circle class="shape" cx=${x1} cy=${y1} r=${5 * u} data-testid=${kind} data-completion=${completion ?? nothing}
          data-box-id=${b.id} data-point="true" data-x1=${x1} data-y1=${y1} data-x2=${x2} data-y2=${y2}></circle>`
      : svg`<rect class="shape" x=${Math.min(x1, x2)} y=${Math.min(y1, y2)} width=${Math.abs(x2 - x1)} height=${Math.abs(y2 - y1)}
          data-testid=${kind} data-completion=${completion ?? nothing} data-box-id=${b.id}
          data-x1=${x1} data-y1=${y1} data-x2=${x2} data-y2=${y2}></rect>`;
    return svg`<g class="box ${this.classesOf(d)}"
        @mouseenter=${() => emit(this, 'box-hover', ref)} @mouseleave=${() => emit(this, 'box-hover', null)}>
      ${shape}<title>${labelOf(d)}${b.outside ? ' (outside the image)' : ''}</title></g>`;
  }

  static override styles = [
    base,
    css`
      :host { display: block; }
      .tools { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; margin-bottom: 6px; }
      .legend { display: flex; gap: 4px; flex-wrap: wrap; }
      .swatch-btn {
        display: inline-flex; align-items: center; gap: 5px; padding: 1px 8px; font: inherit; font-size: 12px; cursor: pointer;
        border-radius: 10px; border: 1px solid var(--vscode-checkbox-border, #3c3c3c); background: transparent;
        color: var(--vscode-descriptionForeground, #9d9d9d);
      }
      .swatch-btn.on { color: var(--vscode-foreground, #cccccc); background: var(--vscode-toolbar-hoverBackground, rgba(90, 93, 94, 0.31)); }
      .swatch { width: 10px; height: 10px; border-radius: 2px; border: 2px solid var(--c); }
      .swatch-btn.on .swatch { background: color-mix(in srgb, var(--c) 45%, transparent); }
      .swatch.dashed { border-style: dashed; }
      .gold { --c: var(--vscode-charts-green, #89d185); }
      .frame { display: flex; align-items: center; gap: 6px; }
      .frame vscode-single-select { width: 240px; }
      .ambiguous { color: var(--vscode-editorWarning-foreground, #cca700); }
      .zoom { display: flex; align-items: center; gap: 2px; margin-left: auto; }
      .icon-btn {
        background: none; border: none; color: inherit; cursor: pointer; padding: 3px; border-radius: 4px; display: inline-flex;
      }
      .icon-btn:hover, .icon-btn.on { background: var(--vscode-toolbar-hoverBackground, rgba(90, 93, 94, 0.31)); }
      .pct { font-size: 11px; min-width: 30px; text-align: right; }
      .stage { overflow: auto; max-height: 75vh; border-radius: 4px; background: var(--vscode-editorWidget-background, #202020); }
      .canvas { position: relative; display: inline-block; vertical-align: top; line-height: 0; }
      .picture { display: block; }
      .canvas.fit .picture { max-width: 100%; max-height: 42vh; }
      .overlay { position: absolute; left: 0; top: 0; width: 100%; height: 100%; overflow: visible; }
      .shape { fill: var(--c); fill-opacity: 0.05; stroke: var(--c); stroke-width: 2px; vector-effect: non-scaling-stroke; cursor: pointer; }
      .gold .shape { stroke-dasharray: 6 4; fill-opacity: 0; }
      .box.outside .shape { stroke-dasharray: 2 3; }
      .box.hot .shape { stroke-width: 3px; fill-opacity: 0.2; }
      .box.dim, .label.dim { opacity: 0.2; }
      .label {
        fill: var(--c); paint-order: stroke; stroke: var(--vscode-editor-background, #1f1f1f); stroke-linejoin: round;
        font-family: var(--vscode-font-family, system-ui, sans-serif); font-weight: 600; pointer-events: none;
      }
      .placeholder { padding: 24px; display: flex; flex-direction: column; gap: 6px; line-height: 1.5; }
      .missing .head { color: var(--vscode-errorForeground, #f85149); }
      .missing ul { margin: 0; padding-left: 18px; }
    `,
  ];
}

interface Drawn {
  b: DrawBox;
  /** Completion index; null for gold. */
  completion: number | null;
  cls: string;
}

const labelOf = ({ b, completion }: Drawn): string =>
  completion === null ? `gold ${b.label ?? ''}`.trim() : `#${completion} ${b.label ?? ''}${b.iou !== null ? ` IoU ${num(b.iou)}` : ''}`.trim();

/** On the image a label stays short; the box's tooltip has it whole. */
const shortLabel = (d: Drawn): string => {
  const l = labelOf(d);
  return l.length > 48 ? `${l.slice(0, 47)}…` : l;
};

const area = (b: DrawBox) => Math.abs((b.box[2] - b.box[0]) * (b.box[3] - b.box[1]));

customElements.define('grpo-image-panel', GrpoImagePanel);
