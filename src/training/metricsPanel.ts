/**
 * The Run Metrics panel: live charts of one run's metrics and per-GPU sparklines. One panel,
 * showing the run it was last asked for. The webview speaks first (`ready`); it is rebuilt each
 * time it is shown (no retainContextWhenHidden), so every `ready` gets the whole history again.
 * A panel left open is restored after a reload (serializer) on the run it showed.
 */
import * as vscode from 'vscode';
import { isRunsWebviewMessage, type RunsHostMessage, type RunsWebviewMessage } from '../protocol/runs';
import { runView, type TrainingHost } from './host';
import { SlurmGpuWatch } from './slurmGpuWatch';
import { loadPanel, PanelChannel } from '../webviewPanel';

export const METRICS_VIEW_TYPE = 'grpoStudio.runMetrics';

export class RunMetricsPanel implements vscode.Disposable {
  private channel: PanelChannel<RunsHostMessage, RunsWebviewMessage> | undefined;
  private run: string | undefined;
  /** A Slurm run's GPUs are on its nodes: asked through srun, not this machine's nvidia-smi. */
  private slurmGpus: SlurmGpuWatch | undefined;
  private gpuWatch: vscode.Disposable | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  private get panel(): vscode.WebviewPanel | undefined {
    return this.channel?.panel;
  }

  constructor(
    private readonly host: TrainingHost,
    private readonly openRollouts: (run: string, step?: number) => Promise<void>,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(METRICS_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const run = typeof state === 'object' && state !== null && typeof (state as { run?: unknown }).run === 'string' ? (state as { run: string }).run : undefined;
          this.host.runs();
          this.attach(panel, run ?? this.host.focusedRun?.id);
        },
      }),
      host.onMetrics((e) => {
        if (e.run === this.run) this.post({ type: 'metrics', run: e.run, points: e.points });
      }),
      host.onRunChanged((info) => {
        if (info && info.id === this.run) {
          this.post({ type: 'status', run: runView(info) });
          if (info.record.job && this.slurmGpus?.run === info.id) this.slurmGpus.kick();
        }
        // An open panel follows a newly started run unless its own run is still going.
        if (info?.live && this.panel && info.id !== this.run && !(this.run && this.host.get(this.run)?.live)) {
          this.run = info.id;
          this.sendAll();
        }
      }),
      host.onProgress((e) => {
        const info = e.run === this.run ? this.host.get(e.run) : undefined;
        if (info) this.post({ type: 'status', run: runView(info) });
      }),
      host.gpus.onSample((sample) => !this.slurmGpus && this.post({ type: 'gpus', sample })),
      host.gpus.onOff((message) => !this.slurmGpus && this.post({ type: 'gpusOff', message })),
    );
  }

  /** Open (or reveal) the panel on `run`. */
  show(run: string | undefined, preserveFocus = false): void {
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(METRICS_VIEW_TYPE, 'Run Metrics', { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, {
        enableScripts: true,
        localResourceRoots: [vscode.Uri.joinPath(this.host.extensionUri, 'dist', 'webview')],
      });
      this.attach(panel, run);
      return;
    }
    if (run !== this.run) {
      this.run = run;
      this.sendAll();
    }
    this.panel.reveal(undefined, preserveFocus);
  }

  private attach(panel: vscode.WebviewPanel, run: string | undefined): void {
    this.run = run;
    loadPanel(panel, this.host.extensionUri, { bundle: 'runs', title: 'Run Metrics', rootId: 'run-metrics' });
    this.gpuWatch = this.host.gpus.watch();
    this.channel = new PanelChannel(panel, {
      name: 'run metrics',
      isMessage: isRunsWebviewMessage,
      onReady: () => this.sendAll(),
      onMessage: (m) => void this.openRollouts(m.run, m.step),
      onDispose: () => {
        this.channel = undefined;
        this.gpuWatch?.dispose();
        this.gpuWatch = undefined;
        this.slurmGpus?.dispose();
        this.slurmGpus = undefined;
      },
    });
  }

  private sendAll(): void {
    const info = this.run ? this.host.get(this.run) : undefined;
    if (this.panel) this.panel.title = info ? `Run Metrics: ${info.record.profile}` : 'Run Metrics';
    if (this.slurmGpus && this.slurmGpus.run !== info?.id) {
      this.slurmGpus.dispose();
      this.slurmGpus = undefined;
    }
    if (info?.record.slurm && this.panel && !this.slurmGpus) {
      const id = info.id;
      this.slurmGpus = new SlurmGpuWatch(id, () => this.host.get(id), (sample) => this.post({ type: 'gpus', sample }), (message) => this.post({ type: 'gpusOff', message }));
    }
    const gpus = this.slurmGpus ?? this.host.gpus;
    const off = this.slurmGpus ? this.slurmGpus.message : this.host.gpus.offMessage;
    this.post({
      type: 'show',
      run: info ? runView(info) : null,
      metrics: info ? this.host.metricsOf(info.id) : [],
      gpuHistory: gpus.history,
      ...(off ? { gpusOff: off } : {}),
    });
  }

  private post(m: RunsHostMessage): void {
    this.channel?.post(m);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
