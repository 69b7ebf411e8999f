/**
 * GPU state for the editor: one GpuMonitor (nvidia-smi) polled only while something shows GPUs
 * (the Run Metrics panel), plus a one-off poll when a launch offers free GPUs. Keeps a short
 * history for sparklines. A machine without nvidia-smi is noted once and never polled again.
 */
import * as vscode from 'vscode';
import { GpuMonitor, type GpuSnapshot } from '../core/training/gpus';
import type { GpuSampleView } from '../protocol/runs';

/** Samples kept for sparklines (two minutes at the default interval). */
const HISTORY = 60;

export interface GpuWatchSettings {
  nvidiaSmi: string;
  intervalMs: number;
}

export function readGpuSettings(): GpuWatchSettings {
  const c = vscode.workspace.getConfiguration('grpoStudio.training');
  const seconds = c.get<number>('gpuPollSeconds', 2);
  return {
    nvidiaSmi: c.get<string>('nvidiaSmiPath', '') || 'nvidia-smi',
    intervalMs: Math.max(500, (Number.isFinite(seconds) ? seconds : 2) * 1000),
  };
}

export class GpuWatch implements vscode.Disposable {
  readonly history: GpuSampleView[] = [];
  /** Set once nvidia-smi turned out missing or broken. */
  offMessage: string | undefined;
  private monitor: GpuMonitor | undefined;
  private watchers = 0;
  private readonly sampleEmitter = new vscode.EventEmitter<GpuSampleView>();
  private readonly offEmitter = new vscode.EventEmitter<string>();
  readonly onSample = this.sampleEmitter.event;
  readonly onOff = this.offEmitter.event;
  last: GpuSnapshot | undefined;

  /** `ownerOf` maps a pid to its run; it is only asked once the run manager exists. */
  constructor(private readonly ownerOf: (pid: number) => string | undefined) {}

  private ensureMonitor(): GpuMonitor {
    if (this.monitor) return this.monitor;
    const s = readGpuSettings();
    this.monitor = new GpuMonitor({
      command: s.nvidiaSmi,
      intervalMs: s.intervalMs,
      ownerOf: this.ownerOf,
      onEvent: (e) => {
        if (e.kind === 'unavailable') {
          this.offMessage = e.message;
          this.offEmitter.fire(e.message);
          return;
        }
        this.last = e.snapshot;
        const view: GpuSampleView = {
          time: e.snapshot.time,
          gpus: e.snapshot.gpus.map((g) => ({
            index: g.index,
            name: g.name,
            ...(g.utilization !== undefined ? { utilization: g.utilization } : {}),
            ...(g.memoryUsed !== undefined ? { memoryUsed: g.memoryUsed } : {}),
            ...(g.memoryTotal !== undefined ? { memoryTotal: g.memoryTotal } : {}),
            runs: [...new Set(e.snapshot.processes.filter((p) => p.gpuUuid === g.uuid && p.run).map((p) => p.run!))],
          })),
        };
        this.history.push(view);
        if (this.history.length > HISTORY) this.history.shift();
        this.sampleEmitter.fire(view);
      },
    });
    return this.monitor;
  }

  /** Poll while the returned disposable lives (reference counted). */
  watch(): vscode.Disposable {
    this.watchers++;
    if (this.watchers === 1 && !this.offMessage) this.ensureMonitor().start();
    let done = false;
    return new vscode.Disposable(() => {
      if (done) return;
      done = true;
      this.watchers--;
      if (this.watchers === 0) this.monitor?.stop();
    });
  }

  /** The current GPUs, or undefined without nvidia-smi. */
  async snapshot(): Promise<GpuSnapshot | undefined> {
    if (this.offMessage) return undefined;
    return (await this.ensureMonitor().poll()) ?? this.last;
  }

  dispose(): void {
    this.monitor?.stop();
    this.sampleEmitter.dispose();
    this.offEmitter.dispose();
  }
}
