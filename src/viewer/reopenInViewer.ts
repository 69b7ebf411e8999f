/**
 * The rollout viewer wins even when a rollout file was opened before VS Code knew of it. On a
 * window's first start (no editor cache yet) VS Code's editor resolver does not wait for the
 * extensions' editors to be registered, so a `*.rollouts.jsonl` opened as the window loads (a
 * restored or `--goto` file, a click in the Explorer at once) lands in the text editor — for a
 * large file, the "file is very large" page — and stays there. When the extension starts, such a
 * tab is reopened in the viewer, in the same group, and the text tab closed.
 *
 * Only tabs that were already open at activation, or that open in the first seconds after it
 * while the resolver may still be catching up, are moved; a text tab of a file whose viewer is
 * open (Reveal Record in File) is left alone, and so is a text tab with unsaved changes or of a
 * file the user's `workbench.editorAssociations` sends to another editor.
 */
import * as vscode from 'vscode';
import { globMatches } from './associationGlob';

/** How long after activation a freshly opened text tab may still be a resolver race. */
const RACE_MS = 5000;

export interface ReopenOptions {
  viewType: string;
  /** Which files belong in the viewer by default (the custom editor's `default` selector). */
  matches(uri: vscode.Uri): boolean;
  raceMs?: number;
}

/** `*.rollouts.jsonl`, the viewer's default selector in package.json. */
export function isRolloutsFile(uri: vscode.Uri): boolean {
  return /\.rollouts\.jsonl$/i.test(uri.path);
}

/** The user's `workbench.editorAssociations` name another editor (`default`: text) for `uri`. */
function associatedElsewhere(uri: vscode.Uri, viewType: string): boolean {
  const raw = vscode.workspace.getConfiguration('workbench').get<unknown>('editorAssociations');
  const pairs: [string, unknown][] = Array.isArray(raw)
    ? raw.flatMap((a: { filenamePattern?: unknown; viewType?: unknown }) => (typeof a?.filenamePattern === 'string' ? [[a.filenamePattern, a.viewType] as [string, unknown]] : []))
    : raw && typeof raw === 'object' ? Object.entries(raw) : [];
  return pairs.some(([glob, editor]) => editor !== viewType && globMatches(glob, uri.path));
}

export function registerReopenInViewer(o: ReopenOptions): vscode.Disposable {
  const started = Date.now();
  const raceMs = o.raceMs ?? RACE_MS;
  const moving = new Set<string>();

  const viewerOpen = (uri: vscode.Uri): boolean =>
    vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputCustom && t.input.viewType === o.viewType && t.input.uri.toString() === uri.toString()));

  const reopen = async (tab: vscode.Tab): Promise<void> => {
    if (!(tab.input instanceof vscode.TabInputText) || tab.isDirty) return;
    const uri = tab.input.uri;
    const key = uri.toString();
    if (!o.matches(uri) || moving.has(key) || viewerOpen(uri) || associatedElsewhere(uri, o.viewType)) return;
    moving.add(key);
    try {
      await vscode.commands.executeCommand('vscode.openWith', uri, o.viewType, { viewColumn: tab.group.viewColumn, preview: tab.isPreview, preserveFocus: !tab.isActive });
      // The text tab, found again: opening the viewer may have replaced a preview tab already.
      const stale = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key);
      if (stale) await vscode.window.tabGroups.close(stale, true);
    } finally {
      moving.delete(key);
    }
  };

  const all = (): vscode.Tab[] => vscode.window.tabGroups.all.flatMap((g) => g.tabs);
  for (const tab of all()) void reopen(tab);
  const sub = vscode.window.tabGroups.onDidChangeTabs((e) => {
    if (Date.now() - started > raceMs) return;
    for (const tab of e.opened) void reopen(tab);
  });
  return sub;
}
