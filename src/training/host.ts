/**
 * The editor's side of training control for one workspace folder. The RunManager (and with it
 * the reattach to runs started before a reload) is built on first use: when the Runs view is
 * shown or a training command runs, so activation stays light. Views subscribe to this object's
 * events from the start; they fire once the manager exists.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadProfiles, profilesPath, type RunProfile } from '../core/training/profile';
import type { Progress } from '../core/training/progress';
import type { OutputProblem } from '../core/training/output-scanner';
import { RunManager, type RunInfo } from '../core/training/run-manager';
import type { Stream } from '../core/training/run-watch';
import { metricView, type MetricView, type RunView } from '../protocol/runs';
import { GpuWatch } from './gpuWatch';
import { logError, log } from '../log';

/** Points kept per run for the charts; older ones are dropped first. */
const MAX_POINTS = 100_000;

export interface ProfilesState {
  file: string;
  exists: boolean;
  profiles: RunProfile[];
  /** Why the file could not be used, in words. */
  error?: string;
}

export interface ProblemEvent {
  run: string;
  stream: Stream;
  problem: OutputProblem;
  /** Read back from an older part of the log (a reload), not seen as it happened. */
  replayed: boolean;
}

export class TrainingHost implements vscode.Disposable {
  private manager: RunManager | undefined;
  private readonly metrics = new Map<string, MetricView[]>();
  private readonly unsubscribe: (() => void)[] = [];
  private replaying = false;
  private focused: string | undefined;
  readonly gpus = new GpuWatch((pid) => this.manager?.ownerOf(pid));

  private readonly runEmitter = new vscode.EventEmitter<RunInfo | undefined>();
  private readonly progressEmitter = new vscode.EventEmitter<{ run: string; progress: Progress }>();
  private readonly outputEmitter = new vscode.EventEmitter<{ run: string; stream: Stream }>();
  private readonly metricsEmitter = new vscode.EventEmitter<{ run: string; points: MetricView[] }>();
  private readonly problemEmitter = new vscode.EventEmitter<ProblemEvent>();
  private readonly focusEmitter = new vscode.EventEmitter<string | undefined>();
  /** A run appeared or changed status (undefined: the whole list changed). */
  readonly onRunChanged = this.runEmitter.event;
  readonly onProgress = this.progressEmitter.event;
  /** New bytes in a run's stdout.log or stderr.log. */
  readonly onOutput = this.outputEmitter.event;
  readonly onMetrics = this.metricsEmitter.event;
  readonly onProblem = this.problemEmitter.event;
  readonly onFocusChanged = this.focusEmitter.event;

  constructor(readonly extensionUri: vscode.Uri) {}

  /** The first workspace folder: runs and profiles live there. */
  get workspace(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  get started(): boolean {
    return this.manager !== undefined;
  }

  /** The run manager, built (and reattached to the workspace's runs) on first call. */
  runs(): RunManager | undefined {
    if (this.manager) return this.manager;
    const ws = this.workspace;
    if (!ws) return undefined;
    const m = new RunManager({ workspace: ws });
    this.manager = m;
    this.unsubscribe.push(
      m.on('status', (info) => {
        if (info.live && !this.focused) this.focus(info.id);
        this.runEmitter.fire(info);
      }),
      m.on('progress', (e) => this.progressEmitter.fire(e)),
      m.on('output', (e) => this.outputEmitter.fire({ run: e.run, stream: e.stream })),
      m.on('metrics', (e) => {
        const views = e.points.map((p) => metricView(p.step, p.name, p.value));
        const list = this.metrics.get(e.run) ?? [];
        list.push(...views);
        if (list.length > MAX_POINTS) list.splice(0, list.length - MAX_POINTS);
        this.metrics.set(e.run, list);
        this.metricsEmitter.fire({ run: e.run, points: views });
      }),
      m.on('problem', (e) => this.problemEmitter.fire({ ...e, replayed: this.replaying })),
    );
    this.replaying = true;
    try {
      const found = m.reattach();
      log().info(`training: ${found.length} runs in ${ws}, ${found.filter((r) => r.live).length} live`);
    } catch (e) {
      logError('training: reattach', e);
    } finally {
      this.replaying = false;
    }
    this.runEmitter.fire(undefined);
    return m;
  }

  list(): RunInfo[] {
    return this.manager?.list() ?? [];
  }

  get(id: string): RunInfo | undefined {
    return this.manager?.get(id);
  }

  metricsOf(run: string): MetricView[] {
    return this.metrics.get(run) ?? [];
  }

  /** The run the status bar and the metrics panel follow. */
  get focusedRun(): RunInfo | undefined {
    return this.focused ? this.get(this.focused) : undefined;
  }

  focus(id: string | undefined): void {
    if (id === this.focused) return;
    this.focused = id;
    this.focusEmitter.fire(id);
  }

  /** The workspace's profiles file, read now (it is small and the user edits it). */
  profiles(): ProfilesState {
    const ws = this.workspace;
    if (!ws) return { file: '', exists: false, profiles: [], error: 'no folder is open' };
    const file = profilesPath(ws);
    try {
      return { file, exists: true, profiles: loadProfiles(file) };
    } catch (e) {
      const missing = (e as Error).message.includes('ENOENT');
      return missing ? { file, exists: false, profiles: [] } : { file, exists: true, profiles: [], error: (e as Error).message };
    }
  }

  runDir(id: string): string | undefined {
    const ws = this.workspace;
    return ws ? join(ws, '.grpo-studio', 'runs', id) : undefined;
  }

  dispose(): void {
    for (const u of this.unsubscribe) u();
    this.manager?.dispose();
    this.gpus.dispose();
    for (const e of [this.runEmitter, this.progressEmitter, this.outputEmitter, this.metricsEmitter, this.problemEmitter, this.focusEmitter]) e.dispose();
  }
}

/** What the metrics panel shows of a run. */
export function runView(info: RunInfo): RunView {
  // The panel's protocol has no 'pending' yet (a queued Slurm job): it reads as starting.
  const v: RunView = { id: info.id, profile: info.record.profile, status: info.status === 'pending' ? 'starting' : info.status, live: info.live, hasRollouts: info.record.rollouts !== undefined };
  if (info.progress) {
    const p = info.progress;
    v.progress = { step: p.step, total: p.total, ...(p.rate !== undefined ? { rate: p.rate } : {}), ...(p.eta !== undefined ? { eta: p.eta } : {}) };
  }
  return v;
}
