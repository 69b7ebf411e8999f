/**
 * Per-GPU sparklines (utilisation and memory, last samples) drawn on small canvases, or one calm
 * line when nvidia-smi is not there.
 */
import type { GpuSampleView } from '../../src/protocol/runs';
import { chartColours } from './theme';

const W = 140;
const H = 28;

export class GpuPanel {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly history: GpuSampleView[] = [];

  constructor() {
    this.root = document.createElement('section');
    this.root.className = 'gpus';
    const title = document.createElement('h2');
    title.textContent = 'GPUs';
    this.body = document.createElement('div');
    this.root.append(title, this.body);
    this.note('Reading GPUs\u2026');
  }

  private note(text: string, testid?: string): void {
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = text;
    if (testid) p.dataset.testid = testid;
    this.body.replaceChildren(p);
  }

  off(message: string): void {
    this.history.length = 0;
    this.note(/^nvidia-smi not found/.test(message) ? 'nvidia-smi not found \u2014 GPU monitoring is off' : `GPU monitoring is off: ${message}`, 'gpu-off');
  }

  reset(history: GpuSampleView[]): void {
    this.history.splice(0, this.history.length, ...history.slice(-60));
    if (this.history.length) this.draw();
  }

  add(sample: GpuSampleView): void {
    this.history.push(sample);
    if (this.history.length > 60) this.history.shift();
    this.draw();
  }

  private draw(): void {
    const latest = this.history.at(-1);
    if (!latest) return;
    if (latest.gpus.length === 0) {
      this.note('nvidia-smi reports no GPUs.');
      return;
    }
    const c = chartColours();
    const rows = latest.gpus.map((g) => {
      const row = document.createElement('div');
      row.className = 'gpu';
      row.dataset.testid = 'gpu-row';
      const label = document.createElement('span');
      label.className = 'gpu-name';
      label.textContent = `GPU ${g.index} \u00b7 ${g.name}`;
      const series = (pick: (s: GpuSampleView) => number | undefined) => this.history.map(pick);
      const util = series((s) => s.gpus.find((x) => x.index === g.index)?.utilization);
      const mem = series((s) => {
        const x = s.gpus.find((y) => y.index === g.index);
        return x?.memoryUsed !== undefined && x.memoryTotal ? (100 * x.memoryUsed) / x.memoryTotal : undefined;
      });
      const text = document.createElement('span');
      text.className = 'gpu-text';
      const gib = (mib: number) => (mib / 1024).toFixed(1);
      const memText = g.memoryUsed !== undefined && g.memoryTotal !== undefined ? `${gib(g.memoryUsed)}/${gib(g.memoryTotal)} GiB` : 'memory n/a';
      text.textContent = [`${g.utilization ?? '–'}% util`, memText, g.runs.length ? `run ${g.runs.join(', ')}` : ''].filter(Boolean).join(' \u00b7 ');
      row.append(label, sparkline(util, c.line, 'utilisation %'), sparkline(mem, c.memory, 'memory %'), text);
      return row;
    });
    this.body.replaceChildren(...rows);
  }
}

/** A 0–100 series as a polyline; gaps where a value is missing. */
function sparkline(values: (number | undefined)[], colour: string, label: string): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  const ratio = window.devicePixelRatio || 1;
  canvas.width = W * ratio;
  canvas.height = H * ratio;
  canvas.style.width = `${W}px`;
  canvas.style.height = `${H}px`;
  canvas.setAttribute('aria-label', label);
  canvas.dataset.testid = 'gpu-sparkline';
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  ctx.scale(ratio, ratio);
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  let pen = false;
  values.forEach((v, i) => {
    if (v === undefined) {
      pen = false;
      return;
    }
    const x = values.length > 1 ? (i / (values.length - 1)) * (W - 2) + 1 : W / 2;
    const y = H - 1 - (Math.min(100, Math.max(0, v)) / 100) * (H - 2);
    if (pen) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    pen = true;
  });
  ctx.stroke();
  return canvas;
}
