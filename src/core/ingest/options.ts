/** The CLI's source options (`--format`, `--num-generations`), parsed once for stats, export and score. */
import type { OpenOptions } from './source';
import { FORMAT_NAMES, isFormatName } from './types';

export const SOURCE_OPTIONS = ['format', 'num-generations'];

export const SOURCE_HELP = `<path> is a file, a folder of per-step files (verl <step>.jsonl, TRL completions/), or an
ms-swift output_dir (completions.jsonl).
--format F            ${FORMAT_NAMES.join('|')}|auto (default auto: from file names, folder contents,
                      first bytes; a file nothing recognises is read as native v1)
--num-generations N   TRL, ms-swift: completions per prompt (default: the run's config, else inferred)`;

/** Open options from parsed CLI options, or an error message for a usage error. */
export function sourceOptions(options: ReadonlyMap<string, string>): OpenOptions | string {
  const opts: OpenOptions = { fallback: 'native' };
  const f = options.get('format');
  if (f !== undefined && f !== 'auto') {
    if (!isFormatName(f)) return `unknown --format '${f}' (one of ${FORMAT_NAMES.join(', ')}, auto)`;
    opts.format = f;
  }
  const n = options.get('num-generations');
  if (n !== undefined) {
    const k = Number(n);
    if (!Number.isInteger(k) || k <= 0) return `--num-generations must be a positive integer, got '${n}'`;
    opts.numGenerations = k;
  }
  return opts;
}
