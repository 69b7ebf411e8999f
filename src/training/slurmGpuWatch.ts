/**
 * GPUs of a Slurm run for the Run Metrics panel: `srun --jobid … --overlap nvidia-smi` (see
 * src/core/training/slurm-gpus.ts) every 10 s while the panel shows the run and the job is live.
 * Each answer is a sample (GPUs named by node) or, when srun does not answer, the reason, which
 * the panel shows in place of the sparklines.
 */
import * as vscode from 'vscode';
import type { RunInfo } from '../core/training/run-manager';
import { jobGpus } from '../core/training/slurm-gpus';
import type { GpuSampleView } from '../protocol/runs';

const INTERVAL_MS = 10_000;
const HISTORY = 60;

export class SlurmGpuWatch implements vscode.Disposable {
  readonly history: GpuSampleView[] = [];
  /** Why there are no GPUs to show (the last answer), undefined after a sample. */
  message: string | undefined = 'asking the job\'s nodes (srun --jobid … --overlap nvidia-smi)…';
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private disposed = false;

  constructor(
    readonly run: string,
    private readonly current: () => RunInfo | undefined,
    private readonly onSample: (s: GpuSampleView) => void,
    private readonly onOff: (message: string) => void,
  ) {
    void this.poll();
  }

  private async poll(): Promise<void> {
    const info = this.current();
    if (this.disposed || this.busy || !info) return;
    this.busy = true;
    try {
      const r = await jobGpus(info.record);
      if (this.disposed) return;
      if (r.ok) {
        this.message = undefined;
        const sample: GpuSampleView = {
          time: Date.now(),
          gpus: r.perNode.flatMap((n) =>
            n.gpus.map((g) => ({
              index: g.index,
              name: `${n.node}: ${g.name}`,
              ...(g.utilization !== undefined ? { utilization: g.utilization } : {}),
              ...(g.memoryUsed !== undefined ? { memoryUsed: g.memoryUsed } : {}),
              ...(g.memoryTotal !== undefined ? { memoryTotal: g.memoryTotal } : {}),
              runs: [this.run],
            })),
          ),
        };
        this.history.push(sample);
        if (this.history.length > HISTORY) this.history.shift();
        this.onSample(sample);
      } else {
        this.message = r.message;
        this.onOff(r.message);
      }
    } finally {
      this.busy = false;
    }
    if (!this.disposed && this.current()?.live) {
      this.timer = setTimeout(() => void this.poll(), INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Ask again now (the job started running, or the panel was shown again). */
  kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    void this.poll();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
