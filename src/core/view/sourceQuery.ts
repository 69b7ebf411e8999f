/**
 * A query (docs/query.md) over a rollout source of any format, answered as the viewer answers its
 * filter: the source is read through `openSource` into a RolloutView (records scored and dropped,
 * their bodies read back when asked for), and the query runs on the index's one evaluator. The
 * CLI's `query` comes here for every source it does not scan itself (another format, a folder, a
 * query on the verdicts); a native v1 file is scanned by the index directly.
 */
import { DEFAULT_SCORE_OPTIONS } from '../rewards/scoreDefaults';
import { openSource, type OpenOptions } from '../ingest/source';
import type { FormatName, LocatedRecord, SourceNote } from '../ingest/types';
import { VerdictCache, cachePathFor } from '../judge/cache';
import { VerdictLookup } from '../judge/alignment';
import { judgeItemOf } from '../judge/session';
import { parseQuery, type QueryNode } from '../index/query';
import type { BadLine, RolloutRecord } from '../schema/record';
import type { VerdictView } from './types';
import { readFilterText } from './filterText';
import { RolloutView, type LoadedRecord, type RecordVerdicts } from './rolloutView';

export interface SourceMatch {
  file: string;
  /** 1-based line (a block's first line; a parquet row). */
  line: number;
  group: string;
  step: number | null;
  index: number | null;
  /** The logged total, as the index keeps it (float32). */
  reward: number | null;
  advantage: number | null;
  record: RolloutRecord;
}

export interface SourceQueryResult {
  format: FormatName;
  /** Why that format (detection's reason, or "given"). */
  why: string;
  completions: number;
  /** Every match, in the source's reading order. */
  matches: SourceMatch[];
  badLines: BadLine[];
  notes: SourceNote[];
}

export interface SourceQueryOptions {
  source?: OpenOptions;
  /** The reward variant `mismatch` is computed under (default grounding). */
  variant?: string;
}

/** Does the query read judge verdicts (then the caches beside the files are loaded)? */
function mentionsVerdicts(node: QueryNode | null): boolean {
  if (!node) return false;
  if (node.kind === 'and' || node.kind === 'or') return mentionsVerdicts(node.left) || mentionsVerdicts(node.right);
  if (node.kind === 'not') return mentionsVerdicts(node.arg);
  return node.kind === 'verdict';
}

/**
 * What the verdict caches beside the files say, read as the viewer reads them (no failures:
 * those live only in the editor session that ran the judge). Never writes a cache.
 */
function cachedVerdicts(): RecordVerdicts {
  const byFile = new Map<string, VerdictLookup>();
  return (l: LoadedRecord): VerdictView | null => {
    let lookup = byFile.get(l.file);
    if (!lookup) byFile.set(l.file, (lookup = new VerdictLookup(VerdictCache.open(cachePathFor(l.file)).verdicts())));
    const v = lookup.size === 0 ? null : lookup.of(judgeItemOf(l.record)).final;
    return v ? { aligns: v.aligns, type: v.type, why: v.why, tier: v.tier } : null;
  };
}

/**
 * Reads `path` and returns the completions matching `text` (empty: all), or `{problem}` when the
 * query names a reward function or meta key no record has (the viewer's typo check). Throws a
 * QueryError for text that does not parse, and the source's error for a path it cannot open.
 */
export async function querySource(path: string, text: string, opts: SourceQueryOptions = {}): Promise<SourceQueryResult | { problem: string }> {
  // A query that does not parse fails before the source is read (the viewer would search the words).
  if (text.trim() !== '') parseQuery(text.trim(), { verdicts: true, meta: true });
  const source = await openSource(path, opts.source);
  const view = new RolloutView({ ...DEFAULT_SCORE_OPTIONS, variant: opts.variant ?? DEFAULT_SCORE_OPTIONS.variant });
  view.readBack = source.format === 'native';
  try {
    let batch: LocatedRecord[] = [];
    const summary = await source.read((record, loc) => {
      batch.push({ record, loc });
      if (batch.length >= 4096) {
        view.append(batch);
        batch = [];
      }
    });
    view.append(batch, summary.badLines);
    const reading = readFilterText(text, view.rewardNames, view.metaKeys);
    if (reading.kind === 'error') return { problem: reading.message };
    const node = reading.kind === 'query' ? reading.node : null;
    if (mentionsVerdicts(node)) await view.setVerdicts(cachedVerdicts());
    view.settle();
    await view.applyFilter({ text, flags: [] });
    const index = view.index;
    const num = (x: number): number | null => (Number.isNaN(x) ? null : Number(x.toPrecision(7)));
    const int = (x: number): number | null => (x === -1 ? null : x);
    const matches: SourceMatch[] = [];
    for (const r of view.matchedRows()) {
      const { record, loc } = await index.readRecord(r);
      matches.push({
        file: loc.file, line: loc.line, group: index.groups.keys[index.group.data[r]!]!, step: int(index.step.data[r]!),
        index: int(index.index.data[r]!), reward: num(index.total.data[r]!), advantage: num(index.advantage.data[r]!), record,
      });
    }
    return { format: source.format, why: source.why, completions: summary.completions, matches, badLines: summary.badLines, notes: summary.notes };
  } finally {
    await view.close();
  }
}
