/**
 * Where a matrix (and a report) is computed from: an eval profile's results folder, or what
 * `grpo-studio report` reads, a manifest (eval.json) or a folder of predictions (docs/eval.md);
 * and the computation itself, which src/eval/matrixWorker.ts runs off the extension host's thread
 * (the paired bootstraps of a 10 × 6 matrix of 1000 questions take seconds). No vscode import.
 */
import { basename } from 'node:path';
import { loadManifest } from '../core/eval/folder';
import type { Manifest } from '../core/eval/manifest';
import { buildMatrix } from '../core/eval/matrix';
import type { EvalProfile } from '../core/eval/profiles';
import { renderHtml } from '../core/eval/reportHtml';
import { renderMarkdown } from '../core/eval/reportMd';
import { evalManifest } from '../core/eval/results';
import type { MatrixView } from '../protocol/eval';
import { matrixView } from './matrixView';

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

/** Everything the panel and Export Report need of one source, as plain data (it crosses a worker boundary). */
export interface Computed {
  view: MatrixView;
  /** Each cell's predictions file, for a click on the cell (the page names ids, never a path). */
  files: { checkpoint: string; benchmark: string; file: string }[];
  markdown: string;
  html: string;
}

export function compute(s: MatrixSource): Computed {
  const m = buildMatrix(manifestOf(s));
  const files: Computed['files'] = [];
  for (const [checkpoint, row] of Object.entries(m.cells)) for (const [benchmark, c] of Object.entries(row)) files.push({ checkpoint, benchmark, file: c.file });
  return { view: matrixView(m, s.path), files, markdown: renderMarkdown(m), html: renderHtml(m) };
}
