/**
 * `grpo-studio report <eval.json | folder> [--out <path>] [--json]`: the checkpoints × benchmarks
 * matrix computed from prediction files, written as Markdown and one self-contained HTML file in
 * the seeds' table shapes (src/core/eval; docs/eval.md "Reports").
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadManifest } from '../../core/eval/folder';
import { ManifestError } from '../../core/eval/manifest';
import { buildMatrix, type Matrix } from '../../core/eval/matrix';
import { renderHtml } from '../../core/eval/reportHtml';
import { renderMarkdown } from '../../core/eval/reportMd';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';
import { printable } from './eval';

const HELP = `usage: grpo-studio report <eval.json | folder> [--out <path>] [--json]

Computes every checkpoint's metric on every benchmark from their prediction files, each with its
95% interval and its paired difference from the base checkpoint, a text-only bias probe per
benchmark, and writes <path>.md and <path>.html (default: ./report). The HTML file is
self-contained: tables, the scaling plot as inline SVG, no script and nothing fetched.
<eval.json>  a manifest: checkpoints (id, step, method, rewards, train_data, alignment, ...),
             benchmarks (id, metric, domain) and predictions (checkpoint, benchmark, file)
<folder>     one holding eval.json, or laid out as <checkpoint>/<benchmark>.jsonl|.json|.tsv|.csv
             (steps from the checkpoint names, metrics from the gold answers)
--json       also print the matrix (values, intervals, deltas, bias probes) as one JSON line
Bad lines and unreadable files go to stderr and into the report's Problems section. Exit 0 when
the reports were written, 1 when no cell could be computed, 2 for bad usage or a bad manifest.
`;

/** The matrix for --json: everything but the per-question rows. */
export function matrixJson(m: Matrix): Record<string, unknown> {
  return { title: m.title, base: m.base, checkpoints: m.checkpoints, benchmarks: m.benchmarks, cells: m.cells, bias: m.bias, bad_lines: m.bad.length, errors: m.errors };
}

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    let input: string;
    let out: string;
    let json: boolean;
    try {
      const a = parseArgs(args, { flags: ['help', 'json'], options: ['out'] });
      if (a.flags.has('help')) {
        io.out(HELP);
        return 0;
      }
      if (a.positionals.length !== 1) throw new UsageError('report needs exactly one <eval.json | folder>');
      input = resolve(io.cwd, a.positionals[0]!);
      out = resolve(io.cwd, (a.options.get('out') ?? 'report').replace(/\.(md|html)$/i, ''));
      json = a.flags.has('json');
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(`grpo-studio report: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    let matrix: Matrix;
    try {
      matrix = buildMatrix(loadManifest(input));
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      io.err(`grpo-studio report: ${e.message}\n`);
      return 2;
    }
    for (const e of matrix.errors) io.err(`grpo-studio report: ${printable(e.error)}\n`);
    for (const b of matrix.bad) io.err(`grpo-studio report: ${b.file}:${b.line}: ${printable(b.error)}\n`);
    if (!Object.keys(matrix.cells).length) {
      io.err(`grpo-studio report: no checkpoint × benchmark value could be computed from ${input}\n`);
      return 1;
    }
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(`${out}.md`, renderMarkdown(matrix));
    writeFileSync(`${out}.html`, renderHtml(matrix));
    const cells = Object.values(matrix.cells).reduce((s, r) => s + Object.keys(r).length, 0);
    io.out(`wrote ${out}.md and ${out}.html: ${matrix.checkpoints.length} checkpoints × ${matrix.benchmarks.length} benchmarks, ${cells} values (base: ${matrix.base})\n`);
    if (json) io.out(JSON.stringify(matrixJson(matrix)) + '\n');
    return 0;
  },
};
