/**
 * The "Rollout Sources" view: every `*.rollouts.jsonl` in the workspace plus whatever the user
 * opened this session. Clicking one opens it in the viewer.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EDITOR_VIEW_TYPE } from '../viewer/viewers';

const PATTERN = '**/*.rollouts.jsonl';
const EXCLUDE = '**/{node_modules,.git,.cache}/**';

export class RolloutSourcesTree implements vscode.TreeDataProvider<vscode.Uri>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly opened = new Map<string, vscode.Uri>();
  private readonly watcher = vscode.workspace.createFileSystemWatcher(PATTERN, false, true, false);

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

  async getChildren(element?: vscode.Uri): Promise<vscode.Uri[]> {
    if (element) return [];
    const found = vscode.workspace.workspaceFolders ? await vscode.workspace.findFiles(PATTERN, EXCLUDE, 500) : [];
    const all = new Map<string, vscode.Uri>();
    for (const u of [...found, ...this.opened.values()]) all.set(u.toString(), u);
    return [...all.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath, undefined, { numeric: true }));
  }

  getTreeItem(uri: vscode.Uri): vscode.TreeItem {
    const item = new vscode.TreeItem(path.basename(uri.fsPath), vscode.TreeItemCollapsibleState.None);
    item.resourceUri = uri;
    item.description = vscode.workspace.asRelativePath(path.dirname(uri.fsPath));
    item.tooltip = uri.fsPath;
    item.iconPath = new vscode.ThemeIcon('list-tree');
    item.command = { command: 'vscode.openWith', title: 'Open in GRPO Rollout Viewer', arguments: [uri, EDITOR_VIEW_TYPE] };
    return item;
  }

  dispose(): void {
    this.watcher.dispose();
    this.changed.dispose();
  }
}
