/**
 * Binds one viewer webview (a custom editor or a folder panel) to the rollout set it shows.
 * The webview speaks first (`ready`); until then nothing is posted, so no message is lost.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RolloutSet } from '../core/view/rolloutSet';
import { buildGroupDetail, type DetailOptions } from '../core/view/groupDetail';
import {
  EMPTY_STATE, isWebviewMessage,
  type BoxFrameSetting, type HostMessage, type ViewerState, type WebviewMessage,
} from '../protocol/viewer';
import { viewerHtml, makeNonce } from './html';
import { createImageResolver } from './imageResolver';
import type { StudioConfig } from '../config';
import { logError, log } from '../log';

export interface ViewerContext {
  extensionUri: vscode.Uri;
  config(): StudioConfig;
}

export class ViewerConnection implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private set: Promise<RolloutSet>;
  private resolveImage: ReturnType<typeof createImageResolver>;
  private state: ViewerState = { ...EMPTY_STATE };
  private ready = false;
  private readonly changeEmitter = new vscode.EventEmitter<ViewerConnection>();
  /** Fires when the panel gains or loses focus. */
  readonly onDidChangeFocus = this.changeEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly files: string[],
    private readonly ctx: ViewerContext,
  ) {
    const roots = this.imageSearchRoots();
    const dist = vscode.Uri.joinPath(ctx.extensionUri, 'dist');
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [dist, ...roots.map((r) => vscode.Uri.file(r)), ...files.map((f) => vscode.Uri.file(path.dirname(f)))],
    };
    this.resolveImage = createImageResolver(panel.webview, (p) => vscode.Uri.file(p), { searchRoots: roots });
    panel.webview.html = viewerHtml({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'viewer.js')).toString(),
      codiconsUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'codicons', 'codicon.css')).toString(),
      title: panel.title,
    });
    this.set = this.load();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (!isWebviewMessage(m)) {
          log().warn('viewer: ignored a malformed message from the webview');
          return;
        }
        this.handle(m).catch((e) => {
          logError('viewer', e);
          this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
        });
      }),
      panel.onDidChangeViewState(() => this.changeEmitter.fire(this)),
      this.changeEmitter,
    );
  }

  get selectedKey(): string | null {
    return this.state.selectedKey;
  }

  private imageSearchRoots(): string[] {
    const ws = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    return [...new Set([...this.files.map((f) => path.dirname(f)), ...ws, ...this.ctx.config().imageRoots])];
  }

  private options(): DetailOptions {
    const c = this.ctx.config();
    const frame: BoxFrameSetting = this.state.frame ?? c.boxFrame;
    return { variant: c.rewardVariant, matching: c.boxMatching, minPixels: c.minPixels, maxPixels: c.maxPixels, frame };
  }

  private async load(): Promise<RolloutSet> {
    const started = Date.now();
    const set = await RolloutSet.load(this.files, this.options());
    log().info(`opened ${this.files.join(', ')}: ${set.completionCount} completions, ${set.groups.length} groups, ${set.badLines.length} bad lines in ${Date.now() - started} ms`);
    return set;
  }

  private post(m: HostMessage): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  private async handle(m: WebviewMessage): Promise<void> {
    const set = await this.set;
    switch (m.type) {
      case 'ready': {
        this.ready = true;
        this.state = { ...EMPTY_STATE, ...(m.state ?? {}), source: this.files };
        if (this.state.selectedKey !== null && set.groupIndex(this.state.selectedKey) === undefined) this.state.selectedKey = null;
        set.applyFilter(this.state.filter);
        const c = this.ctx.config();
        this.post({
          type: 'init',
          source: { title: this.panel.title, files: this.files },
          totalGroups: set.groups.length,
          totalCompletions: set.completionCount,
          badLines: set.badLines,
          settings: { boxFrame: c.boxFrame, variant: c.rewardVariant, matching: c.boxMatching },
          state: this.state,
        });
        if (this.state.selectedKey !== null) await this.sendDetail(this.state.selectedKey);
        return;
      }
      case 'requestRows':
        this.post({ type: 'rows', requestId: m.requestId, start: m.start, total: set.filteredCount, rows: set.rows(m.start, Math.min(m.count, 500)) });
        return;
      case 'selectGroup':
        this.state.selectedKey = m.key;
        await this.sendDetail(m.key);
        return;
      case 'setFilter':
        this.state.filter = m.filter;
        this.post({ type: 'listChanged', total: set.applyFilter(m.filter) });
        return;
      case 'setFrame':
        this.state.frame = m.frame;
        if (this.state.selectedKey !== null) await this.sendDetail(this.state.selectedKey);
        return;
      case 'revealLine':
        if (this.files.includes(m.file)) await revealLine(m.file, m.line);
        return;
    }
  }

  private async sendDetail(key: string): Promise<void> {
    const set = await this.set;
    const gi = set.groupIndex(key);
    if (gi === undefined) return;
    const detail = await buildGroupDetail(set, gi, this.options(), this.resolveImage);
    this.post({ type: 'groupDetail', detail });
  }

  /** Palette commands reach the focused viewer through here. */
  command(command: 'nextGroup' | 'previousGroup' | 'focusFilter'): void {
    this.post({ type: 'command', command });
  }

  /** Re-reads settings and recomputes every reward; the webview re-requests what it shows. */
  async recompute(): Promise<void> {
    const set = await this.set;
    set.rescore(this.options());
    this.post({ type: 'listChanged', total: set.filteredCount });
    if (this.state.selectedKey !== null) await this.sendDetail(this.state.selectedKey);
  }

  /** Opens the selected group's first record in the text editor. */
  async revealSelected(): Promise<void> {
    const set = await this.set;
    const gi = this.state.selectedKey === null ? undefined : set.groupIndex(this.state.selectedKey);
    const first = gi === undefined ? set.records[0] : set.records[set.groups[gi]!.members[0]!];
    if (first) await revealLine(first.file, first.line);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Opens `file` as text (not in our custom editor) with `line` (1-based) selected. */
export async function revealLine(file: string, line: number): Promise<void> {
  const pos = new vscode.Position(Math.max(0, line - 1), 0);
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'default', {
    selection: new vscode.Range(pos, pos),
    preview: true,
  } satisfies vscode.TextDocumentShowOptions);
}
