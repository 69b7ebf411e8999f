/**
 * Run profiles: `.vscode/grpo-studio.json` holds `{ "profiles": [...] }`. Parsed once here into
 * typed `RunProfile`s; every problem names the profile and the field so the editor can point at it.
 * `planLaunch` turns a profile into the exact argv / cwd / env a run starts with.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { readSlurmOptions, readSweep, type SlurmOptions } from './slurm-profile';

export type RolloutFormat = 'auto' | 'v1' | 'trl' | 'verl' | 'vlm-r1' | 'easyr1' | 'swift';
export const ROLLOUT_FORMATS: readonly RolloutFormat[] = ['auto', 'v1', 'trl', 'verl', 'vlm-r1', 'easyr1', 'swift'];

export interface RunProfile {
  name: string;
  description?: string;
  /** argv array; a single string only with `shell: true` (then run by `/bin/sh -c`). */
  command: string[] | string;
  shell?: boolean;
  /** Relative to the workspace folder. */
  cwd?: string;
  env?: Record<string, string>;
  /** GPU indices; sets CUDA_VISIBLE_DEVICES and `${nproc}`. */
  gpus?: number[];
  rollouts?: { path: string; format: RolloutFormat };
  metrics?: { stdout?: boolean; trainer_state?: string; easyr1_log?: string };
  output_dir?: string;
  /** Name of the profile whose output this one starts from (SFT -> GRPO chains). */
  after?: string;
  /** Arguments appended when resuming; `${checkpoint}` is the newest checkpoint folder. */
  resume?: string[];
  /** Where the run happens: this machine (default) or a Slurm job (docs/slurm.md). */
  target?: 'local' | 'slurm';
  slurm?: SlurmOptions;
  /** Slurm array sweep: one task (and one run) per value, each seeing it as `${sweep}`. */
  sweep?: string[];
}

export interface ProfileProblem {
  profile?: string;
  field?: string;
  message: string;
}

export class ProfileError extends Error {
  constructor(
    readonly problems: ProfileProblem[],
    readonly file?: string,
  ) {
    super(problems.map((p) => (file ? `${file}: ` : '') + formatProblem(p)).join('\n'));
  }
}

export function formatProblem(p: ProfileProblem): string {
  const where = [p.profile !== undefined ? `profile "${p.profile}"` : '', p.field ? `"${p.field}"` : ''].filter(Boolean).join(' ');
  return where ? `${where}: ${p.message}` : p.message;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const KNOWN = new Set(['name', 'description', 'command', 'shell', 'cwd', 'env', 'gpus', 'rollouts', 'metrics', 'output_dir', 'after', 'resume', 'target', 'slurm', 'sweep']);

/** Validate parsed JSON. Returns every valid profile and every problem (never throws). */
export function validateProfiles(raw: unknown): { profiles: RunProfile[]; problems: ProfileProblem[] } {
  const problems: ProfileProblem[] = [];
  const profiles: RunProfile[] = [];
  // A file may hold only eval profiles (docs/eval.md): no training profiles is not a problem then.
  if (isObj(raw) && raw.profiles === undefined && raw.evals !== undefined) return { profiles, problems };
  if (!isObj(raw) || !Array.isArray(raw.profiles)) {
    return { profiles, problems: [{ field: 'profiles', message: 'the file must be an object with a "profiles" array' }] };
  }
  const seen = new Set<string>();
  raw.profiles.forEach((entry, i) => {
    const label = isObj(entry) && typeof entry.name === 'string' ? entry.name : `#${i + 1}`;
    const before = problems.length;
    const bad = (field: string | undefined, message: string) => problems.push({ profile: label, ...(field ? { field } : {}), message });
    const p = readProfile(entry, bad);
    if (p && seen.has(p.name)) bad('name', 'is used by another profile');
    if (p && problems.length === before) {
      seen.add(p.name);
      profiles.push(p);
    }
  });
  const byName = new Map(profiles.map((p) => [p.name, p]));
  for (const p of profiles) {
    if (p.after === undefined) continue;
    if (!byName.has(p.after)) problems.push({ profile: p.name, field: 'after', message: `names no profile ("${p.after}")` });
    else {
      try {
        resolveChain(profiles, p.name);
      } catch (e) {
        problems.push({ profile: p.name, field: 'after', message: (e as Error).message });
      }
    }
  }
  return { profiles, problems };
}

function readProfile(x: unknown, bad: (field: string | undefined, message: string) => void): RunProfile | undefined {
  if (!isObj(x)) {
    bad(undefined, 'must be an object');
    return undefined;
  }
  for (const k of Object.keys(x)) if (!KNOWN.has(k)) bad(k, 'is not a profile field');
  if (typeof x.name !== 'string' || !x.name.trim()) bad('name', 'must be a non-empty string');
  const shell = x.shell;
  if (shell !== undefined && typeof shell !== 'boolean') bad('shell', 'must be true or false');
  const c = x.command;
  if (typeof c === 'string') {
    if (shell !== true) bad('command', 'a string command needs "shell": true; otherwise give an argv array');
    else if (!c.trim()) bad('command', 'must not be empty');
  } else if (Array.isArray(c)) {
    if (c.length === 0) bad('command', 'must not be empty');
    c.forEach((a, i) => typeof a !== 'string' && bad(`command[${i}]`, 'must be a string'));
  } else bad('command', 'must be an argv array of strings (or a string with "shell": true)');
  for (const f of ['cwd', 'output_dir', 'after', 'description'] as const) {
    if (x[f] !== undefined && typeof x[f] !== 'string') bad(f, 'must be a string');
  }
  if (x.env !== undefined) {
    if (!isObj(x.env)) bad('env', 'must be an object of NAME -> string');
    else for (const [k, v] of Object.entries(x.env)) if (typeof v !== 'string') bad(`env.${k}`, 'must be a string');
  }
  let gpus: number[] | undefined;
  if (x.gpus !== undefined) {
    const list = typeof x.gpus === 'string' ? x.gpus.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : x.gpus;
    if (!Array.isArray(list)) bad('gpus', 'must be a list of GPU indices or a string like "0,1"');
    else {
      list.forEach((g, i) => (typeof g !== 'number' || !Number.isInteger(g) || g < 0) && bad(`gpus[${i}]`, 'must be a non-negative integer'));
      gpus = list as number[];
    }
  }
  if (x.rollouts !== undefined) {
    const r = x.rollouts;
    if (!isObj(r)) bad('rollouts', 'must be an object with "path" and "format"');
    else {
      if (typeof r.path !== 'string' || !r.path) bad('rollouts.path', 'must be a file, glob or folder path');
      if (r.format !== undefined && !(ROLLOUT_FORMATS as readonly unknown[]).includes(r.format)) {
        bad('rollouts.format', `must be one of ${ROLLOUT_FORMATS.join(', ')}`);
      }
    }
  }
  if (x.metrics !== undefined) {
    const m = x.metrics;
    if (!isObj(m)) bad('metrics', 'must be an object');
    else {
      for (const k of Object.keys(m)) if (!['stdout', 'trainer_state', 'easyr1_log'].includes(k)) bad(`metrics.${k}`, 'is not a metrics source');
      if (m.stdout !== undefined && typeof m.stdout !== 'boolean') bad('metrics.stdout', 'must be true or false');
      for (const k of ['trainer_state', 'easyr1_log']) if (m[k] !== undefined && typeof m[k] !== 'string') bad(`metrics.${k}`, 'must be a path');
    }
  }
  if (x.resume !== undefined && (!Array.isArray(x.resume) || x.resume.some((a) => typeof a !== 'string'))) {
    bad('resume', 'must be a list of strings');
  }
  const target = x.target;
  if (target !== undefined && target !== 'local' && target !== 'slurm') bad('target', 'must be "local" or "slurm"');
  const slurm = target === 'slurm' ? readSlurmOptions(x.slurm, (f, m) => bad(f, m)) : undefined;
  if (target !== 'slurm' && x.slurm !== undefined) bad('slurm', 'is only used with "target": "slurm"');
  const sweep = readSweep(x.sweep, (f, m) => bad(f, m));
  if (x.sweep !== undefined && target !== 'slurm') bad('sweep', 'needs "target": "slurm" (each value is one task of a Slurm array job)');
  if (target === 'slurm' && x.gpus !== undefined) bad('gpus', 'names GPUs of this machine; for a Slurm job use "slurm": {"gpusPerNode": N}');
  if (typeof x.name !== 'string') return undefined;
  const p: RunProfile = { name: x.name, command: c as string[] | string };
  if (shell === true) p.shell = true;
  if (typeof x.description === 'string') p.description = x.description;
  if (typeof x.cwd === 'string') p.cwd = x.cwd;
  if (isObj(x.env)) p.env = x.env as Record<string, string>;
  if (gpus) p.gpus = gpus;
  if (isObj(x.rollouts)) p.rollouts = { path: String(x.rollouts.path), format: (x.rollouts.format as RolloutFormat | undefined) ?? 'auto' };
  if (isObj(x.metrics)) p.metrics = x.metrics as RunProfile['metrics'];
  if (typeof x.output_dir === 'string') p.output_dir = x.output_dir;
  if (typeof x.after === 'string') p.after = x.after;
  if (Array.isArray(x.resume)) p.resume = x.resume as string[];
  if (target === 'slurm') {
    p.target = 'slurm';
    if (slurm) p.slurm = slurm;
  }
  if (sweep && target === 'slurm') p.sweep = sweep;
  return p;
}

/** Parse the text of a profiles file; throws ProfileError listing every problem. */
export function parseProfiles(text: string): RunProfile[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ProfileError([{ message: `invalid JSON: ${(e as Error).message}` }]);
  }
  const { profiles, problems } = validateProfiles(raw);
  if (problems.length) throw new ProfileError(problems);
  return profiles;
}

/** Where profiles live in a workspace. */
export const profilesPath = (workspace: string) => join(workspace, '.vscode', 'grpo-studio.json');

/** Read and parse a profiles file; throws ProfileError (or the read error, naming the file). */
export function loadProfiles(file: string): RunProfile[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read run profiles ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parseProfiles(text);
  } catch (e) {
    if (e instanceof ProfileError) throw new ProfileError(e.problems, file);
    throw e;
  }
}

/** The chain ending at `name`, first stage first (e.g. [sft, grpo]). Throws on unknown names or cycles. */
export function resolveChain(profiles: readonly RunProfile[], name: string): RunProfile[] {
  const byName = new Map(profiles.map((p) => [p.name, p]));
  const chain: RunProfile[] = [];
  const seen: string[] = [];
  let cur: string | undefined = name;
  while (cur !== undefined) {
    if (seen.includes(cur)) throw new Error(`"after" forms a cycle: ${[...seen, cur].join(' -> ')}`);
    seen.push(cur);
    const p = byName.get(cur);
    if (!p) throw new Error(seen.length === 1 ? `no profile named "${cur}"` : `"after" names no profile ("${cur}")`);
    chain.unshift(p);
    cur = p.after;
  }
  return chain;
}

/** What a run starts with, after variables are substituted and paths made absolute. */
export interface LaunchPlan {
  profile: string;
  argv: string[];
  shell: boolean;
  cwd: string;
  /** Only the profile's overrides (plus CUDA_VISIBLE_DEVICES); the caller's environment is the base. */
  env: Record<string, string>;
  outputDir?: string;
  rollouts?: { path: string; format: RolloutFormat };
  metrics: { stdout: boolean; trainerState?: string; easyr1Log?: string };
  gpus?: number[];
  resumedFrom?: string;
  /** Set for a Slurm job: the options the sbatch script is written from (docs/slurm.md). */
  slurm?: SlurmOptions;
  /** This run's task of a sweep (a Slurm array job). */
  sweep?: { index: number; value: string; count: number };
}

export interface PlanOptions {
  workspace: string;
  /** All profiles, so `after` can be resolved. */
  profiles: readonly RunProfile[];
  /** Checkpoint folder to resume from: appends the profile's `resume` arguments. */
  resumeFrom?: string;
  /** Overrides the profile's GPUs (e.g. a free-GPU suggestion). */
  gpus?: number[];
  /** Base environment for `${env:NAME}`. */
  env?: NodeJS.ProcessEnv;
  /** Which value of the profile's `sweep` this plan is for (default 0). */
  sweepIndex?: number;
}

export const DEFAULT_RESUME = ['--resume_from_checkpoint', '${checkpoint}'];

/** POSIX shell quoting for arguments appended to a shell command. */
export function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function planLaunch(profile: RunProfile, opts: PlanOptions): LaunchPlan {
  const ws = resolve(opts.workspace);
  const abs = (p: string) => (isAbsolute(p) ? p : join(ws, p));
  const chain = resolveChain(opts.profiles.some((p) => p.name === profile.name) ? opts.profiles : [...opts.profiles, profile], profile.name);
  const before = chain.length > 1 ? chain[chain.length - 2] : undefined;
  const slurm = profile.target === 'slurm';
  // A Slurm job's GPUs are on its nodes, not here: ${nproc} is the GPUs per node it asks for.
  const gpus = slurm ? undefined : (opts.gpus ?? profile.gpus);
  const vars: Record<string, string> = {
    workspaceFolder: ws,
    gpus: gpus ? gpus.join(',') : '',
    nproc: String((slurm ? profile.slurm?.gpusPerNode : gpus?.length) || 1),
  };
  const sweepIndex = opts.sweepIndex ?? 0;
  if (profile.sweep) {
    const v = profile.sweep[sweepIndex];
    if (v === undefined) throw new Error(`sweep index ${sweepIndex} is outside the profile's ${profile.sweep.length} values`);
    vars.sweep = v;
  }
  // The output folder itself may use ${workspaceFolder} but nothing that depends on it.
  if (profile.output_dir !== undefined) vars.output_dir = abs(sub(profile.output_dir, vars, opts.env));
  if (before?.output_dir !== undefined) vars['after.output_dir'] = abs(sub(before.output_dir, vars, opts.env));
  if (opts.resumeFrom !== undefined) vars.checkpoint = opts.resumeFrom;
  const s = (t: string) => sub(t, vars, opts.env);

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(profile.env ?? {})) env[k] = s(v);
  if (gpus) env.CUDA_VISIBLE_DEVICES = gpus.join(',');
  const resumeArgs = opts.resumeFrom !== undefined ? (profile.resume ?? DEFAULT_RESUME).map(s) : [];
  let argv: string[];
  if (typeof profile.command === 'string') argv = ['/bin/sh', '-c', [s(profile.command), ...resumeArgs.map(shellQuote)].join(' ')];
  else argv = [...profile.command.map(s), ...resumeArgs];
  const plan: LaunchPlan = {
    profile: profile.name,
    argv,
    shell: typeof profile.command === 'string',
    cwd: abs(s(profile.cwd ?? '.')),
    env,
    metrics: { stdout: profile.metrics?.stdout ?? true },
  };
  if (vars.output_dir) plan.outputDir = vars.output_dir;
  if (profile.rollouts) plan.rollouts = { path: abs(s(profile.rollouts.path)), format: profile.rollouts.format };
  if (profile.metrics?.trainer_state) plan.metrics.trainerState = abs(s(profile.metrics.trainer_state));
  if (profile.metrics?.easyr1_log) plan.metrics.easyr1Log = abs(s(profile.metrics.easyr1_log));
  if (gpus) plan.gpus = gpus;
  if (opts.resumeFrom !== undefined) plan.resumedFrom = opts.resumeFrom;
  if (slurm) plan.slurm = profile.slurm ?? {};
  if (profile.sweep) plan.sweep = { index: sweepIndex, value: profile.sweep[sweepIndex]!, count: profile.sweep.length };
  return plan;
}

/** `${name}` and `${env:NAME}`; an unknown variable is an error, so a typo never reaches the trainer. */
function sub(text: string, vars: Record<string, string>, env: NodeJS.ProcessEnv | undefined): string {
  return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    if (name.startsWith('env:')) return (env ?? process.env)[name.slice(4)] ?? '';
    const v = vars[name];
    if (v === undefined) {
      const hint = name === 'after.output_dir' ? ' (the profile has no "after" with an "output_dir")' : '';
      throw new Error(`unknown variable \${${name}}${hint}`);
    }
    return v;
  });
}
