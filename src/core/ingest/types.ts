/**
 * Shapes shared by the trainer-format adapters, the source opener and the tailer. Every adapter
 * turns its trainer's output into canonical v1 records, each with the place it came from so the
 * viewer can "reveal in file", and reports bad input per line or block instead of stopping.
 */
import type { BadLine, RolloutRecord } from '../schema/record';

export type FormatName = 'native' | 'verl' | 'trl' | 'vlmr1' | 'easyr1' | 'swift';
export const FORMAT_NAMES: readonly FormatName[] = ['native', 'verl', 'trl', 'vlmr1', 'easyr1', 'swift'];

export function isFormatName(x: string): x is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(x);
}

/** Where a record came from. A `RecordLocation` of the v1 reader is one of these. */
export interface SourceLocation {
  file: string;
  /** 1-based line of the record, or of its block's first line; for parquet, the 1-based row. */
  line: number;
  /** Byte offset of that line in the file (absent for parquet rows). */
  offset?: number;
  /**
   * Native v1 lines: the line's length in bytes without its "\n", so the record can be read back
   * from the file instead of held (the rollout index keeps only this place).
   */
  bytes?: number;
  /** Last line of a multi-line block. */
  endLine?: number;
  /** True when `line` counts parquet rows, not text lines. */
  row?: true;
}

export interface LocatedRecord {
  record: RolloutRecord;
  loc: SourceLocation;
}

/** One training metric (EasyR1 experiment_log.jsonl): nested keys joined with "/". */
export interface Metric {
  step: number;
  name: string;
  value: number;
}

/**
 * Something true of the input that is not a bad line but that a reader must be told: a group
 * whose size disagrees with the run's, an ambiguous group size, an eval pass mixed into a
 * training file, steps that were inferred. Shown beside the bad lines (viewer) or on stderr (CLI).
 */
export interface SourceNote {
  file: string;
  /** 1-based line (or parquet row) the note is about, when it is about one place. */
  line?: number;
  message: string;
}

export interface IngestSummary {
  /** Valid records handed to the callback. */
  completions: number;
  badLines: BadLine[];
  notes: SourceNote[];
}

export type OnRecord = (rec: RolloutRecord, loc: SourceLocation) => void;
export type OnMetric = (m: Metric) => void;

/** Where a parser's output goes; the whole-file reader and the tailer both provide one. */
export interface RecordSink {
  record: OnRecord;
  bad(b: BadLine): void;
  metric?: OnMetric;
  /** A note about the input (see `SourceNote`); a sink without one drops notes. */
  note?(n: SourceNote): void;
}

export interface LineLocation {
  file: string;
  line: number;
  offset: number;
  /** The line's length in bytes, without its "\n". */
  bytes?: number;
}

/**
 * A text format parser, fed one decoded line at a time in file order. Line formats emit as each
 * line arrives; block formats hold the open block until the next block starts, `flush()` (the
 * writer went quiet) or `end()` (the file is finished).
 */
export interface TextParser {
  line(text: string, loc: LineLocation): void;
  /** Emits a held block. Later continuation lines no longer belong to it. */
  flush(): void;
  /** The file is complete. */
  end(): void;
  /** True while a block is held. */
  readonly holding: boolean;
}

/** Options every adapter understands; each reads only its own. */
export interface AdapterOptions {
  /** TRL, ms-swift: completions per prompt, overriding the run's config and inference. */
  numGenerations?: number;
  /** VLM-R1: reward calls further apart than this start a new inferred step (default 2000 ms). */
  stepGapMs?: number;
}

export const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A JS number from a parsed JSON / parquet value, or undefined when it is not a finite number. */
export function finiteNumber(x: unknown): number | undefined {
  if (typeof x === 'number') return Number.isFinite(x) ? x : undefined;
  if (typeof x === 'bigint') return Number(x);
  return undefined;
}

/** A non-negative integer step, or undefined. */
export function stepValue(x: unknown): number | undefined {
  const n = finiteNumber(x);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}
