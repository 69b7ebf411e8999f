/**
 * What a reasoning chain is made of, as the chain parser returns it: a flat list of tokens in
 * source order that together cover the whole completion text. Plain data, so the viewer
 * protocol can carry it to the webview unchanged.
 */

/** Where a token sits: inside <think>, inside <answer>, or outside both (a format violation when not blank). */
export type ChainRegion = 'think' | 'answer' | 'outside';

/** Which written syntax a box came from (docs/chains.md, "Box syntaxes"). */
export type BoxSyntax =
  | 'seed'         // [x1,y1,x2,y2 label]
  | 'qwen25-json'  // {"bbox_2d":[...],"label":"..."} (also point_2d)
  | 'qwen-ref'     // <ref>label</ref><box>(x1,y1),(x2,y2)</box>
  | 'qwen2-special' // <|object_ref_start|>label<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>
  | 'bare';        // [x1, y1, x2, y2]

export interface ParsedBox {
  /** Index of this box within its completion, in source order. */
  id: number;
  label: string | null;
  /** As written: xyxy, or [x, y, x, y] for a point. */
  coords: [number, number, number, number];
  point: boolean;
  syntax: BoxSyntax;
  region: ChainRegion;
  /** Character span in the completion text. */
  start: number;
  end: number;
}

export type ChainToken =
  | { kind: 'tag'; text: string; start: number; end: number }
  | { kind: 'text'; region: ChainRegion; text: string; start: number; end: number }
  | { kind: 'step'; region: ChainRegion; text: string; start: number; end: number }
  | { kind: 'box'; region: ChainRegion; text: string; start: number; end: number; boxId: number }
  | { kind: 'image'; region: ChainRegion; text: string; start: number; end: number; path: string | null; codes: number[] | null };

export interface ParsedChain {
  tokens: ChainToken[];
  boxes: ParsedBox[];
  /** Text of the first <think>…</think>, null when absent. */
  think: string | null;
  /** Text of the first <answer>…</answer>, null when absent. */
  answer: string | null;
  /**
   * True when the completion is <think>…</think> then <answer>…</answer> and nothing else but whitespace:
   * the seeds' format regex (lazy, matched at the start) plus nothing but whitespace after its </answer>.
   */
  formatOk: boolean;
  /** Human-readable reasons the format is not ok (text outside tags, unclosed tag, …). */
  violations: string[];
}
