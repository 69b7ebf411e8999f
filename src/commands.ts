/**
 * Every command of the extension, registered from one table. Commands that act on "the viewer"
 * act on the focused one and say so calmly when none is.
 */
import { cp } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
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

/**
 * Open Sample copies the bundled sample (dist/sample) into ~/grpo-studio-sample and opens it
 * there: a folder the user can find, browse and open again, not the extension's install folder.
 * The copy is refreshed each time (an updated extension brings an updated sample); other files
 * in that folder are left alone. `npm run demo` writes the same folder.
 */
async function copySample(extensionUri: vscode.Uri): Promise<vscode.Uri> {
  const to = path.join(homedir(), 'grpo-studio-sample');
  await cp(vscode.Uri.joinPath(extensionUri, 'dist', 'sample').fsPath, to, { recursive: true, force: true });
  log().info(`sample copied to ${to}`);
  return vscode.Uri.file(path.join(to, 'sample.rollouts.jsonl'));
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
        filters: { 'Rollout files': ['jsonl', 'parquet', 'log', 'txt'], 'All files': ['*'] },
      });
      uri = picked?.[0];
    }
    if (!uri) return;
    if ((await vscode.workspace.fs.stat(uri).then((s) => s.type, () => undefined)) === vscode.FileType.Directory) {
      await viewers.openFolder(uri.fsPath);
      return;
    }
    sources.remember(uri);
    const viewType = uri.fsPath.endsWith('.rollouts.jsonl') ? EDITOR_VIEW_TYPE : EDITOR_VIEW_TYPE_ANY;
    await vscode.commands.executeCommand('vscode.openWith', uri, viewType);
  };

  /** Opens (or focuses) the viewer of a file or folder and sets its filter text (the run overview calls this). */
  const showRolloutsAt = async (fileOrUri?: unknown, query?: unknown) => {
    const uri = asUri(fileOrUri);
    if (!uri) {
      void vscode.window.showWarningMessage('grpoStudio.showRolloutsAt needs a file or folder.');
      return;
    }
    let viewer = viewers.find(uri.fsPath);
    if (viewer) viewer.panel.reveal();
    else {
      await openFile(uri);
      viewer = await viewers.waitFor(uri.fsPath);
    }
    if (viewer && typeof query === 'string') viewer.setFilterText(query);
  };

  const goToStep = async (arg?: unknown) => {
    const v = viewers.focused;
    if (!v) {
      void vscode.window.showInformationMessage('Open a rollout file in the GRPO Rollout Viewer first.');
      return;
    }
    let step = typeof arg === 'number' ? arg : undefined;
    if (step === undefined) {
      const text = await vscode.window.showInputBox({
        title: 'Go to Step',
        placeHolder: 'Step number',
        prompt: 'Selects the first group of this step in the list',
        validateInput: (t) => (/^\s*\d+\s*$/.test(t) ? null : 'A step number (0, 1, 2, …)'),
      });
      if (text === undefined) return;
      step = Number(text.trim());
    }
    v.goToStep(step);
  };

  const table: Record<string, (...args: unknown[]) => unknown> = {
    'grpoStudio.openSample': async () => openFile(await copySample(deps.extensionUri)),
    'grpoStudio.openRolloutsFile': (arg) => openFile(arg),
    'grpoStudio.showRolloutsAt': (fileOrUri, query) => showRolloutsAt(fileOrUri, query),
    'grpoStudio.goToStep': (arg) => goToStep(arg),
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
