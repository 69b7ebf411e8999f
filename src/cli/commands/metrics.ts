/**
 * `grpo-studio metrics <file | folder | run> [--json]`: a run's training metrics from any source
 * the Run Metrics panel reads, through the same core reader (src/core/training/metric-sources).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { latestPerStep, MetricsPathError, readMetrics, type MetricsRead } from '../../core/training/metric-sources';
import type { MetricPoint } from '../../core/training/metrics';
import { findRunId, runDir, runsRoot } from '../../core/training/run-folder';
import { parseArgs, UsageError, type CliIO, type Command } from '../io';

const HELP = `usage: grpo-studio metrics <path | run> [--json]

Prints a training run's metrics, one value per (step, name), sorted by step. <path> is any
source the Run Metrics panel reads:
  a run folder (.grpo-studio/runs/<id>/, or a run id / unique prefix from the workspace):
                   its stdout.log + stderr.log, and the trainer_state / easyr1_log its profile names
  trainer_state.json, or a folder holding one (output_dir: its own, else the newest checkpoint-N's)
  EasyR1's experiment_log.jsonl, or its folder
  any other file:  a captured stdout log (HF Trainer dict lines, either float or '0.0123' string
                   form, tqdm bars, verl "step:N - name:value" lines, Ray prefixes)
When sources log the same (step, name), the one read last wins (trainer_state.json, at full
precision, is read after the stdout logs), as the panel's charts keep them.
--json   one JSON line per point: {"step": N, "name": "...", "value": x}. JSON has no NaN or
         Infinity: such a point has "value": null and "value_text": "NaN", "Infinity" or
         "-Infinity".
Bad lines and notes go to stderr. Exit 0 when metrics were read, 1 when the sources hold none,
2 for bad usage or a path that cannot be read.
`;

/** JSON has no NaN / Infinity: null, with the value spelled out beside it. */
export function pointJson(p: MetricPoint): string {
  if (Number.isFinite(p.value)) return JSON.stringify({ step: p.step, name: p.name, value: p.value });
  return JSON.stringify({ step: p.step, name: p.name, value: null, value_text: String(p.value) });
}

/** Six significant digits, trailing zeros dropped: 0.0160000 -> 0.016, 6.66667e-6 stays. */
const shown = (v: number): string =>
  Number.isFinite(v) && !Number.isInteger(v) ? v.toPrecision(6).replace(/(\.\d*?)0+(?=e|$)/, '$1').replace(/\.(?=e|$)/, '') : String(v);

function table(read: MetricsRead, points: MetricPoint[]): string {
  const head = read.sources.map((s) => `# ${s.kind}: ${s.files.join(', ')}`);
  const rows = [['STEP', 'NAME', 'VALUE'], ...points.map((p) => [String(p.step), p.name, shown(p.value)])];
  const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return [...head, ...rows.map((r) => `${r[0]!.padStart(w[0]!)}  ${r[1]!.padEnd(w[1]!)}  ${r[2]}`)].join('\n') + '\n';
}

/** A path as given, else a run id (or unique prefix) of the workspace's runs. */
function locate(arg: string, io: CliIO): string {
  const path = resolve(io.cwd, arg);
  if (existsSync(path) || !existsSync(runsRoot(io.cwd))) return path;
  try {
    return runDir(io.cwd, findRunId(io.cwd, arg));
  } catch (e) {
    // A prefix of several runs is worth saying; otherwise reading the path reports it missing.
    if (/ matches \d+ runs/.test((e as Error).message)) throw new MetricsPathError((e as Error).message);
    return path;
  }
}

export const command: Command = {
  async run(args: string[], io: CliIO): Promise<number> {
    let arg: string;
    let json: boolean;
    try {
      const a = parseArgs(args, { flags: ['help', 'json'] });
      if (a.flags.has('help')) {
        io.out(HELP);
        return 0;
      }
      if (a.positionals.length !== 1) throw new UsageError('metrics needs exactly one <path> (a file, a folder or a run id)');
      arg = a.positionals[0]!;
      json = a.flags.has('json');
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(`grpo-studio metrics: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    let path: string;
    let read: MetricsRead;
    try {
      path = locate(arg, io);
      read = readMetrics(path);
    } catch (e) {
      if (!(e instanceof MetricsPathError)) throw e;
      io.err(`grpo-studio metrics: ${e.message}\n`);
      return 2;
    }
    for (const b of read.bad) io.err(`grpo-studio metrics: ${b.file}${b.line !== undefined ? `:${b.line}` : ''}: ${b.error}\n`);
    for (const n of read.notes) io.err(`grpo-studio metrics: note: ${n}\n`);
    if (!read.sources.length) {
      io.err(`grpo-studio metrics: no metrics source in ${path} (looked for a run folder's launch.json, trainer_state.json, checkpoint-N/trainer_state.json, experiment_log.jsonl)\n`);
      return 1;
    }
    const points = latestPerStep(read.points);
    if (!points.length) {
      io.err(`grpo-studio metrics: no metrics in ${read.sources.flatMap((s) => s.files).join(', ')}\n`);
      return 1;
    }
    io.out(json ? points.map(pointJson).join('\n') + '\n' : table(read, points));
    return 0;
  },
};
