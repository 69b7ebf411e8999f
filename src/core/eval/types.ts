/** The shapes every prediction reader produces and every metric consumes (docs/eval.md). */

/** Where a prediction came from, so an error names it: file and 1-based line. */
export interface Where {
  file: string;
  line: number;
}

export interface PredictionItem {
  /** The question's id, the key that pairs two checkpoints' predictions. */
  id: string;
  /** The model's output for the question (the whole completion; metrics extract the answer). */
  prediction?: string;
  /** Several sampled generations for the question (pass@k). */
  predictions?: string[];
  /** Gold: one answer, the annotators' answers (VQA) or the letters (exams). */
  answer?: string | string[];
  /** Per-generation verdicts (pass@k), or one verdict; a number is a count of correct ones out of `n`. */
  correct?: boolean | boolean[] | number;
  n?: number;
  /** The question text when the file has it (the text-only bias probe reads it). */
  question?: string;
  where: Where;
}

/** A line or item that could not be used, named by file and line; the others are kept. */
export interface BadLine {
  file: string;
  line: number;
  error: string;
}

export interface PredictionSet {
  /** The reader that read it: jsonl, lmms-eval-samples, vlmevalkit. */
  format: string;
  files: string[];
  items: PredictionItem[];
  bad: BadLine[];
  notes: string[];
}

export const showWhere = (w: Where): string => `${w.file}:${w.line}`;
