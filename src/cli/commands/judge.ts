/** `grpo-studio judge <file>`: does each completion's reasoning support its own answer? */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { VerdictCaches } from '../../core/judge/caches';
import { JUDGE_POLICIES, judgeCompletions, tiersOf, type JudgePolicy, type JudgedCompletion } from '../../core/judge/cascade';
import { estimateLine, judgeItemOf, judgeTotals, llmEstimate, openJudges, type OpenJudges } from '../../core/judge/session';
import type { JudgeItem } from '../../core/judge/verdict';
import { SOURCE_HELP, SOURCE_OPTIONS, sourceOptions } from '../../core/ingest/options';
import { isDirectory } from '../../core/ingest/files';
import { openSource, type OpenOptions } from '../../core/ingest/source';
import { GroupKeys } from '../../core/rollouts/groups';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';
import { oneLine, reportSource } from '../sourceReport';

const HELP = `usage: grpo-studio judge <path> [--tier rules|local|llm|cascade] [--model M] [--base-url URL]
       [--concurrency N] [--cache FILE] [--local-model DIR] [--template FILE] [--timeout MS]
       [--batch] [--price IN,OUT] [--json] [--format F] [--num-generations N]

Judges whether each completion's reasoning logically entails its final answer (not whether the
answer is right), in any trainer format the viewer reads. Prints one JSON line per completion
as it is judged:
  line (1-based line, a block's first line, or a parquet row), group, aligns (true/false/null),
  type (contradiction, missing_detail, irrelevant, other or null), why, tier (rules/local/llm),
  cached; error when it could not be judged; and file (relative to <path>) when <path> is a folder.
--tier: rules (default, instant), local (an ONNX NLI model, --local-model DIR), llm, or cascade
  (rules, then the local model if --local-model is given, then the LLM, each for what the
  previous tier left uncertain). A policy such as rules>local is accepted too.
--model / --base-url: any OpenAI-compatible server (default gpt-4o-mini at OPENAI_BASE_URL or
  https://api.openai.com/v1). The key is read from OPENAI_API_KEY, never from the command line.
--cache: verdicts are appended to <file>.verdicts.jsonl beside each file the completions came
  from (where the viewer and the Alignment dashboard look) unless one file is named; a re-run
  asks nothing twice. --batch sends the LLM requests through the Batch API.
--price IN,OUT: dollars per million input/output tokens, for the cost lines on stderr.
--json: a final summary object: judged, aligned, misaligned, unparseable, failed, calls, cached,
  prompt_tokens, completion_tokens, dollars.
Bad lines and source notes go to stderr as <file>:<line>: <error> and <file>[:<line>]: note: ….
Exit 0 when every completion got a verdict, 1 when some could not be judged or <path> holds no
completion to judge (the format it was read as is named), 2 for an unreadable path or bad usage.
${SOURCE_HELP}
`;

interface JudgeArgs {
  file: string;
  source: OpenOptions;
  policy: JudgePolicy;
  model: string;
  baseURL: string | undefined;
  concurrency: number;
  cache: string | undefined;
  localModel: string | undefined;
  template: string | undefined;
  timeoutMs: number;
  batch: boolean;
  price: { input: number; output: number } | undefined;
  json: boolean;
}

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

function readArgs(args: string[]): JudgeArgs | 'help' {
  const a = parseArgs(args, {
    flags: ['help', 'json', 'batch'],
    options: ['tier', 'model', 'base-url', 'concurrency', 'cache', 'local-model', 'template', 'timeout', 'price', ...SOURCE_OPTIONS],
  });
  if (a.flags.has('help')) return 'help';
  if (a.positionals.length !== 1) throw new UsageError('judge needs exactly one <path>');
  const source = sourceOptions(a.options);
  if (typeof source === 'string') throw new UsageError(source);
  const localModel = a.options.get('local-model');
  const tier = a.options.get('tier') ?? 'rules';
  let policy: JudgePolicy;
  if (tier === 'cascade') policy = localModel ? 'rules>local>llm' : 'rules>llm';
  else if ((JUDGE_POLICIES as readonly string[]).includes(tier)) policy = tier as JudgePolicy;
  else throw new UsageError(`unknown --tier '${tier}' (rules, local, llm, cascade, or one of ${JUDGE_POLICIES.join(', ')})`);
  if (tiersOf(policy).includes('local') && !localModel) throw new UsageError(`--tier ${tier} needs --local-model DIR`);
  let price: JudgeArgs['price'];
  const p = a.options.get('price');
  if (p !== undefined) {
    const [i, o] = p.split(',').map(Number);
    if (!(Number.isFinite(i) && Number.isFinite(o))) throw new UsageError(`--price must be IN,OUT dollars per million tokens, got '${p}'`);
    price = { input: i!, output: o! };
  }
  return {
    file: a.positionals[0]!,
    source,
    policy,
    model: a.options.get('model') ?? 'gpt-4o-mini',
    baseURL: a.options.get('base-url'),
    concurrency: positiveInt('concurrency', a.options.get('concurrency'), 8),
    cache: a.options.get('cache'),
    localModel,
    template: a.options.get('template'),
    timeoutMs: positiveInt('timeout', a.options.get('timeout'), 60_000),
    batch: a.flags.has('batch'),
    price,
    json: a.flags.has('json'),
  };
}

function outputLine(r: JudgedCompletion, file: string | undefined): string {
  const base = { line: r.item.line ?? null, group: r.item.group ?? null, ...(file === undefined ? {} : { file }) };
  if (!r.verdict) return JSON.stringify({ ...base, aligns: null, type: null, why: null, tier: null, cached: false, error: r.failure });
  const v = r.verdict;
  return JSON.stringify({ ...base, aligns: v.aligns, type: v.type, why: v.why, tier: v.tier, cached: r.cached });
}

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    let opts: JudgeArgs;
    let template: string | undefined;
    try {
      const r = readArgs(args);
      if (r === 'help') {
        io.out(HELP);
        return 0;
      }
      opts = r;
      if (opts.template) template = readFileSync(resolve(io.cwd, opts.template), 'utf8');
    } catch (e) {
      if (e instanceof UsageError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
        io.err(`grpo-studio judge: ${(e as Error).message}\n`);
        return 2;
      }
      throw e;
    }
    const tiers = tiersOf(opts.policy);
    const apiKey = io.env.OPENAI_API_KEY;
    const baseURL = opts.baseURL ?? io.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1';
    if (tiers.includes('llm') && !apiKey && !opts.baseURL) {
      io.err('grpo-studio judge: the llm tier needs OPENAI_API_KEY in the environment (or --base-url for a server without keys)\n');
      return 2;
    }

    const path = resolve(io.cwd, opts.file);
    const items: JudgeItem[] = [];
    /** Per item: the file its completion came from (its verdict cache sits beside it). */
    const files: string[] = [];
    let format: string;
    let folder = false;
    try {
      const source = await openSource(path, opts.source);
      format = `${source.format} (${source.why})`;
      folder = await isDirectory(path);
      const keys = new GroupKeys();
      const summary = await source.read((rec, loc) => {
        items.push(judgeItemOf(rec, { line: loc.line, group: keys.keyOf(rec) }));
        files.push(loc.file);
      });
      reportSource(io, opts.file, path, summary);
      if (items.length === 0) {
        const bad = summary.badLines.length ? `; ${summary.badLines.length} bad line(s), above` : '';
        io.err(`grpo-studio judge: no completions to judge in ${opts.file}, read as ${format}${bad}\n`);
        return 1;
      }
    } catch (e) {
      io.err(`grpo-studio judge: cannot read ${opts.file}: ${oneLine(e)}\n`);
      return 2;
    }
    const shownFile = (i: number): string | undefined => (folder ? relative(path, files[i]!) : undefined);

    const caches = opts.cache ? VerdictCaches.shared(resolve(io.cwd, opts.cache)) : VerdictCaches.perFile();
    let opened: OpenJudges | undefined;
    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      opened = await openJudges({
        policy: opts.policy,
        ...(opts.localModel ? { localModelDir: resolve(io.cwd, opts.localModel) } : {}),
        llm: {
          baseURL,
          model: opts.model,
          apiKey: apiKey ?? 'no-key',
          concurrency: opts.concurrency,
          timeoutMs: opts.timeoutMs,
          ...(template ? { template } : {}),
          ...(opts.price ? { prices: { [opts.model]: opts.price } } : {}),
          ...(opts.batch ? { batch: { pollMs: 10_000, onStatus: (s: string, id: string) => io.err(`batch ${id}: ${s}\n`) } } : {}),
        },
      });
      const { judges, llm } = opened;
      caches.route(items.map((item, i) => ({ item, file: files[i]! })), judges);
      for (const c of caches.caches) if (c.skippedLines.length > 0) io.err(`grpo-studio judge: skipped ${c.skippedLines.length} unreadable line(s) in ${c.path}\n`);
      if (llm) {
        io.err(`llm estimate (at most): ${estimateLine(llmEstimate(llm, items, { get: (k) => caches.peek(k) }))}\n`);
      }

      const results = await judgeCompletions(items, opts.policy, judges, { cache: caches, signal: controller.signal, onJudged: (r) => io.out(outputLine(r, shownFile(r.index)) + '\n') });
      const summary = judgeTotals(results, llm);
      const s = summary;
      if (opts.json) io.out(JSON.stringify(summary) + '\n');
      else {
        io.err(`judged ${s.judged}: ${s.aligned} aligned, ${s.misaligned} misaligned, ${s.unparseable} uncertain or unparseable; ${s.failed} failed; ${s.cached} from cache\n`);
      }
      if (llm) io.err(`llm used: ${summary.calls} requests, ${summary.prompt_tokens} prompt + ${summary.completion_tokens} completion tokens${summary.dollars === null ? '' : `, $${summary.dollars.toFixed(4)}`}\n`);
      return s.failed > 0 ? 1 : 0;
    } catch (e) {
      io.err(`grpo-studio judge: ${oneLine(e)}\n`);
      return 2;
    } finally {
      process.off('SIGINT', onSigint);
      caches.close();
      await opened?.close();
    }
  },
};
