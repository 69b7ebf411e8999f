/**
 * Launch scripts: `.sh` files that start distributed training (torchrun, accelerate launch,
 * python -m verl…). They get a "▶ Launch" CodeLens and run as an ad-hoc profile.
 */
import { relative } from 'node:path';
import type { RunProfile } from '../core/training/profile';

const LAUNCHER = /(?:^|[\s;&|(`])(?:torchrun\b|accelerate\s+launch\b|python[\d.]*\s+(?:-\S+\s+)*-m\s+verl\b)/;

/** 0-based line of the first command that launches training, ignoring comments; undefined if none. */
export function launchLine(text: string): number | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const code = lines[i]!.replace(/(^|\s)#.*$/, '$1');
    if (LAUNCHER.test(code)) return i;
  }
  return undefined;
}

/** `{name: <file>, command: ["bash", <file>]}`, the name relative to the workspace when inside it. */
export function scriptProfile(file: string, workspace: string | undefined): RunProfile {
  const rel = workspace ? relative(workspace, file) : '';
  const name = rel && !rel.startsWith('..') ? rel : file;
  return { name, command: ['bash', file] };
}
