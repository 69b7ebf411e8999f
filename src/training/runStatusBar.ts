/** The focused run's progress in the status bar (step/total, rate, ETA); a click shows its output. */
import * as vscode from 'vscode';
import type { TrainingHost } from './host';
import { progressText } from './progressText';

export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('grpoStudio.run', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private lastPaint = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: TrainingHost) {
    this.item.name = 'GRPO Studio Training Run';
    this.disposables.push(
      this.item,
      host.onFocusChanged(() => this.paint()),
      host.onRunChanged(() => this.paint()),
      host.onProgress((e) => {
        if (e.run === host.focusedRun?.id) this.paintSoon();
      }),
    );
  }

  /** At most twice a second: tqdm redraws far more often. */
  private paintSoon(): void {
    const wait = 500 - (Date.now() - this.lastPaint);
    if (wait <= 0) this.paint();
    else this.timer ??= setTimeout(() => this.paint(), wait);
  }

  paint(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastPaint = Date.now();
    const r = this.host.focusedRun ?? this.host.list().find((x) => x.live);
    if (!r || (!r.live && !this.host.list().some((x) => x.live) && r.status !== 'failed')) {
      this.item.hide();
      return;
    }
    const icon = r.live ? '$(sync~spin)' : r.status === 'failed' ? '$(error)' : '$(debug-stop)';
    const job = r.record.job;
    const progress = r.progress ? progressText(r.progress) : job?.state ? `${job.state}${job.reason && job.state === 'PENDING' ? ` (${job.reason})` : ''}` : r.status;
    this.item.text = `${icon} ${r.record.profile}: ${progress}`;
    this.item.tooltip = `GRPO Studio run ${r.id} (${r.status}). Click to show its output.`;
    this.item.command = { command: 'grpoStudio.showRunOutput', title: 'Show Run Output', arguments: [r.id] };
    this.item.backgroundColor = r.status === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
