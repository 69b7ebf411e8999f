/**
 * Every command of the extension, registered from one table. Commands that act on "the viewer"
 * act on the focused one and say so calmly when none is.
 */
import * as vscode from 'vscode';
import { EDITOR_VIEW_TYPE, EDITOR_VIEW_TYPE_ANY, type Viewers } from './viewer/viewers';
import type { RolloutSourcesTree } from './sources/sourcesTree';
import type { ViewerConnection } from './viewer/viewerConnection';
import { log } from './log';

interface CommandDeps {
  extensionUri: vscode.Uri;
  viewers: Viewers;
  sources: RolloutSourcesTree;
}

/** A command argument may be a Uri (explorer menus), a path string (scripts, tests) or nothing. */
function asUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.length > 0) return vscode.Uri.file(arg);
  return undefined;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { viewers, sources } = deps;
  const withViewer = (fn: (v: ViewerConnection) => unknown) => () => {
    const v = viewers.focused;
    if (!v) {
      void vscode.window.showInformationMessage('Open a rollout file in the GRPO Rollout Viewer first.');
      return;
    }
    return fn(v);
  };

  const openFile = async (arg?: unknown) => {
    let uri = asUri(arg);
    if (!uri) {
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: 'Open Rollouts',
        filters: { 'Rollout files': ['jsonl'], 'All files': ['*'] },
      });
      uri = picked?.[0];
    }
    if (!uri) return;
    sources.remember(uri);
    const viewType = uri.fsPath.endsWith('.rollouts.jsonl') ? EDITOR_VIEW_TYPE : EDITOR_VIEW_TYPE_ANY;
    await vscode.commands.executeCommand('vscode.openWith', uri, viewType);
  };

  const table: Record<string, (...args: unknown[]) => unknown> = {
    'grpoStudio.openSample': () =>
      openFile(vscode.Uri.joinPath(deps.extensionUri, 'dist', 'sample', 'sample.rollouts.jsonl')),
    'grpoStudio.openRolloutsFile': (arg) => openFile(arg),
    'grpoStudio.openRolloutsFolder': async (arg) => {
      let uri = asUri(arg);
      if (!uri) uri = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Open Rollouts Folder' }))?.[0];
      if (uri) await viewers.openFolder(uri.fsPath);
    },
    'grpoStudio.nextGroup': withViewer((v) => v.command('nextGroup')),
    'grpoStudio.previousGroup': withViewer((v) => v.command('previousGroup')),
    'grpoStudio.filter': withViewer((v) => v.command('focusFilter')),
    'grpoStudio.recomputeRewards': withViewer((v) => v.recompute()),
    'grpoStudio.revealInFile': withViewer((v) => v.revealSelected()),
    'grpoStudio.refreshSources': () => sources.refresh(),
    'grpoStudio.showLog': () => log().show(),
  };
  return Object.entries(table).map(([id, fn]) => vscode.commands.registerCommand(id, fn));
}
