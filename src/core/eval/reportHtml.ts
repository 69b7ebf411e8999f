/**
 * The report as one self-contained HTML file (docs/eval.md "Reports"): the same tables as the
 * Markdown, the scaling plot and the answer distributions drawn as inline SVG, one <style>
 * block; no script, no link, no image or font fetched from anywhere. Every string from a file or
 * the manifest passes through `esc`.
 */
import type { Matrix } from './matrix';
import { pct, reportTables, scalingSeries, type TCell } from './tables';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const num = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Per-benchmark accuracy over steps: lines with 95% interval bars, axes, a legend. */
export function scalingSvg(m: Matrix): string | null {
  const { steps, series } = scalingSeries(m);
  if (steps.length < 2 || !series.length) return null;
  const W = 720;
  const H = 360;
  const L = 56;
  const R = 170;
  const T = 20;
  const B = 44;
  const lo = Math.max(0, Math.floor(Math.min(...series.flatMap((s) => s.points.filter(Boolean).map((p) => p!.ci95[0]))) * 10) / 10);
  const hi = Math.min(1, Math.ceil(Math.max(...series.flatMap((s) => s.points.filter(Boolean).map((p) => p!.ci95[1]))) * 10) / 10);
  const top = hi > lo ? hi : lo + 0.1;
  const s0 = steps[0]!;
  const s1 = steps[steps.length - 1]! === s0 ? s0 + 1 : steps[steps.length - 1]!;
  const x = (s: number): number => L + ((s - s0) / (s1 - s0)) * (W - L - R);
  const y = (v: number): number => T + (1 - (v - lo) / (top - lo)) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Accuracy over training steps">`);
  parts.push(`<line x1="${L}" y1="${y(lo)}" x2="${W - R}" y2="${y(lo)}" stroke="#444"/><line x1="${L}" y1="${T}" x2="${L}" y2="${y(lo)}" stroke="#444"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = lo + ((top - lo) * i) / 5;
    parts.push(`<line x1="${L}" y1="${num(y(v))}" x2="${W - R}" y2="${num(y(v))}" stroke="#ddd"/><text x="${L - 6}" y="${num(y(v) + 4)}" text-anchor="end">${(100 * v).toFixed(0)}%</text>`);
  }
  for (const s of steps) parts.push(`<text x="${num(x(s))}" y="${H - B + 16}" text-anchor="middle">${s}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">step</text>`);
  series.forEach((se, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    const pts = se.points.map((p, i) => (p ? [x(steps[i]!), y(p.value), y(p.ci95[0]), y(p.ci95[1])] : null)).filter((p): p is number[] => !!p);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${num(p[0]!)},${num(p[1]!)}`).join(' ')}"/>`);
    for (const p of pts) {
      parts.push(`<line x1="${num(p[0]!)}" y1="${num(p[2]!)}" x2="${num(p[0]!)}" y2="${num(p[3]!)}" stroke="${color}" stroke-opacity="0.5"/><circle cx="${num(p[0]!)}" cy="${num(p[1]!)}" r="3.5" fill="${color}"/>`);
    }
    const ly = T + 10 + k * 20;
    parts.push(`<rect x="${W - R + 14}" y="${ly - 8}" width="12" height="12" fill="${color}"/><text x="${W - R + 32}" y="${ly + 2}">${esc(se.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A small horizontal bar chart of a benchmark's most common gold answers. */
function distributionSvg(answers: { shown: string; count: number }[], n: number): string {
  const shown = answers.slice(0, 6);
  const W = 260;
  const rowH = 16;
  const H = shown.length * rowH + 4;
  const bars = shown.map((a, i) => {
    const w = Math.max(1, ((W - 120) * a.count) / n);
    const label = a.shown.length > 14 ? `${a.shown.slice(0, 13)}…` : a.shown;
    return `<text x="0" y="${i * rowH + 12}">${esc(label)}</text><rect x="110" y="${i * rowH + 3}" width="${num(w)}" height="11" fill="#1f77b4"/><text x="${num(114 + w)}" y="${i * rowH + 12}">${((100 * a.count) / n).toFixed(1)}%</text>`;
  });
  return `<svg class="dist" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="answer distribution">${bars.join('')}</svg>`;
}

const cellHtml = (c: TCell): string => {
  const main = c.best ? `<strong>${esc(c.text)}</strong>` : esc(c.text);
  return `<td>${main}${c.sub ? `<div class="sub">${esc(c.sub)}</div>` : ''}</td>`;
};

const STYLE = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}
.sub{font-size:11px;color:#666}.note{color:#555}svg text{font:11px system-ui,sans-serif;fill:#333}
.problems li{font-family:ui-monospace,monospace;font-size:12px}`;

export function renderHtml(m: Matrix): string {
  const body: string[] = [`<h1>${esc(m.title)}</h1>`];
  for (const t of reportTables(m)) {
    body.push(`<section id="${esc(t.id)}"><h2>${esc(t.title)}</h2>`);
    if (t.note) body.push(`<p class="note">${esc(t.note)}</p>`);
    if (t.id === 'scaling') {
      const svg = scalingSvg(m);
      if (svg) body.push(svg);
    }
    const header = t.id === 'bias' ? [...t.header, 'Distribution'] : t.header;
    body.push(`<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>`);
    t.rows.forEach((r, i) => {
      let cells = r.map(cellHtml).join('');
      if (t.id === 'bias') {
        const b = m.benchmarks.filter((x) => m.bias[x.id])[i];
        const p = b ? m.bias[b.id] : null;
        if (p) cells += `<td>${distributionSvg(p.distribution, p.n)}</td>`;
      }
      body.push(`<tr>${cells}</tr>`);
    });
    body.push('</tbody></table></section>');
  }
  if (m.errors.length || m.bad.length) {
    body.push('<section id="problems"><h2>Problems</h2><ul class="problems">');
    for (const e of m.errors) body.push(`<li>${esc(e.error)}</li>`);
    for (const b of m.bad.slice(0, 50)) body.push(`<li>${esc(`${b.file}:${b.line}: ${b.error}`)}</li>`);
    if (m.bad.length > 50) body.push(`<li>… and ${m.bad.length - 50} more bad lines</li>`);
    body.push('</ul></section>');
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Nothing may load: no scripts, no remote images, fonts or styles (the file is self-contained).
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${esc(m.title)}</title><style>${STYLE}</style></head><body>`,
    ...body,
    `<p class="note">Values are fractions shown as percentages (${pct(1)} = all correct); intervals are Wilson 95% unless noted.</p>`,
    '</body></html>',
    '',
  ].join('\n');
}
