/**
 * `grpo-studio eval <predictions> --metric M [--json] [--compare <other>]`: one benchmark's metric
 * with its 95% interval, and optionally a paired test against a second checkpoint's predictions
 * (src/core/eval; docs/eval.md).
 */
import { resolve } from 'node:path';
import { comparePaired, type Comparison } from '../../core/eval/compare';
import { evaluate, parseMetric, type MetricName, type MetricResult } from '../../core/eval/metrics';
import { PredictionsError, readPredictions, type PredictionFormat } from '../../core/eval/readers';
import type { Interval } from '../../core/eval/stats';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';

const HELP = `usage: grpo-studio eval <predictions> --metric <metric> [--json] [--compare <predictions>]
                        [--format auto|jsonl|lmms-eval|vlmevalkit]

Scores one predictions file and prints the metric with its Wilson 95% interval.
<predictions>  our JSONL ({"id", "prediction", "answer"} or {"id", "correct"} per line),
               lmms-eval's <date>_samples_<task>.jsonl, or VLMEvalKit's prediction .tsv/.csv/.json
--metric       exam-score   a question counts when its set of letters equals the gold set
               letter-f1    micro precision / recall / F1 over letters
               exact-match  normalised string equality with the answer (or any of a list)
               vqa          the official VQA accuracy over the annotators' answers
               pope         accuracy, precision, recall, F1, yes ratio (POPE's yes/no reading)
               pass@K       the unbiased pass@k estimator, e.g. pass@1, pass@8
--compare      a second checkpoint's predictions on the same questions: paired difference and
               test (exact McNemar for 0/1 metrics, paired bootstrap otherwise)
--json         the last line is one JSON object (fractions 0-1):
               {"metric","value","ci95":[lo,hi],"n"}; letter-f1: {"precision","recall","f1",...};
               pope: {"accuracy","precision","recall","f1","yes_ratio",...}; --compare adds "compare"
Bad lines go to stderr as <file>:<line>: <error>; the others are scored. Exit 0 when questions
were scored, 1 when none could be, 2 for bad usage or a file that cannot be read.
`;

/** Control characters from a file (terminal escapes in a hostile line) shown as \\uXXXX, not sent to the terminal. */
export const printable = (s: string): string => s.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
const ci = (c: Interval): string => `[${pct(c[0])}, ${pct(c[1])}]`;
const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${(100 * Math.abs(v)).toFixed(2)} pts`;

export function resultJson(r: MetricResult): Record<string, unknown> {
  if (r.parts) {
    const o: Record<string, unknown> = { metric: r.metric };
    for (const [k, p] of Object.entries(r.parts)) o[k] = p.value;
    o.ci95 = Object.fromEntries(Object.entries(r.parts).map(([k, p]) => [k, p.ci95]));
    o.n = r.n;
    return o;
  }
  return { metric: r.metric, value: r.value, ci95: r.ci95, n: r.n };
}

export function comparisonJson(c: Comparison): Record<string, unknown> {
  return {
    n: c.n,
    first: c.first,
    second: c.second,
    delta: c.delta,
    delta_ci95: c.delta_ci95,
    ...c.test,
    significant: c.significant,
    only_first: c.only_first,
    only_second: c.only_second,
  };
}

function human(r: MetricResult, file: string, format: string): string {
  const lines = [`# ${file} (${format}): ${r.n} question${r.n === 1 ? '' : 's'} scored`];
  if (r.parts) for (const [k, p] of Object.entries(r.parts)) lines.push(`${r.metric} ${k}: ${pct(p.value)}  95% CI ${ci(p.ci95)}`);
  else lines.push(`${r.metric}: ${pct(r.value)}  95% CI ${ci(r.ci95)}  n=${r.n}`);
  return lines.join('\n') + '\n';
}

export function comparisonText(c: Comparison, other: string): string {
  const t = c.test;
  const p = t.p_value < 0.001 ? t.p_value.toExponential(2) : t.p_value.toPrecision(3);
  const test = t.test === 'mcnemar-exact' ? `exact McNemar (b=${t.b}, c=${t.c}) p=${p}` : `paired bootstrap (${t.resamples} resamples) p=${p}`;
  const lines = [
    `vs ${other}: ${pct(c.first)} → ${pct(c.second)} (${signed(c.delta)}, 95% CI ${signed(c.delta_ci95[0])} … ${signed(c.delta_ci95[1])}) on ${c.n} shared questions`,
    `  ${test}: ${c.significant ? 'a real difference (p < 0.05)' : 'within noise (p ≥ 0.05)'}`,
  ];
  if (c.only_first || c.only_second) lines.push(`  not paired: ${c.only_first} only in the first file, ${c.only_second} only in ${other}`);
  return lines.join('\n') + '\n';
}

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    let file: string;
    let metric: MetricName;
    let json: boolean;
    let other: string | undefined;
    let format: PredictionFormat;
    let shown: string[];
    try {
      const a = parseArgs(args, { flags: ['help', 'json'], options: ['metric', 'compare', 'format'] });
      if (a.flags.has('help')) {
        io.out(HELP);
        return 0;
      }
      if (a.positionals.length !== 1) throw new UsageError('eval needs exactly one <predictions> file');
      const m = a.options.get('metric');
      if (!m) throw new UsageError('--metric is needed: exam-score, letter-f1, exact-match, vqa, pope or pass@K');
      const parsed = parseMetric(m);
      if (!parsed) throw new UsageError(`unknown metric '${m}' (exam-score, letter-f1, exact-match, vqa, pope, pass@K with K ≥ 1)`);
      const f = a.options.get('format') ?? 'auto';
      if (!['auto', 'jsonl', 'lmms-eval', 'vlmevalkit'].includes(f)) throw new UsageError(`unknown --format '${f}'`);
      format = f as PredictionFormat;
      metric = parsed;
      file = resolve(io.cwd, a.positionals[0]!);
      other = a.options.has('compare') ? resolve(io.cwd, a.options.get('compare')!) : undefined;
      json = a.flags.has('json');
      // Human output names the files as they were given.
      shown = [a.positionals[0]!, ...(other ? [a.options.get('compare')!] : [])];
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(`grpo-studio eval: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    const results: MetricResult[] = [];
    const formats: string[] = [];
    for (const f of other ? [file, other] : [file]) {
      try {
        const set = readPredictions(f, format);
        const r = evaluate(set.items, metric);
        for (const b of [...set.bad, ...r.bad].sort((x, y) => x.line - y.line)) io.err(`grpo-studio eval: ${b.file}:${b.line}: ${printable(b.error)}\n`);
        for (const n of set.notes) io.err(`grpo-studio eval: note: ${n}\n`);
        results.push(r);
        formats.push(set.format);
      } catch (e) {
        if (!(e instanceof PredictionsError)) throw e;
        io.err(`grpo-studio eval: ${e.message}\n`);
        return 2;
      }
    }
    const [r, o] = results as [MetricResult, MetricResult | undefined];
    const empty = results.find((x) => x.n === 0);
    if (empty) {
      io.err(`grpo-studio eval: no question could be scored with ${metric} in ${empty === r ? file : other}\n`);
      return 1;
    }
    const cmp = o ? comparePaired(r, o) : undefined;
    if (cmp && cmp.n === 0) {
      io.err(`grpo-studio eval: ${file} and ${other} share no question id: nothing to pair\n`);
      return 1;
    }
    if (json) {
      const out = resultJson(r);
      if (cmp) out.compare = { file: other, ...comparisonJson(cmp), other: resultJson(o!) };
      io.out(JSON.stringify(out) + '\n');
    } else {
      io.out(human(r, shown[0]!, formats[0]!));
      if (cmp) io.out(comparisonText(cmp, shown[1]!));
    }
    return 0;
  },
};
