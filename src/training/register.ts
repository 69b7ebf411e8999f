/**
 * Training control in the editor: the Runs view, commands, CodeLenses, run terminals, problems,
 * the status bar item and the Run Metrics panel, all over one TrainingHost. Registering is cheap:
 * the run manager (and the reattach to running runs) is built on first use.
 */
import * as vscode from 'vscode';
import type { RunInfo } from '../core/training/run-manager';
import { TrainingHost } from './host';
import { LaunchLenses, LENS_SELECTOR } from './launchLenses';
import { RunMetricsPanel } from './metricsPanel';
import { openRolloutsPath, runCommands } from './runCommands';
import { RunProblems } from './runProblems';
import { RUNS_VIEW, RunsTree, type RunsNode } from './runsTree';
import { RunStatusBar } from './runStatusBar';
import { RunTerminals } from './runTerminals';
import { logError } from '../log';

export function registerTraining(context: vscode.ExtensionContext): vscode.Disposable[] {
  const host = new TrainingHost(context.extensionUri);
  const tree = new RunsTree(host);
  const treeView = vscode.window.createTreeView<RunsNode>(RUNS_VIEW, { treeDataProvider: tree, showCollapseAll: false });
  const terminals = new RunTerminals(host);
  const showOutput = (run: RunInfo, preserveFocus = false) => terminals.show(run, preserveFocus);
  const problems = new RunProblems(host, (id) => {
    const r = host.get(id);
    if (r) showOutput(r);
  });
  const statusBar = new RunStatusBar(host);
  const lenses = new LaunchLenses();
  const metrics = new RunMetricsPanel(host, async (id) => {
    const path = host.get(id)?.record.rollouts?.path;
    if (path) await openRolloutsPath(path);
    else void vscode.window.showInformationMessage(`Run ${id}'s profile names no rollouts to open.`);
  });

  const commands = runCommands({
    host,
    showOutput,
    showMetrics: (run) => metrics.show(run),
    revealRun: (id) => {
      // Reveal opens the Runs view too: a launched run should be in sight.
      void Promise.resolve(treeView.reveal({ kind: 'run', id }, { select: false, focus: false })).catch(() => tree.refresh());
    },
  });

  // The profiles file changes under the view and the lenses: re-read on every change.
  const profilesWatcher = vscode.workspace.createFileSystemWatcher('**/.vscode/grpo-studio.json');
  const profilesChanged = () => tree.refresh();

  return [
    host,
    tree,
    treeView,
    terminals,
    problems,
    statusBar,
    lenses,
    metrics,
    profilesWatcher,
    profilesWatcher.onDidChange(profilesChanged),
    profilesWatcher.onDidCreate(profilesChanged),
    profilesWatcher.onDidDelete(profilesChanged),
    vscode.workspace.onDidGrantWorkspaceTrust(() => tree.refresh()),
    treeView.onDidChangeSelection((e) => {
      const n = e.selection[0];
      if (n?.kind === 'run') host.focus(n.id);
    }),
    vscode.languages.registerCodeLensProvider(LENS_SELECTOR, lenses),
    vscode.commands.registerCommand('grpoStudio.refreshRuns', () => {
      host.runs()?.reattach();
      tree.refresh();
    }),
    ...Object.entries(commands).map(([id, fn]) =>
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        try {
          return await fn(arg);
        } catch (e) {
          logError(id, e);
          void vscode.window.showErrorMessage(`${id}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }),
    ),
  ];
}
