/**
 * Eval profiles: the `evals` list of `.vscode/grpo-studio.json`, beside the training `profiles`
 * (docs/eval-profiles.md). Each names its benchmarks, the command that writes
 * a checkpoint's predictions on each (`{checkpoint}`, `{output}` and a few more placeholders),
 * the metric that scores them, the run folders whose checkpoints it evaluates, and whether a new
 * `checkpoint-N` there is evaluated by itself. Every problem names the file's line and the field.
 */
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { shellQuote } from '../training/profile';
import { readSlurmOptions, type SlurmOptions } from '../training/slurm-profile';
import { jsonValueLines, lineOf } from './jsonLines';
import { parseMetric, type MetricName } from './metrics';

export interface EvalBenchmark {
  id: string;
  label: string;
  metric: MetricName;
  domain?: 'ood' | 'in-domain';
  headline?: string;
  /** argv template, or one shell line with `shell: true`. */
  command: string[] | string;
  shell: boolean;
  /** Working directory template, relative to the workspace folder (default: the folder). */
  cwd?: string;
  env?: Record<string, string>;
  /** The predictions file's name inside the checkpoint's results folder (default `{benchmark}.jsonl`). */
  predictions: string;
  format?: 'auto' | 'jsonl' | 'lmms-eval' | 'vlmevalkit';
}

export interface EvalProfile {
  name: string;
  /** Absolute: run folders whose `checkpoint-N` / `global_step_N` are evaluated (and watched). */
  checkpoints: string[];
  /** Absolute: the model before training, evaluated as checkpoint `base` (step 0). */
  base?: string;
  /** Absolute: `<results>/<checkpoint>/<predictions>`; default `.grpo-studio/eval/<name>`. */
  results: string;
  onNewCheckpoint: boolean;
  /** A new checkpoint folder counts as written once nothing in it changed for this long. */
  settleSeconds: number;
  benchmarks: EvalBenchmark[];
  /** Where each benchmark's run happens: this machine (default) or a Slurm job, as for training runs (docs/slurm.md). */
  target?: 'slurm';
  slurm?: SlurmOptions;
}

export interface EvalProblem {
  /** 1-based line in the file, when the text was given. */
  line?: number;
  /** JSON path of the value, e.g. `evals[0].benchmarks[1].command`. */
  field: string;
  message: string;
}

export class EvalProfileError extends Error {
  constructor(
    readonly problems: EvalProblem[],
    readonly file: string,
  ) {
    super(problems.map((p) => `${file}:${p.line ?? 1}: ${p.field}: ${p.message}`).join('\n'));
  }
}

/** Placeholders a command, cwd or env value may use; the predictions name only the first three. */
export const COMMAND_PLACEHOLDERS = ['checkpoint', 'output', 'results', 'benchmark', 'name', 'step', 'workspaceFolder'] as const;
const NAME_PLACEHOLDERS = ['benchmark', 'name', 'step'] as const;
type Placeholder = (typeof COMMAND_PLACEHOLDERS)[number];

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const PROFILE_KEYS = new Set(['name', 'checkpoints', 'base', 'results', 'onNewCheckpoint', 'settleSeconds', 'benchmarks', 'target', 'slurm']);
const BENCH_KEYS = new Set(['id', 'label', 'metric', 'domain', 'headline', 'command', 'shell', 'cwd', 'env', 'predictions', 'format']);
const SAFE_ID = /^[A-Za-z0-9][\w.+-]*$/;

/**
 * The names a template uses, or a problem: `{name}` is a placeholder, `{{` and `}}` are literal
 * braces; `${…}` is the run's own substitution (`${workspaceFolder}`, `${env:NAME}`), anything
 * else there is a typo of ours.
 */
export function templateProblem(t: string, allowed: readonly string[]): string | undefined {
  for (const m of t.matchAll(/\$\{([^}]*)\}/g)) {
    const v = m[1]!;
    if (v === 'workspaceFolder' || v.startsWith('env:')) continue;
    return (allowed as readonly string[]).includes(v) ? `write {${v}}, not \${${v}}` : `unknown variable \${${v}} (only \${workspaceFolder} and \${env:NAME} are substituted with $)`;
  }
  const stripped = t.replace(/\$\{[^}]*\}/g, '').replace(/\{\{|\}\}/g, '');
  for (const m of stripped.matchAll(/\{([^{}]*)\}/g)) {
    if (!(allowed as readonly string[]).includes(m[1]!)) return `unknown placeholder {${m[1]}} (known: ${allowed.map((a) => `{${a}}`).join(', ')}; {{ and }} are literal braces)`;
  }
  return undefined;
}

/**
 * `{name}` replaced by its value; `{{`/`}}` become braces. In a shell line every value is
 * quoted, so a checkpoint path with spaces or `;` stays one argument and runs nothing.
 */
export function expandTemplate(t: string, values: Partial<Record<string, string>>, o: { shell?: boolean } = {}): string {
  return t.replace(/\{\{|\}\}|\$\{[^}]*\}|\{([^{}]*)\}/g, (m, name: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    if (name === undefined) return m; // ${…}: left to the run's own substitution
    const v = values[name];
    if (v === undefined) throw new Error(`no value for {${name}}`);
    return o.shell ? shellQuote(v) : v;
  });
}

/** Validate the `evals` section of a parsed profiles file; returns the good profiles and every problem. */
export function validateEvalProfiles(raw: unknown, workspace: string): { profiles: EvalProfile[]; problems: EvalProblem[] } {
  const problems: EvalProblem[] = [];
  const profiles: EvalProfile[] = [];
  if (!isObj(raw)) return { profiles, problems: [{ field: '(top)', message: 'the file must hold a JSON object' }] };
  if (raw.evals === undefined) return { profiles, problems };
  if (!Array.isArray(raw.evals)) return { profiles, problems: [{ field: 'evals', message: 'must be a list of eval profiles' }] };
  const abs = (p: string): string => resolve(workspace, p.replace(/\$\{workspaceFolder\}/g, workspace));
  const names = new Set<string>();
  raw.evals.forEach((e, i) => {
    const at = `evals[${i}]`;
    const before = problems.length;
    const bad = (field: string, message: string): void => void problems.push({ field: field ? `${at}.${field}` : at, message });
    if (!isObj(e)) return bad('', 'must be an object');
    for (const k of Object.keys(e)) if (!PROFILE_KEYS.has(k)) bad(k, 'is not an eval profile field');
    const name = typeof e.name === 'string' && SAFE_ID.test(e.name) ? e.name : undefined;
    if (!name) bad('name', 'must be a name of letters, digits, . _ + - (it names the results folder)');
    else if (names.has(name)) bad('name', `"${name}" is used by another eval profile`);
    else names.add(name);
    const paths = (v: unknown, field: string): string[] => {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p === '')) {
        bad(field, 'must be a folder path or a list of them');
        return [];
      }
      return (list as string[]).map(abs);
    };
    const checkpoints = e.checkpoints === undefined ? [] : paths(e.checkpoints, 'checkpoints');
    const base = e.base === undefined ? undefined : paths(e.base, 'base')[0];
    if (e.base !== undefined && typeof e.base !== 'string') bad('base', 'must be one folder path');
    const results = e.results === undefined ? undefined : paths(e.results, 'results')[0];
    if (e.onNewCheckpoint !== undefined && typeof e.onNewCheckpoint !== 'boolean') bad('onNewCheckpoint', 'must be true or false');
    if (e.onNewCheckpoint === true && checkpoints.length === 0) bad('onNewCheckpoint', 'needs "checkpoints": the run folder(s) to watch');
    if (e.target !== undefined && e.target !== 'local' && e.target !== 'slurm') bad('target', 'must be "local" or "slurm"');
    if (e.target !== 'slurm' && e.slurm !== undefined) bad('slurm', 'is only used with "target": "slurm"');
    const slurm = e.target === 'slurm' ? readSlurmOptions(e.slurm, bad) : undefined;
    const settle = e.settleSeconds ?? 30;
    if (typeof settle !== 'number' || !(settle >= 0)) bad('settleSeconds', 'must be a number of seconds ≥ 0');
    const benchmarks: EvalBenchmark[] = [];
    if (!Array.isArray(e.benchmarks) || e.benchmarks.length === 0) bad('benchmarks', 'must be a non-empty list');
    else {
      const ids = new Set<string>();
      e.benchmarks.forEach((b, k) => {
        const bf = `benchmarks[${k}]`;
        const id = isObj(b) ? b.id : undefined;
        if (typeof id === 'string' && ids.has(id)) bad(`${bf}.id`, `"${id}" is used by another benchmark of this profile`);
        if (typeof id === 'string') ids.add(id);
        const b2 = readBenchmark(b, (f, m) => bad(f ? `${bf}.${f}` : bf, m));
        if (b2) benchmarks.push(b2);
      });
    }
    if (problems.length > before || !name) return;
    const p: EvalProfile = { name, checkpoints, results: results ?? join(workspace, '.grpo-studio', 'eval', name), onNewCheckpoint: e.onNewCheckpoint === true, settleSeconds: settle as number, benchmarks };
    if (base) p.base = base;
    if (e.target === 'slurm') {
      p.target = 'slurm';
      p.slurm = slurm ?? {};
    }
    profiles.push(p);
  });
  return { profiles, problems };
}

function readBenchmark(b: unknown, bad: (field: string, message: string) => void): EvalBenchmark | undefined {
  if (!isObj(b)) {
    bad('', 'must be an object');
    return undefined;
  }
  const before = { n: 0 };
  const fail = (f: string, m: string): void => {
    before.n++;
    bad(f, m);
  };
  for (const k of Object.keys(b)) if (!BENCH_KEYS.has(k)) fail(k, 'is not a benchmark field');
  const id = typeof b.id === 'string' && SAFE_ID.test(b.id) ? b.id : undefined;
  if (!id) fail('id', 'must be a name of letters, digits, . _ + - (it names the predictions file)');
  const metric = typeof b.metric === 'string' ? parseMetric(b.metric) : null;
  if (!metric) fail('metric', 'must be exam-score, letter-f1, exact-match, vqa, pope or pass@K');
  if (b.label !== undefined && (typeof b.label !== 'string' || !b.label)) fail('label', 'must be a non-empty string');
  if (b.domain !== undefined && b.domain !== 'ood' && b.domain !== 'in-domain') fail('domain', 'must be "ood" or "in-domain"');
  if (b.headline !== undefined) {
    const parts = metric === 'pope' ? ['accuracy', 'precision', 'recall', 'f1', 'yes_ratio'] : metric === 'letter-f1' ? ['precision', 'recall', 'f1'] : [];
    if (!parts.includes(b.headline as string)) fail('headline', parts.length ? `must be one of ${parts.join(', ')}` : `${metric ?? 'this metric'} has one number only`);
  }
  const shell = b.shell ?? false;
  if (typeof shell !== 'boolean') fail('shell', 'must be true or false');
  const c = b.command;
  const check = (t: string, field: string, allowed: readonly string[]): void => {
    const p = templateProblem(t, allowed);
    if (p) fail(field, p);
  };
  if (typeof c === 'string') {
    if (shell !== true) fail('command', 'a string command needs "shell": true; otherwise give an argv array');
    else if (!c.trim()) fail('command', 'must not be empty');
    else check(c, 'command', COMMAND_PLACEHOLDERS);
  } else if (Array.isArray(c) && c.length > 0) {
    c.forEach((a, i) => (typeof a !== 'string' ? fail(`command[${i}]`, 'must be a string') : check(a, `command[${i}]`, COMMAND_PLACEHOLDERS)));
    if (!c.some((a) => typeof a === 'string' && a.includes('{output}'))) fail('command', 'never names {output}: the runner must be told where to write the predictions');
  } else fail('command', 'must be an argv array of strings (or a string with "shell": true)');
  if (typeof c === 'string' && shell === true && !c.includes('{output}')) fail('command', 'never names {output}: the runner must be told where to write the predictions');
  if (b.cwd !== undefined) {
    if (typeof b.cwd !== 'string' || !b.cwd) fail('cwd', 'must be a folder path');
    else check(b.cwd, 'cwd', COMMAND_PLACEHOLDERS);
  }
  if (b.env !== undefined) {
    if (!isObj(b.env)) fail('env', 'must be an object of NAME -> string');
    else for (const [k, v] of Object.entries(b.env)) typeof v !== 'string' ? fail(`env.${k}`, 'must be a string') : check(v, `env.${k}`, COMMAND_PLACEHOLDERS);
  }
  const predictions = b.predictions ?? '{benchmark}.jsonl';
  if (typeof predictions !== 'string' || !predictions || /[\\/]/.test(predictions) || predictions.startsWith('.')) fail('predictions', 'must be a file name (no folder), e.g. "{benchmark}.jsonl"');
  else check(predictions, 'predictions', NAME_PLACEHOLDERS);
  if (b.format !== undefined && !['auto', 'jsonl', 'lmms-eval', 'vlmevalkit'].includes(b.format as string)) fail('format', 'must be auto, jsonl, lmms-eval or vlmevalkit');
  if (before.n || !id || !metric) return undefined;
  const out: EvalBenchmark = { id, label: (b.label as string | undefined) ?? id, metric, command: c as string[] | string, shell: shell === true, predictions: predictions as string };
  if (b.domain) out.domain = b.domain as 'ood' | 'in-domain';
  if (b.headline) out.headline = b.headline as string;
  if (b.cwd) out.cwd = b.cwd as string;
  if (isObj(b.env)) out.env = b.env as Record<string, string>;
  if (b.format) out.format = b.format as EvalBenchmark['format'];
  return out;
}

/** Parse a profiles file's text; throws EvalProfileError naming the file and each problem's line. */
export function parseEvalProfiles(text: string, file: string, workspace: string): EvalProfile[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : /line (\d+)/.exec(msg)?.[1];
    throw new EvalProfileError([{ field: '(file)', message: `invalid JSON: ${msg}`, ...(line ? { line: Number(line) } : {}) }], file);
  }
  const { profiles, problems } = validateEvalProfiles(raw, workspace);
  if (problems.length) {
    const lines = jsonValueLines(text);
    const withLines = problems.map((p) => {
      const l = lineOf(lines, p.field);
      return l === undefined ? p : { ...p, line: l };
    });
    throw new EvalProfileError(withLines, file);
  }
  return profiles;
}

/** The workspace's eval profiles: none when the file is missing; EvalProfileError on a bad one. */
export function loadEvalProfiles(file: string, workspace: string): EvalProfile[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new EvalProfileError([{ field: '(file)', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }], file);
  }
  return parseEvalProfiles(text, file, workspace);
}

/** One checkpoint as an evaluation sees it: its folder, the id its results are kept under, its step. */
export interface CheckpointRef {
  path: string;
  id: string;
  step?: number;
}

/** `base` for the profile's base model, else the folder's name; the step is the number it ends with. */
export function checkpointRef(profile: EvalProfile, path: string): CheckpointRef {
  const p = resolve(path);
  if (profile.base && p === resolve(profile.base)) return { path: p, id: 'base', step: 0 };
  const id = basename(p);
  const m = /(\d+)$/.exec(id);
  return m ? { path: p, id, step: Number(m[1]) } : { path: p, id };
}

/** Where a checkpoint's results go, and the file one benchmark writes. */
export const resultsDir = (profile: EvalProfile, c: CheckpointRef): string => join(profile.results, c.id);

export function predictionsFile(profile: EvalProfile, b: EvalBenchmark, c: CheckpointRef): string {
  return join(resultsDir(profile, c), expandTemplate(b.predictions, { benchmark: b.id, name: c.id, step: c.step === undefined ? '' : String(c.step) }));
}

/** What one benchmark's run starts with: every placeholder filled, paths absolute. */
export interface EvalPlan {
  benchmark: string;
  command: string[] | string;
  shell: boolean;
  cwd: string;
  env: Record<string, string>;
  output: string;
}

export function planEval(profile: EvalProfile, b: EvalBenchmark, c: CheckpointRef, workspace: string): EvalPlan {
  const output = predictionsFile(profile, b, c);
  const values: Record<Placeholder, string> = {
    checkpoint: c.path,
    output,
    results: resultsDir(profile, c),
    benchmark: b.id,
    name: c.id,
    step: c.step === undefined ? '' : String(c.step),
    workspaceFolder: resolve(workspace),
  };
  // The run's own ${…} substitution sees the expanded text: a value holding "${" would be read as a variable.
  for (const k of ['checkpoint', 'output'] as const) if (values[k].includes('${')) throw new Error(`${k} path ${values[k]} contains "\${", which the run would read as a variable`);
  const x = (t: string, shell = false): string => expandTemplate(t, values, { shell });
  const command = typeof b.command === 'string' ? x(b.command, true) : b.command.map((a) => x(a));
  const cwd = b.cwd ? x(b.cwd) : '.';
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.env ?? {})) env[k] = x(v);
  return { benchmark: b.id, command, shell: b.shell, cwd: isAbsolute(cwd) ? cwd : resolve(workspace, cwd), env, output };
}
