/**
 * Which files of a folder (or glob) a format reads, and in what order: per-step files in numeric
 * step order (verl `12.jsonl` before `100.jsonl`, TRL `completions_00012.parquet`), others in
 * natural name order.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import type { FormatName } from './types';

const VERL_FILE = /^(\d+)\.jsonl$/;
const TRL_FILE = /^completions_(\d+)\.parquet$/;

/** The step a per-step file's name gives (`12.jsonl`, `completions_00012.parquet`), else undefined. */
export function stepFromName(path: string): number | undefined {
  const name = basename(path);
  const m = VERL_FILE.exec(name) ?? TRL_FILE.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Natural order: digit runs compare as numbers, so `2` < `10`. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  } catch {
    return [];
  }
}

/** The files a folder holds for `format`, in reading order. */
export async function filesOf(dir: string, format: FormatName): Promise<string[]> {
  const inDir = await names(dir);
  const byStep = (re: RegExp, list: string[], base: string): string[] =>
    list.filter((n) => re.test(n)).sort((a, b) => Number(re.exec(a)![1]) - Number(re.exec(b)![1]) || naturalCompare(a, b)).map((n) => join(base, n));
  switch (format) {
    case 'verl':
      return byStep(VERL_FILE, inDir, dir);
    case 'trl': {
      const sub = join(dir, 'completions');
      const nested = byStep(TRL_FILE, await names(sub), sub);
      return nested.length ? nested : byStep(TRL_FILE, inDir, dir);
    }
    case 'easyr1':
      return inDir.includes('generations.log') ? [join(dir, 'generations.log')] : [];
    case 'swift':
      return inDir.includes('completions.jsonl') ? [join(dir, 'completions.jsonl')] : [];
    case 'vlmr1':
      return inDir.filter((n) => /\.(txt|log)$/.test(n) && !/_format\.txt$/.test(n)).sort(naturalCompare).map((n) => join(dir, n));
    case 'native':
      // The judge's `<rollouts>.verdicts.jsonl` caches sit beside the rollouts: not rollouts.
      return inDir.filter((n) => n.endsWith('.jsonl') && !n.endsWith('.verdicts.jsonl')).sort(naturalCompare).map((n) => join(dir, n));
  }
}

export function isGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

/** A glob (`*`, `?`, `[…]`, `**`) as a regular expression over a whole path. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The folder a glob's matches all live under (the part before the first wildcard). */
export function globBase(glob: string): string {
  const parts = glob.split(sep);
  const i = parts.findIndex((p) => isGlob(p));
  return i < 0 ? dirname(glob) : parts.slice(0, i).join(sep) || sep;
}

/** Files matching an absolute glob, in natural order (per-step names by step). Walks at most `maxDepth` folders deep. */
export async function filesMatching(glob: string, maxDepth = 8): Promise<string[]> {
  const re = globRegExp(glob);
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isFile() && re.test(p)) out.push(p);
      else if (e.isDirectory() && depth < maxDepth) await walk(p, depth + 1);
    }
  };
  await walk(globBase(glob), 0);
  return out.sort((a, b) => {
    const sa = stepFromName(a);
    const sb = stepFromName(b);
    return sa !== undefined && sb !== undefined && dirname(a) === dirname(b) ? sa - sb : naturalCompare(a, b);
  });
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
