/** One typed reader for the extension's settings, re-read when they change. */
import * as vscode from 'vscode';
import type { BoxFrameSetting } from './protocol/viewer';

export interface StudioConfig {
  boxFrame: BoxFrameSetting;
  minPixels: number;
  maxPixels: number;
  rewardVariant: string;
  boxMatching: 'seed' | 'optimal';
  imageRoots: string[];
}

const FRAMES: readonly BoxFrameSetting[] = ['auto', 'abs', 'resized', 'rel1000', 'rel1'];

export function readConfig(): StudioConfig {
  const c = vscode.workspace.getConfiguration('grpoStudio');
  const frame = c.get<string>('boxFrame', 'auto');
  const matching = c.get<string>('boxMatching', 'seed');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const positive = (n: number | undefined, d: number) => (typeof n === 'number' && n > 0 ? n : d);
  return {
    boxFrame: (FRAMES as readonly string[]).includes(frame) ? (frame as BoxFrameSetting) : 'auto',
    minPixels: positive(c.get<number>('minPixels'), 3136),
    maxPixels: positive(c.get<number>('maxPixels'), 3686400),
    rewardVariant: c.get<string>('rewardVariant', 'grounding'),
    boxMatching: matching === 'optimal' ? 'optimal' : 'seed',
    imageRoots: (c.get<string[]>('imageRoots') ?? []).map((r) => r.replace(/\$\{workspaceFolder\}/g, folder)),
  };
}

/** Fires `listener` with the new config whenever a grpoStudio setting changes. */
export function onConfigChange(listener: (c: StudioConfig) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('grpoStudio')) listener(readConfig());
  });
}
