/**
 * The viewer's reward histograms, as data (no imports: the viewer's protocol and webview use
 * these types too). Computed by src/core/view/histograms.ts.
 */

/** One bar: a value range (or one exact value) of a numeric column and the filter clause that selects it. */
export interface HistogramBar {
  /** Lower edge (inclusive), as the query reads it (float32); equal to `hi` for an exact-value bar. */
  lo: number;
  /** Upper edge: exclusive, except on the last bin of a range histogram (inclusive) and on an exact-value bar. */
  hi: number;
  /** The range as shown: `[0.2, 0.3)`, `[0.9, 1]`, or the value `1`. */
  label: string;
  /** The filter clause that selects exactly this bar's completions: `reward.bbox >= 0.2 and reward.bbox < 0.3`, `reward.format == 1`. */
  clause: string;
  /** The filter text a click sets: the clause alone, or AND-ed with the filter in force (its `sort:` kept at the end). */
  apply: string;
  /** Completions of the whole list in the bar. */
  count: number;
  /** Completions of the filtered list (the listed groups' matching completions) in the bar. */
  filtered: number;
  /** Listed groups with at least one such completion: how many groups the list shows after a click. */
  filteredGroups: number;
}

export interface Histogram {
  /** The column as the query names it: `reward`, `reward.<name>`, `advantage`. */
  column: string;
  /** `range`: fixed-width bins; `values`: one bar per distinct value (few distinct values, like a 0/1 format reward). */
  kind: 'range' | 'values';
  bars: HistogramBar[];
  /** Completions of the whole list without a value in this column (not logged). */
  missing: number;
  /** The same, in the filtered list. */
  filteredMissing: number;
}

export interface HistogramSet {
  /** Completions in the whole list (every settled group). */
  total: number;
  /** Completions in the filtered list. */
  filtered: number;
  /** The filter text in force (the last one that worked), which `apply` builds on. */
  filterText: string;
  histograms: Histogram[];
  /** Reward functions the filter language cannot name (`reward.<name>` takes letters, digits, `_`, `-`, `.`): no histogram. */
  unfilterable: string[];
}
