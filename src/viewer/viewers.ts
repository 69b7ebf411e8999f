/**
 * Every open viewer, and which one has focus: palette commands (next/previous group, filter,
 * recompute, reveal) act on the focused one. Opens rollout files in the custom editor and
 * folders in a panel that VS Code restores after a reload (serializer).
 */
import * as path from 'node:path';
import { readdir } from 'node:fs/promises';
import * as vscode from 'vscode';
import { ViewerConnection, type ViewerContext } from './viewerConnection';

export const EDITOR_VIEW_TYPE = 'grpoStudio.rolloutViewer';
export const EDITOR_VIEW_TYPE_ANY = 'grpoStudio.rolloutViewerAny';
export const FOLDER_VIEW_TYPE = 'grpoStudio.folderViewer';

export class Viewers implements vscode.Disposable, vscode.CustomReadonlyEditorProvider {
  private readonly open = new Set<ViewerConnection>();
  private active: ViewerConnection | undefined;

  constructor(private readonly ctx: ViewerContext) {}

  get focused(): ViewerConnection | undefined {
    return this.active;
  }

  register(): vscode.Disposable[] {
    const opts = { webviewOptions: { retainContextWhenHidden: false }, supportsMultipleEditorsPerDocument: true };
    return [
      vscode.window.registerCustomEditorProvider(EDITOR_VIEW_TYPE, this, opts),
      vscode.window.registerCustomEditorProvider(EDITOR_VIEW_TYPE_ANY, this, opts),
      vscode.window.registerWebviewPanelSerializer(FOLDER_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const files = isStateWithSource(state) ? state.source : [];
          this.attach(panel, files);
        },
      }),
      this,
    ];
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    this.attach(panel, [document.uri.fsPath]);
  }

  /** Opens a folder of rollout files: every `*.jsonl` directly inside it, in natural order. */
  async openFolder(folder: string): Promise<void> {
    const files = await rolloutFilesIn(folder);
    if (files.length === 0) {
      void vscode.window.showWarningMessage(`No .jsonl rollout files in ${folder}.`);
      return;
    }
    const panel = vscode.window.createWebviewPanel(FOLDER_VIEW_TYPE, `Rollouts: ${path.basename(folder)}`, vscode.ViewColumn.Active, {
      enableScripts: true,
    });
    this.attach(panel, files);
  }

  private attach(panel: vscode.WebviewPanel, files: string[]): void {
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extensionUri, 'dist', 'media', 'grpo-studio.svg');
    const c = new ViewerConnection(panel, files, this.ctx);
    this.open.add(c);
    const focus = () => {
      if (panel.active) this.active = c;
      else if (this.active === c) this.active = undefined;
      void vscode.commands.executeCommand('setContext', 'grpoStudio.viewerFocused', this.active !== undefined);
    };
    c.onDidChangeFocus(focus);
    focus();
    panel.onDidDispose(() => {
      this.open.delete(c);
      if (this.active === c) this.active = undefined;
      void vscode.commands.executeCommand('setContext', 'grpoStudio.viewerFocused', this.active !== undefined);
      c.dispose();
    });
  }

  /** Settings changed: every open viewer recomputes. */
  async recomputeAll(): Promise<void> {
    await Promise.all([...this.open].map((c) => c.recompute()));
  }

  dispose(): void {
    for (const c of this.open) c.dispose();
    this.open.clear();
  }
}

function isStateWithSource(x: unknown): x is { source: string[] } {
  if (typeof x !== 'object' || x === null) return false;
  const s = (x as { source?: unknown }).source;
  return Array.isArray(s) && s.every((f) => typeof f === 'string');
}

const collator = new Intl.Collator(undefined, { numeric: true });

export async function rolloutFilesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.jsonl') && !e.name.endsWith('.verdicts.jsonl'))
    .map((e) => path.join(folder, e.name))
    .sort(collator.compare);
}

