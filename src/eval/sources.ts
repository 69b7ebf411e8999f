/**
 * Where a matrix (and a report) is computed from: an eval profile's results folder, or what
 * `grpo-studio report` reads, a manifest (eval.json) or a folder of predictions (docs/eval.md).
 * No vscode import.
 */
import { basename } from 'node:path';
import { loadManifest } from '../core/eval/folder';
import type { Manifest } from '../core/eval/manifest';
import type { EvalProfile } from '../core/eval/profiles';
import { evalManifest } from '../core/eval/results';

export interface MatrixSource {
  /** Shown in titles. */
  name: string;
  /** The folder or file read. */
  path: string;
  profile?: EvalProfile;
}

export const profileSource = (p: EvalProfile): MatrixSource => ({ name: p.name, path: p.results, profile: p });
export const pathSource = (path: string): MatrixSource => ({ name: basename(path), path });

export function manifestOf(s: MatrixSource): Manifest {
  return s.profile ? evalManifest(s.profile) : loadManifest(s.path);
}
