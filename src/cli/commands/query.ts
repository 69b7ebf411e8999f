/**
 * `grpo-studio query <path> <query>`: the completions of a rollout source that match a query. A
 * native v1 file is scanned by the rollout index (typed columns, bodies searched on disk, never
 * held whole), so a million completions answer in milliseconds for numbers and a second or two
 * for text or `meta.<key>`; every other source (another trainer's format, a folder, a query on
 * the verdicts) is read through the viewer's model (src/core/view/sourceQuery.ts). Both run the
 * one evaluator, src/core/index/filter.ts.
 */
import { relative, resolve } from 'node:path';
import { detectFormat } from '../../core/ingest/detect';
import { isDirectory } from '../../core/ingest/files';
import { SOURCE_HELP, SOURCE_OPTIONS, sourceOptions } from '../../core/ingest/options';
import type { OpenOptions } from '../../core/ingest/source';
import { runQuery } from '../../core/index/filter';
import { parseQuery, QueryError, type QueryNode } from '../../core/index/query';
import { RolloutIndex } from '../../core/index/rolloutIndex';
import { updateParallel } from '../../core/index/parallel';
import { scoreIndex } from '../../core/index/score';
import { DEFAULT_SCORE_OPTIONS } from '../../core/rewards/scoreDefaults';
import { isVariantName, REWARD_VARIANTS, type VariantName } from '../../core/rewards/variants';
import { recordToJSON } from '../../core/schema/record';
import { querySource, type SourceMatch } from '../../core/view/sourceQuery';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';
import { oneLine, reportSource } from '../sourceReport';

const HELP = `usage: grpo-studio query <path> <query> [--json | --records | --count] [--limit N] [--variant V]
       [--format F] [--num-generations N]

Finds the completions of a rollout source that match <query>, in file order (docs/query.md): e.g.
  'reward.bbox < 0.3 and step > 100'    'zero_variance or not format_ok'
  'completion ~ /left\\s+of/i'            'group == "120/3"'   'meta.step_inferred == true'
An empty query matches every completion. A native v1 file is scanned by the rollout index; any
other source (verl, TRL, VLM-R1, EasyR1, ms-swift, a folder), and a query on verdict /
verdict_type (from the verdict caches beside the files), is read as the viewer reads it.
Output, one line per match:
  (default)   line<TAB>group<TAB>step<TAB>reward   (an absent value prints as -; for a folder
              the first column is <file>:<line>, the file relative to <path>)
  --json      {"line","group","step","index","reward","advantage"}, plus "file" for a folder
  --records   the whole record as canonical v1 JSON (to pipe on)
  --count     only the number of matches
--limit N     the first N matches only.
line is the 1-based line (a block's first line for VLM-R1 and EasyR1, the row for TRL parquet).
"mismatch" compares logged with recomputed rewards under --variant (one of
${Object.keys(REWARD_VARIANTS).join(', ')}; default grounding).
Bad lines go to stderr with their file and line, source notes as <file>[:<line>]: note: …;
they never hide the others.
Exit 0 when something matched, 1 when nothing did (like grep), 2 for a bad query (its column is
named), a missing path, or bad usage.
${SOURCE_HELP}
`;

type Output = 'lines' | 'json' | 'records' | 'count';

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    let file: string;
    let node: QueryNode | null;
    let output: Output = 'lines';
    let limit = Infinity;
    let variant: VariantName = 'grounding';
    let given: string;
    let text: string;
    let source: OpenOptions;
    try {
      const a = parseArgs(args, { flags: ['help', 'json', 'records', 'count'], options: ['limit', 'variant', ...SOURCE_OPTIONS] });
      if (a.flags.has('help')) {
        io.out(HELP);
        return 0;
      }
      if (a.positionals.length !== 2) throw new UsageError('query needs <path> and <query> (quote the query)');
      given = a.positionals[0]!;
      file = resolve(io.cwd, given);
      text = a.positionals[1]!;
      // Every column parses here; whether the index can answer is decided below.
      node = text.trim() === '' ? null : parseQuery(text, { verdicts: true, meta: true });
      const so = sourceOptions(a.options);
      if (typeof so === 'string') throw new UsageError(so);
      source = so;
      const outputs = (['json', 'records', 'count'] as const).filter((f) => a.flags.has(f));
      if (outputs.length > 1) throw new UsageError(`--${outputs.join(' and --')} exclude each other`);
      output = outputs[0] ?? 'lines';
      const l = a.options.get('limit');
      if (l !== undefined) {
        if (!/^\d+$/.test(l) || Number(l) < 1) throw new UsageError(`--limit takes a positive whole number, got '${l}'`);
        limit = Number(l);
      }
      const v = a.options.get('variant');
      if (v !== undefined) {
        if (!isVariantName(v)) throw new UsageError(`unknown --variant '${v}' (one of ${Object.keys(REWARD_VARIANTS).join(', ')})`);
        variant = v;
      }
    } catch (e) {
      if (e instanceof UsageError || e instanceof QueryError) {
        io.err(`grpo-studio query: ${e.message}\n`);
        return 2;
      }
      throw e;
    }

    if (needsRecords(node) || !(await onIndex(file, source))) return queryRecords(given, file, text, { source, variant, output, limit }, io);
    const index = new RolloutIndex(file);
    try {
      try {
        await updateParallel(index);
      } catch (e) {
        io.err(`grpo-studio query: cannot read ${file}: ${(e as Error).message}\n`);
        return 2;
      }
      for (const b of index.badLines) io.err(`${file}:${b.line}: ${b.error}\n`);
      if (node && mentionsScores(node)) await scoreIndex(index, { ...DEFAULT_SCORE_OPTIONS, variant });
      let rows: Int32Array;
      try {
        rows = (await runQuery(index, node ?? '')).rows;
      } catch (e) {
        if (e instanceof QueryError) {
          io.err(`grpo-studio query: ${e.message}\n`);
          return 2;
        }
        throw e;
      }
      const shown = rows.subarray(0, Math.min(rows.length, limit));
      if (output === 'count') io.out(`${shown.length}\n`);
      else await print(index, shown, output, io);
      return rows.length > 0 ? 0 : 1;
    } finally {
      await index.close();
    }
  },
};

/** The verdicts come from the caches beside the files, which the source reader looks up. */
function needsRecords(node: QueryNode | null): boolean {
  if (!node) return false;
  if (node.kind === 'and' || node.kind === 'or') return needsRecords(node.left) || needsRecords(node.right);
  if (node.kind === 'not') return needsRecords(node.arg);
  return node.kind === 'verdict';
}

/** A native v1 file (given, detected, or nothing recognised: read as native, as everywhere). */
async function onIndex(file: string, source: OpenOptions): Promise<boolean> {
  if (source.format && source.format !== 'native') return false;
  if (await isDirectory(file)) return false;
  if (source.format === 'native') return true;
  const d = await detectFormat(file).catch(() => null);
  return !d || d.format === 'native';
}

/** Any other source: read whole and evaluated as the viewer does, printed in the index's shape. */
async function queryRecords(
  given: string,
  path: string,
  text: string,
  o: { source: OpenOptions; variant: VariantName; output: Output; limit: number },
  io: CliIO,
): Promise<number> {
  let r;
  try {
    r = await querySource(path, text, { source: o.source, variant: o.variant });
  } catch (e) {
    if (e instanceof QueryError) {
      io.err(`grpo-studio query: ${e.message}\n`);
      return 2;
    }
    io.err(`grpo-studio query: cannot read ${given}: ${oneLine(e)}\n`);
    return 2;
  }
  if ('problem' in r) {
    io.err(`grpo-studio query: ${r.problem}\n`);
    return 2;
  }
  reportSource(io, given, path, r);
  if (r.completions === 0) io.err(`grpo-studio query: no completions in ${given}, read as ${r.format} (${r.why})\n`);
  const shown = r.matches.slice(0, Math.min(r.matches.length, o.limit));
  const folder = await isDirectory(path);
  const where = (m: SourceMatch): string => relative(path, m.file);
  if (o.output === 'count') io.out(`${shown.length}\n`);
  else {
    for (let k = 0; k < shown.length; k += 4096) {
      const lines = shown.slice(k, k + 4096).map((m) => {
        if (o.output === 'records') return JSON.stringify(recordToJSON(m.record));
        const row = { line: m.line, group: m.group, step: m.step, index: m.index, reward: m.reward, advantage: m.advantage };
        if (o.output === 'json') return JSON.stringify(folder ? { ...row, file: where(m) } : row);
        return [folder ? `${where(m)}:${m.line}` : m.line, m.group, m.step ?? '-', m.reward ?? '-'].join('\t');
      });
      io.out(lines.join('\n') + '\n');
    }
  }
  return r.matches.length > 0 ? 0 : 1;
}

/** `mismatch`, `zero_variance` (where totals are not all logged) and `score`/`score.<name>` need the recomputed scores. */
function mentionsScores(node: QueryNode): boolean {
  if (node.kind === 'and' || node.kind === 'or') return mentionsScores(node.left) || mentionsScores(node.right);
  if (node.kind === 'not') return mentionsScores(node.arg);
  if (node.kind === 'compare') return node.column === 'score' || node.column.startsWith('score.');
  return node.kind === 'flag' && (node.flag === 'mismatch' || node.flag === 'zero_variance');
}

/** Matches in batches of lines, so a million of them are not one string. */
async function print(index: RolloutIndex, rows: Int32Array, output: Exclude<Output, 'count'>, io: CliIO): Promise<void> {
  // Rewards are float32 in the index: seven significant digits say what was logged.
  const num = (x: number): number | null => (Number.isNaN(x) ? null : Number(x.toPrecision(7)));
  const int = (x: number): number | null => (x === -1 ? null : x);
  let batch: string[] = [];
  for (const r of rows) {
    const group = index.groups.keys[index.group.data[r]!]!;
    if (output === 'records') batch.push(JSON.stringify(recordToJSON((await index.readRecord(r)).record)));
    else {
      const row = { line: index.line.data[r]!, group, step: int(index.step.data[r]!), index: int(index.index.data[r]!), reward: num(index.total.data[r]!), advantage: num(index.advantage.data[r]!) };
      batch.push(output === 'json' ? JSON.stringify(row) : [row.line, row.group, row.step ?? '-', row.reward ?? '-'].join('\t'));
    }
    if (batch.length >= 4096) {
      io.out(batch.join('\n') + '\n');
      batch = [];
    }
  }
  if (batch.length) io.out(batch.join('\n') + '\n');
}
