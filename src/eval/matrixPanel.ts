/**
 * The Evaluation Matrix panel: checkpoints × benchmarks with each value's 95% interval and its
 * delta against the base (paired test), and per-benchmark curves over steps, for one matrix source
 * (an eval profile's results, a manifest or a folder). One panel on the shared base
 * (src/webviewPanel.ts); every `ready` gets the matrix again, and it is re-read after an
 * evaluation from the editor.
 */
import * as vscode from 'vscode';
import { isEvalWebviewMessage, type EvalHostMessage, type EvalWebviewMessage } from '../protocol/eval';
import { log } from '../log';
import { loadPanel, PanelChannel } from '../webviewPanel';
import { computeInWorker } from './computeMatrix';
import type { Computed, MatrixSource } from './sources';

export const EVAL_MATRIX_VIEW_TYPE = 'grpoStudio.evalMatrix';

export class EvalMatrixPanel implements vscode.Disposable {
  private channel: PanelChannel<EvalHostMessage, EvalWebviewMessage> | undefined;
  private source: MatrixSource | undefined;
  private computed: Computed | undefined;
  /** Bumped per computation: an answer for an older one is dropped. */
  private generation = 0;

  constructor(private readonly extensionUri: vscode.Uri) {}

  /** What the panel shows now, if it is open. */
  get current(): MatrixSource | undefined {
    return this.channel ? this.source : undefined;
  }

  show(source: MatrixSource): void {
    this.source = source;
    const panel = this.channel?.panel;
    if (panel) {
      panel.title = `Evaluation: ${source.name}`;
      panel.reveal();
      this.send();
      return;
    }
    const p = vscode.window.createWebviewPanel(EVAL_MATRIX_VIEW_TYPE, `Evaluation: ${source.name}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview')],
    });
    loadPanel(p, this.extensionUri, { bundle: 'eval', title: 'Evaluation Matrix', rootId: 'eval-matrix' });
    this.channel = new PanelChannel(p, {
      name: 'eval matrix',
      isMessage: isEvalWebviewMessage,
      onReady: () => this.send(),
      onMessage: (m) => this.onMessage(m),
      onDispose: () => {
        this.channel = undefined;
        this.computed = undefined;
      },
    });
  }

  /** Re-read when the shown source may have changed (an evaluation of that profile finished). */
  refresh(profileName?: string): void {
    if (!this.channel || !this.source) return;
    if (profileName !== undefined && this.source.profile?.name !== profileName) return;
    this.send();
  }

  private onMessage(m: Exclude<EvalWebviewMessage, { type: 'ready' }>): void {
    switch (m.type) {
      case 'exportReport':
        void vscode.commands.executeCommand('grpoStudio.exportEvaluationReport');
        return;
      case 'evaluate':
        void vscode.commands.executeCommand('grpoStudio.evaluateCheckpoint');
        return;
      case 'openPredictions': {
        // Ids from the page pick a file of the matrix the host computed; the page names no path.
        const hit = this.computed?.files.find((f) => f.checkpoint === m.checkpoint && f.benchmark === m.benchmark);
        // Beside the matrix: the panel stays in sight (a hidden webview is torn down).
        if (hit) void vscode.window.showTextDocument(vscode.Uri.file(hit.file), { preview: true, viewColumn: vscode.ViewColumn.Beside });
        return;
      }
    }
  }

  private send(): void {
    const source = this.source;
    const ch = this.channel;
    if (!source || !ch?.ready) return;
    ch.post({ type: 'loading', source: source.path });
    const gen = ++this.generation;
    computeInWorker(source).then(
      (c) => {
        if (gen !== this.generation || source !== this.source) return;
        this.computed = c;
        this.channel?.post({ type: 'show', view: c.view });
      },
      (e: unknown) => {
        if (gen !== this.generation) return;
        const message = e instanceof Error ? e.message : String(e);
        log().warn(`eval matrix: ${message}`);
        this.channel?.post({ type: 'error', source: source.path, message });
      },
    );
  }

  dispose(): void {
    this.channel?.panel.dispose();
  }
}
