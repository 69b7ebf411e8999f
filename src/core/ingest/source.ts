/**
 * Opens a file or folder of any supported trainer format as a stream of canonical v1 records:
 * `openSource(path, {format?})` detects the format (or takes the override), lists the files in
 * reading order, and `read` feeds them through the format's adapter.
 */
import { access } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readRollouts } from './v1Reader';
import { detectFormat } from './detect';
import { easyr1GenerationsParser, easyr1MetricsParser } from './easyr1';
import { filesOf, isDirectory, stepFromName } from './files';
import { nativeParser } from './native';
import { readSwiftConfig, swiftParser } from './swift';
import { readTextFile } from './text';
import { readTrlFile, runFolderOf, TrlRun } from './trl';
import { FORMAT_NAMES, type AdapterOptions, type FormatName, type IngestSummary, type OnMetric, type OnRecord, type RecordSink, type TextParser } from './types';
import { verlParser } from './verl';
import { formatSiblingOf, FormatVerdicts, vlmr1FormatParser, vlmr1Parser } from './vlmr1';

export interface OpenOptions extends AdapterOptions {
  /** Skip detection. */
  format?: FormatName;
  /** The format of a FILE that detection does not recognise (the CLI reads it as native v1 and reports its lines). */
  fallback?: FormatName;
}

/** What a file contributes: completions, metrics (EasyR1), or format verdicts (VLM-R1 sibling). */
export type FileRole = 'records' | 'metrics' | 'format';

export interface SourceFile {
  path: string;
  role: FileRole;
}

export interface RolloutSource {
  format: FormatName;
  /** Why this format (detection's reason, or "given"). */
  why: string;
  path: string;
  /** Files in reading order; auxiliary ones (metrics, format verdicts) first. */
  files: SourceFile[];
  read(onRecord: OnRecord, onMetric?: OnMetric): Promise<IngestSummary>;
}

/** No format could be detected, or the path holds nothing to read. */
export class SourceError extends Error {}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Per-source state a format's parsers share across files (VLM-R1's format verdicts). */
export interface ParserContext {
  verdicts: FormatVerdicts;
  opts: AdapterOptions;
}

export function newParserContext(opts: AdapterOptions = {}): ParserContext {
  return { verdicts: new FormatVerdicts(), opts };
}

/** The text parser for one file of a source; null for parquet (read whole by `readTrlFile`). */
export function textParserFor(format: FormatName, file: SourceFile, sink: RecordSink, ctx: ParserContext): TextParser | null {
  if (file.role === 'metrics') return easyr1MetricsParser(sink);
  if (file.role === 'format') return vlmr1FormatParser(sink, ctx.verdicts);
  switch (format) {
    case 'native':
      return nativeParser(sink);
    case 'verl':
      return verlParser(sink, stepFromName(file.path));
    case 'vlmr1':
      return vlmr1Parser(sink, ctx.verdicts, ctx.opts);
    case 'easyr1':
      return easyr1GenerationsParser(sink);
    case 'swift':
      return swiftParser(sink, ctx.opts, readSwiftConfig(file.path));
    case 'trl':
      return null;
  }
}

/** The files to read for `path` in `format`, auxiliary files first. */
export async function sourceFiles(path: string, format: FormatName): Promise<SourceFile[]> {
  const dir = await isDirectory(path);
  const records = (paths: string[]): SourceFile[] => paths.map((p) => ({ path: p, role: 'records' }));
  if (format === 'easyr1') {
    const folder = dir ? path : dirname(path);
    const metrics = join(folder, 'experiment_log.jsonl');
    const out: SourceFile[] = [];
    if (await exists(metrics)) out.push({ path: metrics, role: 'metrics' });
    if (dir) out.push(...records(await filesOf(path, 'easyr1')));
    else if (basename(path) !== 'experiment_log.jsonl') out.push({ path, role: 'records' });
    return out;
  }
  if (format === 'vlmr1') {
    const logs = dir ? await filesOf(path, 'vlmr1') : [path];
    const out: SourceFile[] = [];
    for (const log of logs) {
      const sibling = formatSiblingOf(log);
      if (sibling && (await exists(sibling))) out.push({ path: sibling, role: 'format' });
    }
    return [...out, ...records(logs)];
  }
  return dir ? records(await filesOf(path, format)) : [{ path, role: 'records' }];
}

export async function openSource(path: string, opts: OpenOptions = {}): Promise<RolloutSource> {
  let format = opts.format;
  let why = 'given';
  if (!format) {
    const d = await detectFormat(path);
    if (d) {
      format = d.format;
      why = d.why;
    } else {
      if (!(await exists(path))) throw new SourceError(`${path} does not exist`);
      if (!opts.fallback || (await isDirectory(path))) {
        throw new SourceError(`cannot tell which trainer wrote ${path}; name one with --format ${FORMAT_NAMES.join('|')}`);
      }
      format = opts.fallback;
      why = 'not recognised; read as the fallback format';
    }
  }
  if (!(await exists(path))) throw new SourceError(`${path} does not exist`);
  const files = await sourceFiles(path, format);
  if (!files.length) throw new SourceError(`${path} holds no ${format} files`);
  const fmt = format;

  return {
    format: fmt,
    why,
    path,
    files,
    async read(onRecord, onMetric) {
      const summary: IngestSummary = { completions: 0, badLines: [], notes: [] };
      const sink: RecordSink = {
        record: (rec, loc) => {
          summary.completions++;
          onRecord(rec, loc);
        },
        bad: (b) => summary.badLines.push(b),
        metric: onMetric,
        note: (n) => summary.notes.push(n),
      };
      const ctx = newParserContext(opts);
      // One per run folder: what a file settles (group size, reward columns, its batch) informs the next.
      const trlRuns = new Map<string, TrlRun>();
      for (const f of files) {
        if (fmt === 'native') {
          // The existing v1 reader, unchanged.
          const r = await readRollouts(f.path, sink.record);
          summary.badLines.push(...r.badLines);
          continue;
        }
        if (fmt === 'trl') {
          const folder = runFolderOf(f.path);
          let run = trlRuns.get(folder);
          if (!run) {
            run = new TrlRun(folder);
            await run.refresh();
            trlRuns.set(folder, run);
          }
          try {
            await readTrlFile(f.path, sink, { ...opts, run });
          } catch (e) {
            sink.bad({ file: f.path, line: 0, error: `not a readable parquet file: ${e instanceof Error ? e.message : String(e)}` });
          }
          continue;
        }
        const parser = textParserFor(fmt, f, sink, ctx);
        if (parser) await readTextFile(f.path, parser, sink);
      }
      return summary;
    },
  };
}
