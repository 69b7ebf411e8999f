/**
 * The Slurm part of a run profile (`"target": "slurm"`, `"slurm": {...}`, `"sweep": [...]`), read
 * with the same problem reporting as the rest of profile.ts. See docs/slurm.md.
 */

export interface SlurmOptions {
  partition?: string;
  nodes?: number;
  gpusPerNode?: number;
  cpusPerTask?: number;
  /** sbatch --mem, e.g. "64G". */
  mem?: string;
  /** sbatch --time, e.g. "1-00:00:00", "30:00". */
  time?: string;
  account?: string;
  qos?: string;
  constraint?: string;
  /** Extra `#SBATCH` lines, without the prefix: ["--exclusive", "--begin=now+1hour"]. */
  sbatch?: string[];
  /** Shell lines run before the command: ["module load cuda/12.1", "conda activate grpo"]. */
  setup?: string[];
  /** Grace between `scancel --signal=INT` and `scancel`, seconds (default 60). */
  stopGraceSeconds?: number;
}

export const SLURM_FIELDS = ['partition', 'nodes', 'gpusPerNode', 'cpusPerTask', 'mem', 'time', 'account', 'qos', 'constraint', 'sbatch', 'setup', 'stopGraceSeconds'] as const;

type Bad = (field: string, message: string) => void;
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
// A value lands on a `#SBATCH` line: a newline would smuggle in a second line (or a command).
const oneLine = (s: string) => !/[\r\n]/.test(s);

/** `slurm` field of a profile; undefined (and problems reported) when unusable. */
export function readSlurmOptions(x: unknown, bad: Bad): SlurmOptions | undefined {
  if (x === undefined) return {};
  if (!isObj(x)) {
    bad('slurm', 'must be an object (partition, nodes, gpusPerNode, …)');
    return undefined;
  }
  const o: SlurmOptions = {};
  let ok = true;
  const fail = (f: string, m: string) => {
    ok = false;
    bad(`slurm.${f}`, m);
  };
  for (const k of Object.keys(x)) if (!(SLURM_FIELDS as readonly string[]).includes(k)) fail(k, `is not a slurm field (${SLURM_FIELDS.join(', ')})`);
  for (const f of ['partition', 'mem', 'time', 'account', 'qos', 'constraint'] as const) {
    const v = x[f];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !v.trim() || !oneLine(v) || /\s/.test(v.trim())) fail(f, 'must be a non-empty string without spaces or newlines');
    else o[f] = v.trim();
  }
  if (o.time !== undefined && !/^(\d+-)?\d+(:\d+){0,2}$|^(\d+-)?\d+$|^UNLIMITED$|^INFINITE$/i.test(o.time)) {
    fail('time', 'must be a Slurm time: minutes, MM:SS, HH:MM:SS, D-HH[:MM[:SS]] or UNLIMITED');
  }
  if (o.mem !== undefined && !/^\d+[KMGT]?$/i.test(o.mem)) fail('mem', 'must be a size like 64G or 8000M');
  for (const f of ['nodes', 'gpusPerNode', 'cpusPerTask'] as const) {
    const v = x[f];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (f === 'gpusPerNode' ? 0 : 1)) fail(f, `must be an integer ≥ ${f === 'gpusPerNode' ? 0 : 1}`);
    else o[f] = v;
  }
  const g = x.stopGraceSeconds;
  if (g !== undefined) {
    if (typeof g !== 'number' || !Number.isFinite(g) || g < 0) fail('stopGraceSeconds', 'must be a number of seconds ≥ 0');
    else o.stopGraceSeconds = g;
  }
  for (const f of ['sbatch', 'setup'] as const) {
    const v = x[f];
    if (v === undefined) continue;
    if (!Array.isArray(v)) {
      fail(f, 'must be a list of strings');
      continue;
    }
    v.forEach((l, i) => {
      if (typeof l !== 'string') fail(`${f}[${i}]`, 'must be a string');
      else if (!oneLine(l)) fail(`${f}[${i}]`, 'must be one line (no newline)');
      else if (f === 'sbatch' && !/^--?[A-Za-z]/.test(l.trim())) fail(`${f}[${i}]`, `must be an sbatch option like "--exclusive" (without "#SBATCH"), got "${l}"`);
    });
    o[f] = (v as unknown[]).filter((l): l is string => typeof l === 'string').map((l) => (f === 'sbatch' ? l.trim() : l));
  }
  return ok ? o : undefined;
}

/** `sweep`: the values one array task each gets as `${sweep}`. */
export function readSweep(x: unknown, bad: Bad): string[] | undefined {
  if (x === undefined) return undefined;
  if (!Array.isArray(x) || x.length === 0) {
    bad('sweep', 'must be a non-empty list of values (strings or numbers), one array task each');
    return undefined;
  }
  let ok = true;
  x.forEach((v, i) => {
    if ((typeof v !== 'string' && typeof v !== 'number') || (typeof v === 'number' && !Number.isFinite(v))) {
      bad(`sweep[${i}]`, 'must be a string or a number');
      ok = false;
    }
  });
  return ok ? x.map((v) => String(v)) : undefined;
}
