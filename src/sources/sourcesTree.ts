/**
 * The "Rollout Sources" view: the rollout sources in the workspace in every format the viewer
 * reads (a `*.rollouts.jsonl`, a TRL folder of `completions_<step>.parquet`, a verl folder of
 * `<step>.jsonl`, an EasyR1 `generations.log`; see core/ingest/discover.ts) plus whatever the
 * user opened this session. Clicking one opens it in the viewer; right-click for the overview.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DISCOVER_GLOB, sourcesFrom } from '../core/ingest/discover';

const EXCLUDE = '**/{node_modules,.git,.cache}/**';
/** Per name pattern, so a verl folder of thousands of step files does not crowd out the rest. */
const SEARCHES: readonly [string, number][] = [
  ['**/*.rollouts.jsonl', 500],
  ['**/completions_*.parquet', 5000],
  ['**/generations.log', 200],
  ['**/[0-9]*.jsonl', 5000],
];

export interface SourceNode {
  uri: vscode.Uri;
  kind: 'file' | 'folder';
  /** Null for a file opened from outside the workspace (its format is the viewer's to detect). */
  format: string | null;
}

/** A command's argument as a Uri or path: a Rollout Sources node (a menu on the view) gives its Uri. */
export function unwrapSourceNode(arg: unknown): unknown {
  return typeof arg === 'object' && arg !== null && 'uri' in arg ? (arg as { uri: unknown }).uri : arg;
}

export class RolloutSourcesTree implements vscode.TreeDataProvider<SourceNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly opened = new Map<string, vscode.Uri>();
  private readonly watcher = vscode.workspace.createFileSystemWatcher(DISCOVER_GLOB, false, true, false);

  constructor() {
    this.watcher.onDidCreate(() => this.refresh());
    this.watcher.onDidDelete(() => this.refresh());
  }

  refresh(): void {
    this.changed.fire();
  }

  /** Remembers a file opened from outside the workspace so it stays one click away. */
  remember(uri: vscode.Uri): void {
    this.opened.set(uri.toString(), uri);
    this.refresh();
  }

  async getChildren(element?: SourceNode): Promise<SourceNode[]> {
    if (element) return [];
    const found: string[] = [];
    if (vscode.workspace.workspaceFolders) {
      for (const [glob, most] of SEARCHES) for (const u of await vscode.workspace.findFiles(glob, EXCLUDE, most)) found.push(u.fsPath);
    }
    const all = new Map<string, SourceNode>();
    for (const s of await sourcesFrom(found)) all.set(s.path, { uri: vscode.Uri.file(s.path), kind: s.kind, format: s.format });
    for (const u of this.opened.values()) if (!all.has(u.fsPath)) all.set(u.fsPath, { uri: u, kind: 'file', format: null });
    return [...all.values()].sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath, undefined, { numeric: true }));
  }

  getTreeItem(node: SourceNode): vscode.TreeItem {
    const { uri, kind, format } = node;
    const item = new vscode.TreeItem(path.basename(uri.fsPath), vscode.TreeItemCollapsibleState.None);
    item.resourceUri = uri;
    const dir = path.dirname(uri.fsPath);
    // At a workspace folder's root there is nothing to add (asRelativePath would give the full path).
    const root = vscode.workspace.workspaceFolders?.some((f) => f.uri.fsPath === dir);
    const where = root ? '' : vscode.workspace.asRelativePath(dir);
    item.description = [format, where].filter(Boolean).join(' · ');
    item.tooltip = `${uri.fsPath}${format ? `\n${format}${kind === 'folder' ? ', a folder of per-step files' : ''}` : ''}`;
    item.iconPath = new vscode.ThemeIcon(kind === 'folder' ? 'folder-library' : 'list-tree');
    item.contextValue = `source.${kind}${format ? `.${format}` : ''}`;
    item.command = kind === 'folder'
      ? { command: 'grpoStudio.openRolloutsFolder', title: 'Open in GRPO Rollout Viewer', arguments: [uri] }
      : { command: 'grpoStudio.openRolloutsFile', title: 'Open in GRPO Rollout Viewer', arguments: [uri] };
    return item;
  }

  dispose(): void {
    this.watcher.dispose();
    this.changed.dispose();
  }
}
