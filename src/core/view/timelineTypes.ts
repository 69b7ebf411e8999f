/** One prompt's timeline, as data (no imports: the timeline webview's protocol uses these types too). */

export type VerdictName = 'aligned' | 'misaligned' | 'uncertain' | 'failed' | 'unjudged';

export interface TimelineGroup {
  key: string;
  /** null: the records carry no step. */
  step: number | null;
  /** Members now. */
  size: number;
  /** Recomputed totals of the members. */
  mean: number;
  min: number;
  max: number;
  /** Sample std (as the advantages use). */
  std: number;
  /** Each recomputed reward's mean over the members. */
  rewards: Partial<Record<string, number>>;
  /** Mean completion length (UTF-8 bytes of the completion text, the index's `length`). */
  length: number;
  /** Mean IoU of the matched predicted boxes; null without a bbox reward or without a matched box. */
  iou: number | null;
  zeroVariance: boolean;
  verdicts: Record<VerdictName, number>;
}

