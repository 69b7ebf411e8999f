/**
 * The part of the group list the webview holds: pages of rows fetched from the host on demand,
 * plus the scroll arithmetic of a list too tall for the browser. No DOM here.
 */
import type { GroupRow } from '../../src/protocol/viewer';

export const ROW_HEIGHT = 48;
/** Browsers cap element heights (Chromium near 33.5M px); past this the scrollbar is scaled. */
const MAX_SCROLL_PX = 8_000_000;
/** Pages kept in memory; farthest ones from the last request are dropped first. */
const MAX_PAGES = 40;

export type SendRowRequest = (requestId: number, start: number, count: number) => void;

export interface ScrollWindow {
  /** Height of the scrollable spacer, capped. */
  height: number;
  /** First row (fractional rows are handled by `offset`). */
  first: number;
  /** Last row index to render (inclusive), before overscan. */
  last: number;
  /** Pixel position of row i inside the viewport is i * ROW_HEIGHT - offset. */
  offset: number;
}

/** Maps a scrollTop onto rows; exact 1:1 until the cap, proportional beyond it. */
export function scrollWindow(total: number, scrollTop: number, viewport: number): ScrollWindow {
  const full = total * ROW_HEIGHT;
  const height = Math.min(full, MAX_SCROLL_PX);
  const maxScroll = Math.max(0, height - viewport);
  const maxVirtual = Math.max(0, full - viewport);
  const top = Math.min(Math.max(0, scrollTop), maxScroll);
  // Whole pixels: rows at fractional offsets are re-rasterized every frame (software paint x2-3).
  const virtualTop = maxScroll > 0 ? Math.round((top / maxScroll) * maxVirtual) : 0;
  const first = Math.floor(virtualTop / ROW_HEIGHT);
  const last = Math.min(total - 1, Math.floor((virtualTop + viewport - 1) / ROW_HEIGHT));
  return { height, first, last, offset: virtualTop };
}

/** The scrollTop that puts row `ordinal` at `virtualTop` (inverse of scrollWindow). */
export function scrollTopForVirtual(total: number, virtualTop: number, viewport: number): number {
  const full = total * ROW_HEIGHT;
  const height = Math.min(full, MAX_SCROLL_PX);
  const maxScroll = Math.max(0, height - viewport);
  const maxVirtual = Math.max(0, full - viewport);
  const v = Math.min(Math.max(0, virtualTop), maxVirtual);
  return maxVirtual > 0 ? (v / maxVirtual) * maxScroll : 0;
}

export class RowWindow {
  total = 0;
  private readonly pages = new Map<number, GroupRow[]>();
  /** page index -> id of the request whose reply filled it. */
  private readonly filledBy = new Map<number, number>();
  /** Pages filled by requests older than this are shown but asked for again (the list grew). */
  private staleBefore = 0;
  /** page index -> request id in flight. */
  private readonly pending = new Map<number, number>();
  private nextId = 1;
  /** Replies to requests older than this were made for a list that no longer exists. */
  private firstValidId = 1;
  /** Reward range seen in this list, so spread bars share one scale. */
  lo = Number.POSITIVE_INFINITY;
  hi = Number.NEGATIVE_INFINITY;

  constructor(private readonly send: SendRowRequest, readonly pageSize = 100) {}

  get(ordinal: number): GroupRow | undefined {
    return this.pages.get(Math.floor(ordinal / this.pageSize))?.[ordinal % this.pageSize];
  }

  /** Asks for every page touching rows first..last that is neither cached nor in flight. */
  ensure(first: number, last: number): void {
    const lastRow = Math.min(last, this.total - 1);
    if (lastRow < 0 || first > lastRow) return;
    const from = Math.floor(Math.max(0, first) / this.pageSize);
    const to = Math.floor(lastRow / this.pageSize);
    for (let p = from; p <= to; p++) {
      if ((this.pages.has(p) && (this.filledBy.get(p) ?? 0) >= this.staleBefore) || this.pending.has(p)) continue;
      const id = this.nextId++;
      this.pending.set(p, id);
      this.send(id, p * this.pageSize, this.pageSize);
    }
    this.evict((from + to) / 2);
  }

  /** Takes a `rows` reply. False when it is stale (its list was replaced since). */
  accept(requestId: number, start: number, total: number, rows: GroupRow[]): boolean {
    if (requestId < this.firstValidId) return false;
    const page = Math.floor(start / this.pageSize);
    if (this.pending.get(page) === requestId) this.pending.delete(page);
    this.total = total;
    // A reply older than what filled the page already (it crossed a refresh) is not newer data.
    if (start % this.pageSize === 0 && requestId >= (this.filledBy.get(page) ?? 0)) {
      this.pages.set(page, rows);
      this.filledBy.set(page, requestId);
    }
    for (const r of rows) {
      if (r.rewardMin !== null) this.lo = Math.min(this.lo, r.rewardMin);
      if (r.rewardMax !== null) this.hi = Math.max(this.hi, r.rewardMax);
    }
    return true;
  }

  /**
   * The same list grew or changed in place (records arrived): keep showing the rows held, and
   * ask again for the pages in view. Nothing is dropped, so the list does not flicker.
   */
  refresh(total: number): void {
    this.total = total;
    this.staleBefore = this.nextId;
    this.pending.clear();
  }

  /** The list changed on the host: forget everything, and every reply still on its way. */
  reset(total: number): void {
    this.total = total;
    this.pages.clear();
    this.filledBy.clear();
    this.pending.clear();
    this.firstValidId = this.nextId;
    this.lo = Number.POSITIVE_INFINITY;
    this.hi = Number.NEGATIVE_INFINITY;
  }

  /** Ordinal of a cached row with this key, or -1. */
  ordinalOf(key: string): number {
    for (const rows of this.pages.values()) {
      const row = rows.find((r) => r.key === key);
      if (row) return row.ordinal;
    }
    return -1;
  }

  get cachedPages(): number {
    return this.pages.size;
  }

  private evict(around: number): void {
    if (this.pages.size <= MAX_PAGES) return;
    const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - around) - Math.abs(a - around));
    for (const p of far.slice(0, this.pages.size - MAX_PAGES)) {
      this.pages.delete(p);
      this.filledBy.delete(p);
    }
  }
}
