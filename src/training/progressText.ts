/** How a run's status and progress read in the Runs view and the status bar. */
import type { RunProgressView } from '../protocol/runs';

/** 75 -> "01:15", 3723 -> "1:02:03". */
export function clockText(seconds: number): string {
  const t = Math.max(0, Math.round(seconds));
  const mm = String(Math.floor(t / 60) % 60).padStart(2, '0');
  const ss = String(t % 60).padStart(2, '0');
  return t >= 3600 ? `${Math.floor(t / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** "12/500 · 1.22 it/s · ETA 06:40"; slow runs read in s/it, as tqdm prints them. */
export function progressText(p: RunProgressView, o: { rate?: boolean } = {}): string {
  const parts = [`${p.step}/${p.total}`];
  if (o.rate !== false && p.rate !== undefined && p.rate > 0) parts.push(p.rate >= 1 ? `${p.rate.toFixed(2)} it/s` : `${(1 / p.rate).toFixed(2)} s/it`);
  if (p.eta !== undefined) parts.push(`ETA ${clockText(p.eta)}`);
  return parts.join(' · ');
}
