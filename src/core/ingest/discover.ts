/**
 * Which rollout sources a set of files makes, for the Rollout Sources view: a native
 * `*.rollouts.jsonl` file, a TRL `completions/` folder of `completions_<step>.parquet`, a verl
 * folder of `<step>.jsonl` (or of native per-step files), an EasyR1 `generations.log`, an ms-swift
 * `completions.jsonl` (when its first line is an ms-swift table: other tools use the name too). The host
 * finds the candidate files by name (DISCOVER_GLOB); a folder of per-step files is one source,
 * and its format comes from what its first file holds (a `<step>.jsonl` name alone is not
 * enough: any dataset may be called 1.jsonl). VLM-R1 debug logs have no fixed name and are
 * opened with "Open Rollouts File…".
 */
import { basename, dirname } from 'node:path';
import { head, sniff } from './detect';
import type { FormatName } from './types';

export interface RolloutSource {
  path: string;
  kind: 'file' | 'folder';
  format: FormatName;
}

/** The names DISCOVER_GLOB matches, as the host's workspace search takes them. */
export const DISCOVER_GLOB = '**/{*.rollouts.jsonl,completions_*.parquet,generations.log,completions.jsonl,[0-9]*.jsonl}';

const STEP_JSONL = /^\d+\.jsonl$/;
const TRL_PARQUET = /^completions_\d+\.parquet$/;

export async function sourcesFrom(candidates: readonly string[]): Promise<RolloutSource[]> {
  const out = new Map<string, RolloutSource>();
  const stepFolders = new Map<string, string>();
  const swiftLogs: string[] = [];
  for (const file of candidates) {
    const name = basename(file);
    if (name.endsWith('.rollouts.jsonl')) out.set(file, { path: file, kind: 'file', format: 'native' });
    else if (TRL_PARQUET.test(name)) out.set(dirname(file), { path: dirname(file), kind: 'folder', format: 'trl' });
    else if (name === 'generations.log') out.set(file, { path: file, kind: 'file', format: 'easyr1' });
    else if (name === 'completions.jsonl') swiftLogs.push(file);
    else if (STEP_JSONL.test(name) && !stepFolders.has(dirname(file))) stepFolders.set(dirname(file), file);
  }
  for (const [dir, file] of stepFolders) {
    if (out.has(dir)) continue;
    const format = sniff(await head(file).catch(() => ''))?.format;
    if (format === 'verl' || format === 'native') out.set(dir, { path: dir, kind: 'folder', format });
  }
  for (const file of swiftLogs) {
    if (sniff(await head(file).catch(() => ''))?.format === 'swift') out.set(file, { path: file, kind: 'file', format: 'swift' });
  }
  return [...out.values()];
}
