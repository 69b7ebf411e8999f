/**
 * The "Show Run Overview" and "Compare Runs" commands. Show Run Overview takes a file or folder
 * (a Uri from a menu, a Rollout Sources node, a path from a script or test); without one it takes
 * the focused viewer's source, else asks. Compare Runs takes 2–4 of them (the Explorer's
 * multi-selection, paths from a script, or a first run such as the Run Overview's own); with
 * fewer than two it asks for the rest from the workspace's rollout sources.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Viewers } from '../viewer/viewers';
import { RunOverviews } from './overviewPanel';
import { CompareRunsPanels } from './comparePanel';
import { MAX_COMPARED_RUNS } from '../protocol/compareRuns';
import { unwrapSourceNode, type RolloutSourcesTree } from '../sources/sourcesTree';

export function registerRunOverview(extensionUri: vscode.Uri, viewers: Viewers, tree?: RolloutSourcesTree): vscode.Disposable[] {
  const overviews = new RunOverviews(extensionUri, viewers.sources);
  const compares = new CompareRunsPanels(extensionUri, viewers.sources);
  const show = async (arg?: unknown): Promise<void> => {
    let target = asPath(arg) ?? viewers.focused?.target;
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
  const compare = async (...args: unknown[]): Promise<void> => {
    // Explorer: (clicked, selection); a script: paths (or one array of them).
    const given = [...new Set(args.flatMap((a) => (Array.isArray(a) ? a : [a])).map(asPath).filter((p): p is string => p !== undefined).map((p) => path.resolve(p)))];
    // From the Run Overview's title bar: its run first.
    const active = given.length === 0 ? overviews.activeTarget() : undefined;
    let targets = active ? [active] : given;
    if (targets.length < 2) {
      const picked = await pickRuns(targets, viewers, tree);
      if (!picked) return;
      targets = [...targets, ...picked];
    }
    if (targets.length < 2 || targets.length > MAX_COMPARED_RUNS) {
      void vscode.window.showErrorMessage(`Compare Runs takes 2 to ${MAX_COMPARED_RUNS} runs; ${targets.length} ${targets.length === 1 ? 'was' : 'were'} chosen.`);
      return;
    }
    compares.show(targets);
  };
  return [
    overviews,
    compares,
    vscode.commands.registerCommand('grpoStudio.showRunOverview', show),
    vscode.commands.registerCommand('grpoStudio.compareRuns', compare),
  ];
}

/** The folder of `p` relative to the workspace; nothing at a workspace folder's root. */
function where(p: string): string {
  const dir = path.dirname(p);
  if (vscode.workspace.workspaceFolders?.some((f) => f.uri.fsPath === dir)) return '';
  return vscode.workspace.asRelativePath(dir);
}

function asPath(arg: unknown): string | undefined {
  const node = unwrapSourceNode(arg);
  if (node instanceof vscode.Uri) return node.fsPath;
  return typeof node === 'string' && node.length > 0 ? node : undefined;
}

/** The runs to add to `chosen`: the workspace's rollout sources and the open viewers', or a dialog. */
export async function pickRuns(chosen: string[], viewers: Viewers, tree?: RolloutSourcesTree): Promise<string[] | undefined> {
  const candidates = new Map<string, string>(); // path → format description
  for (const n of (await tree?.getChildren()) ?? []) candidates.set(n.uri.fsPath, n.format ?? '');
  for (const v of viewers.all()) if (!candidates.has(path.resolve(v.target))) candidates.set(path.resolve(v.target), 'open in a viewer');
  for (const c of chosen) candidates.delete(c);
  const browse = '$(folder-opened) Browse\u2026';
  const items: vscode.QuickPickItem[] = [...candidates].map(([p, format]) => ({ label: path.basename(p), description: [format, where(p)].filter(Boolean).join(' · '), detail: p }));
  const want = MAX_COMPARED_RUNS - chosen.length;
  if (items.length) {
    const picked = await vscode.window.showQuickPick([...items, { label: browse, alwaysShow: true }], {
      canPickMany: true,
      title: chosen.length ? `Compare ${path.basename(chosen[0]!)} with (up to ${want})` : `Runs to compare (2 to ${MAX_COMPARED_RUNS})`,
      placeHolder: 'Pick the runs to put on shared charts',
    });
    if (!picked) return undefined;
    if (!picked.some((p) => p.label === browse)) return picked.map((p) => p.detail!).filter(Boolean);
  }
  const opened = await vscode.window.showOpenDialog({ canSelectMany: true, canSelectFiles: true, canSelectFolders: true, openLabel: 'Compare', filters: { 'Rollout files': ['jsonl', 'parquet', 'log', 'txt'], 'All files': ['*'] } });
  return opened?.map((u) => u.fsPath);
}
