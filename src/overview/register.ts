/**
 * The "Show Run Overview" command. Its argument is a file or folder (a Uri from a menu, a
 * Rollout Sources node, a path from a script or test); without one it takes the focused
 * viewer's source, else asks.
 */
import * as vscode from 'vscode';
import type { Viewers } from '../viewer/viewers';
import { RunOverviews } from './overviewPanel';
import { unwrapSourceNode } from '../sources/sourcesTree';

export function registerRunOverview(extensionUri: vscode.Uri, viewers: Viewers): vscode.Disposable[] {
  const overviews = new RunOverviews(extensionUri, viewers.sources);
  const show = async (arg?: unknown): Promise<void> => {
    // A Uri (Explorer), a Rollout Sources node, a path (scripts, tests), else the focused viewer's source.
    const node = unwrapSourceNode(arg);
    let target = node instanceof vscode.Uri ? node.fsPath : typeof node === 'string' && node.length > 0 ? node : viewers.focused?.target;
    if (!target) {
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: false,
        canSelectFiles: true,
        canSelectFolders: true,
        openLabel: 'Show Run Overview',
        filters: { 'Rollout files': ['jsonl', 'parquet', 'log', 'txt'], 'All files': ['*'] },
      });
      target = picked?.[0]?.fsPath;
    }
    if (target) overviews.show(target);
  };
  return [overviews, vscode.commands.registerCommand('grpoStudio.showRunOverview', show)];
}
