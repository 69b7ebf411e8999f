/**
 * Every open viewer, and which one has focus: palette commands (next/previous group, filter,
 * recompute, reveal) act on the focused one. Opens rollout files in the custom editor and
 * folders in a panel that VS Code restores after a reload (serializer). Holds the followed
 * sources (`sources`) that viewers and the Run Overview share: one follower per source.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { detectFormat } from '../core/ingest/detect';
import { ViewerConnection, type ViewerContext } from './viewerConnection';
import { LiveSources } from './liveSources';
import { logError } from '../log';

export const EDITOR_VIEW_TYPE = 'grpoStudio.rolloutViewer';
export const EDITOR_VIEW_TYPE_ANY = 'grpoStudio.rolloutViewerAny';
export const FOLDER_VIEW_TYPE = 'grpoStudio.folderViewer';

export class Viewers implements vscode.Disposable, vscode.CustomReadonlyEditorProvider {
  private readonly open = new Set<ViewerConnection>();
  private active: ViewerConnection | undefined;
  /** Every followed source, shared by the viewers and overviews of it. */
  readonly sources = new LiveSources({}, (e) => logError('rollout source', e));
  private readonly ctx: ViewerContext;

  constructor(ctx: Omit<ViewerContext, 'sources'>) {
    this.ctx = { ...ctx, sources: this.sources };
  }

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

  /**
   * Opens (or focuses) a viewer following a folder in any trainer format the follower reads:
   * verl `<step>.jsonl` files, TRL `completions_*.parquet` (or a run folder holding
   * `completions/`), EasyR1 `generations.log`, VLM-R1 logs, or native `*.jsonl`.
   */
  async openFolder(folder: string): Promise<ViewerConnection | undefined> {
    const open = this.find(folder);
    if (open) {
      open.panel.reveal();
      return open;
    }
    const format = await detectFormat(folder);
    if (!format) {
      void vscode.window.showWarningMessage(`No rollouts recognised in ${folder} (native .jsonl, verl <step>.jsonl, TRL completions_*.parquet, VLM-R1 logs, EasyR1 generations.log).`);
      return undefined;
    }
    const panel = vscode.window.createWebviewPanel(FOLDER_VIEW_TYPE, `Rollouts: ${path.basename(folder)}`, vscode.ViewColumn.Active, {
      enableScripts: true,
    });
    return this.attach(panel, [folder]);
  }

  /** Every open viewer. */
  all(): ViewerConnection[] {
    return [...this.open];
  }

  /** The open viewer following `target` (a file or folder path), if any. */
  find(target: string): ViewerConnection | undefined {
    const want = path.resolve(target);
    return [...this.open].find((c) => path.resolve(c.target) === want);
  }

  /** Waits until a viewer on `target` exists (a custom editor is resolved after openWith returns on some hosts). */
  async waitFor(target: string, timeoutMs = 10_000): Promise<ViewerConnection | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const c = this.find(target);
      if (c || Date.now() > end) return c;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private attach(panel: vscode.WebviewPanel, files: string[]): ViewerConnection {
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
    return c;
  }

  /** Settings changed: each followed source rescores once (when its scoring changed); every viewer and overview of it draws again. */
  async recomputeAll(): Promise<void> {
    const c = this.ctx.config();
    await this.sources.rescoreAll({ variant: c.rewardVariant, matching: c.boxMatching, minPixels: c.minPixels, maxPixels: c.maxPixels });
  }

  dispose(): void {
    for (const c of this.open) c.dispose();
    this.open.clear();
    void this.sources.close();
  }
}

function isStateWithSource(x: unknown): x is { source: string[] } {
  if (typeof x !== 'object' || x === null) return false;
  const s = (x as { source?: unknown }).source;
  return Array.isArray(s) && s.every((f) => typeof f === 'string');
}


