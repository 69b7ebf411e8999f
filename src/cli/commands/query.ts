/**
 * `grpo-studio query <file> <query>`: the completions of a native v1 rollout file that match a
 * query, found through the rollout index (typed columns, the file searched from disk, never held
 * whole), so a million completions answer in milliseconds for numbers and a second or two for text.
 */
import { resolve } from 'node:path';
import { runQuery } from '../../core/index/filter';
import { parseQuery, QueryError, type QueryNode } from '../../core/index/query';
import { RolloutIndex } from '../../core/index/rolloutIndex';
import { scoreIndex } from '../../core/index/score';
import { isVariantName, REWARD_VARIANTS, type VariantName } from '../../core/rewards/variants';
import { recordToJSON } from '../../core/schema/record';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';

const HELP = `usage: grpo-studio query <file> <query> [--json | --records | --count] [--limit N] [--variant V]

Finds the completions of a native v1 rollout file that match <query>, in file order, through the
rollout index (docs/query.md): e.g.
  'reward.bbox < 0.3 and step > 100'    'zero_variance or not format_ok'
  'completion ~ /left\\s+of/i'            'group == "120/3"'
An empty query matches every completion.
Output, one line per match:
  (default)   line<TAB>group<TAB>step<TAB>reward   (an absent value prints as -)
  --json      {"line","group","step","index","reward","advantage"}
  --records   the whole record as canonical v1 JSON, read back from the file (to pipe on)
  --count     only the number of matches
--limit N     the first N matches only.
"mismatch" compares logged with recomputed rewards: the index is scored first (--variant, one of
${Object.keys(REWARD_VARIANTS).join(', ')}; default grounding) when the query names it.
Bad lines of the file go to stderr with their line numbers; they never hide the others.
Exit 0 when something matched, 1 when nothing did (like grep), 2 for a bad query (its column is
named), a missing file, or bad usage.
`;

type Output = 'lines' | 'json' | 'records' | 'count';

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    let file: string;
    let node: QueryNode | null;
    let output: Output = 'lines';
    let limit = Infinity;
    let variant: VariantName = 'grounding';
    try {
      const a = parseArgs(args, { flags: ['help', 'json', 'records', 'count'], options: ['limit', 'variant'] });
      if (a.flags.has('help')) {
        io.out(HELP);
        return 0;
      }
      if (a.positionals.length !== 2) throw new UsageError('query needs <file> and <query> (quote the query)');
      file = resolve(io.cwd, a.positionals[0]!);
      const text = a.positionals[1]!;
      node = text.trim() === '' ? null : parseQuery(text);
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

    const index = new RolloutIndex(file);
    try {
      try {
        await index.update();
      } catch (e) {
        io.err(`grpo-studio query: cannot read ${file}: ${(e as Error).message}\n`);
        return 2;
      }
      for (const b of index.badLines) io.err(`${file}:${b.line}: ${b.error}\n`);
      if (node && mentionsMismatch(node)) await scoreIndex(index, { variant });
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

function mentionsMismatch(node: QueryNode): boolean {
  if (node.kind === 'and' || node.kind === 'or') return mentionsMismatch(node.left) || mentionsMismatch(node.right);
  if (node.kind === 'not') return mentionsMismatch(node.arg);
  return node.kind === 'flag' && node.flag === 'mismatch';
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
