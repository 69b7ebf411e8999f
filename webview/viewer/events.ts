/**
 * Events the viewer's components send up to <grpo-viewer>, which alone talks to the host.
 * All bubble and cross shadow roots.
 */
import type { BoxFrameSetting, RowFilter } from '../../src/protocol/viewer';

/** A box being pointed at, in the image or in a chain. `completion` is null for gold boxes. */
export interface BoxRef {
  completion: number | null;
  id: number;
}

export interface ViewerEvents {
  'select-group': { key: string; ordinal: number };
  'open-group': { key: string };
  'filter-change': RowFilter;
  'reveal-line': { file: string; line: number };
  'box-hover': BoxRef | null;
  'toggle-completion': { completion: number };
  'set-frame': { frame: BoxFrameSetting };
  'list-scroll': { scrollTop: number };
  'go-to-step': { step: number };
  /** The group view's Timeline / Compare… buttons. */
  'group-action': { action: 'timeline' | 'compare'; key: string };
  /** The toolbar's Histograms toggle. */
  'toggle-histograms': { open: boolean };
  /** A histogram bar was clicked: set the filter text to its `apply` text. */
  'histogram-bar': { apply: string };
}

export function emit<K extends keyof ViewerEvents>(from: EventTarget, name: K, detail: ViewerEvents[K]): void {
  from.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
}

export function sameBox(a: BoxRef | null, b: BoxRef | null): boolean {
  return a !== null && b !== null && a.completion === b.completion && a.id === b.id;
}
