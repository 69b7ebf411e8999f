/**
 * RunManager: launches, watches, stops, restarts, resumes and reattaches training runs of one
 * workspace, and tells listeners what happens (status, output, progress, metrics, problems).
 * No vscode import: the extension's Runs view and the CLI both sit on it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newestCheckpoint } from './checkpoints';
import type { MetricPoint } from './metrics';
import type { OutputProblem } from './output-scanner';
import { planLaunch, resolveChain, type RunProfile } from './profile';
import { clockTicks, collectTree } from './process-table';
import type { Progress } from './progress';
import { ensureDir, FINISHED, listRunIds, newRunId, runDir, writeJson, type RunRecord, type RunStatus } from './run-folder';
import { inspectRun } from './run-status';
import { RunWatch, type Stream } from './run-watch';
import { refreshSlurmRuns, stopSlurmRun, submitSlurm } from './slurm-runs';
import { stopTree, type StopOptions, type StopResult } from './stop-tree';
import { RUN_MARKER, writeSupervisor } from './supervisor';

export interface RunInfo {
  id: string;
  dir: string;
  record: RunRecord;
  status: RunStatus;
  live: boolean;
  progress?: Progress;
  /** Problems recognised in the output so far (newest last, at most 50). */
  problems: { stream: Stream; problem: OutputProblem }[];
  /** Why a Slurm run's state may be stale (the last squeue failed), in words. */
  watchError?: string;
}

export interface RunEvents {
  status: RunInfo;
  output: { run: string; stream: Stream; text: string };
  progress: { run: string; progress: Progress };
  metrics: { run: string; points: MetricPoint[] };
  problem: { run: string; stream: Stream; problem: OutputProblem };
}

export interface LaunchOptions {
  /** Every profile of the file, so `after` resolves. Defaults to [profile]. */
  profiles?: readonly RunProfile[];
  gpus?: number[];
  /** true: resume from the newest checkpoint in output_dir (error if none); a string: that checkpoint. */
  resume?: boolean | string;
  /** Slurm: only this value of the profile's sweep (restarting or resuming one task). */
  sweepIndex?: number;
  /** Slurm: shown the sbatch script before it is submitted; false cancels (nothing is submitted). */
  confirmScript?(script: string, file: string): Promise<boolean> | boolean;
}

export interface RunManagerOptions {
  workspace: string;
  /** Base environment of runs (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Node (or Electron) binary that runs the supervisor (default process.execPath). */
  nodePath?: string;
  /** How often live runs are checked and logs read (ms). */
  pollMs?: number;
  /** Slurm: first interval between squeue calls (ms, default 5000); it backs off while nothing changes… */
  slurmPollMs?: number;
  /** …up to this (ms, default 30000). Every submit or stop starts again from slurmPollMs. */
  slurmMaxPollMs?: number;
}

type Listener<T> = (e: T) => void;

export class RunManager {
  private readonly runs = new Map<string, RunInfo>();
  private readonly watches = new Map<string, RunWatch>();
  // Keyed by event name; `on` and `emit` keep each set's payload type consistent.
  private readonly listeners = new Map<keyof RunEvents, Set<Listener<never>>>();
  private timer: NodeJS.Timeout | undefined;
  private slurmTimer: NodeJS.Timeout | undefined;
  private slurmDelay = 0;
  private slurmBusy = false;
  private slurmError: string | undefined;
  private disposed = false;

  constructor(readonly opts: RunManagerOptions) {}

  /** Subscribe; returns the unsubscribe function (a VS Code Disposable's `dispose`). */
  on<K extends keyof RunEvents>(event: K, listener: Listener<RunEvents[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  private emit<K extends keyof RunEvents>(event: K, e: RunEvents[K]): void {
    for (const l of (this.listeners.get(event) ?? []) as Set<Listener<RunEvents[K]>>) {
      try {
        l(e);
      } catch {
        // one listener's bug must not stop the others or the run
      }
    }
  }

  list(): RunInfo[] {
    return [...this.runs.values()].sort((a, b) => (a.record.createdAt < b.record.createdAt ? 1 : -1));
  }

  get(id: string): RunInfo | undefined {
    return this.runs.get(id);
  }

  async launch(profile: RunProfile, o: LaunchOptions = {}): Promise<RunInfo> {
    return (await this.launchAll(profile, o))[0]!;
  }

  /** Like launch; a Slurm sweep gives one run per value (one array task each). */
  async launchAll(profile: RunProfile, o: LaunchOptions = {}): Promise<RunInfo[]> {
    const ws = this.opts.workspace;
    const profiles = o.profiles ?? [profile];
    const chain = resolveChain(profiles.some((p) => p.name === profile.name) ? profiles : [...profiles, profile], profile.name);
    let resumeFrom: string | undefined;
    if (o.resume !== undefined && o.resume !== false) {
      if (typeof o.resume === 'string') resumeFrom = o.resume;
      else {
        const out = planLaunch(profile, { workspace: ws, profiles: chain, ...(o.gpus ? { gpus: o.gpus } : {}), ...(o.sweepIndex !== undefined ? { sweepIndex: o.sweepIndex } : {}) }).outputDir;
        if (!out) throw new Error(`profile "${profile.name}" has no output_dir to resume from`);
        const ckpt = newestCheckpoint(out);
        if (!ckpt) throw new Error(`no checkpoint-N folder in ${out} to resume from`);
        resumeFrom = ckpt.path;
      }
    }
    const plan = planLaunch(profile, {
      workspace: ws,
      profiles: chain,
      ...(o.gpus ? { gpus: o.gpus } : {}),
      ...(resumeFrom !== undefined ? { resumeFrom } : {}),
      ...(this.opts.env ? { env: this.opts.env } : {}),
    });
    if (!existsSync(plan.cwd)) throw new Error(`profile "${profile.name}": cwd ${plan.cwd} does not exist`);
    if (profile.target === 'slurm') return this.submit(profile, chain, o, resumeFrom);
    if (plan.outputDir) mkdirSync(plan.outputDir, { recursive: true });

    const id = newRunId(profile.name);
    const dir = runDir(ws, id);
    ensureDir(dir);
    const record: RunRecord = { ...plan, id, clockTicks: clockTicks(), createdAt: new Date().toISOString(), status: 'starting', chain };
    writeJson(join(dir, 'launch.json'), record);
    const started = await this.startSupervisor(dir);
    const info = this.track(id);
    if (!info) throw new Error(`run ${id}: run.json unreadable after launch`);
    if (started.error) throw Object.assign(new Error(`run ${id} failed to start: ${started.error}`), { run: info });
    return [info];
  }

  private async submit(profile: RunProfile, chain: RunProfile[], o: LaunchOptions, resumeFrom: string | undefined): Promise<RunInfo[]> {
    const ws = this.opts.workspace;
    const ids = await submitSlurm({
      workspace: ws,
      profile,
      chain,
      clockTicks: clockTicks(),
      ...(this.opts.env ? { env: this.opts.env } : {}),
      ...(o.sweepIndex !== undefined ? { only: o.sweepIndex } : {}),
      ...(o.confirmScript ? { confirm: o.confirmScript } : {}),
      planFor: (sweepIndex) =>
        planLaunch(profile, { workspace: ws, profiles: chain, sweepIndex, ...(resumeFrom !== undefined ? { resumeFrom } : {}), ...(this.opts.env ? { env: this.opts.env } : {}) }),
    });
    if (!ids) throw Object.assign(new Error('submission cancelled: nothing was sent to Slurm'), { cancelled: true });
    const infos = ids.map((id) => this.track(id)).filter((x): x is RunInfo => x !== undefined);
    this.kickSlurm();
    return infos;
  }

  /** Poll Slurm soon (after a submit or stop), then back off again while nothing changes. */
  private kickSlurm(): void {
    this.slurmDelay = 0;
    if (this.slurmTimer) clearTimeout(this.slurmTimer);
    this.slurmTimer = undefined;
    this.scheduleSlurm();
  }

  private scheduleSlurm(): void {
    if (this.disposed || this.slurmTimer || this.slurmBusy) return;
    if (![...this.runs.values()].some((r) => r.live && r.record.job)) return;
    const base = this.opts.slurmPollMs ?? 5000;
    this.slurmDelay = this.slurmDelay ? Math.min(this.slurmDelay * 1.5, Math.max(base, this.opts.slurmMaxPollMs ?? 30_000)) : base;
    this.slurmTimer = setTimeout(() => {
      this.slurmTimer = undefined;
      void this.pollSlurm();
    }, this.slurmDelay);
    this.slurmTimer.unref();
  }

  /** One squeue call for every live Slurm run of the workspace; changed runs are re-read and announced. */
  async pollSlurm(): Promise<void> {
    if (this.slurmBusy) return;
    this.slurmBusy = true;
    try {
      const live = [...this.runs.values()].filter((r) => r.live && r.record.job);
      const r = await refreshSlurmRuns(live.map((x) => ({ dir: x.dir, record: x.record })), this.opts.env ? { env: this.opts.env } : {});
      const errorChanged = r.error !== this.slurmError;
      this.slurmError = r.error;
      if (r.changed.length) this.slurmDelay = 0;
      for (const x of live) if (r.changed.includes(x.dir) || errorChanged) this.track(x.id, errorChanged);
    } finally {
      this.slurmBusy = false;
    }
    this.scheduleSlurm();
  }

  private startSupervisor(dir: string): Promise<{ pid?: number; error?: string }> {
    const env = { ...(this.opts.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' };
    // Detached: its own session, so closing the editor (SIGHUP to its group) does not reach it.
    const sup = spawn(this.opts.nodePath ?? process.execPath, [writeSupervisor(dir), dir], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env, cwd: dir });
    return new Promise((resolvePromise) => {
      let text = '';
      const done = (r: { pid?: number; error?: string }) => {
        clearTimeout(timer);
        sup.stdout?.removeAllListeners();
        sup.stdout?.destroy();
        sup.unref();
        resolvePromise(r);
      };
      const timer = setTimeout(() => done({ error: 'the supervisor did not report within 15 s' }), 15_000);
      sup.on('error', (e) => done({ error: `cannot start the supervisor: ${e.message}` }));
      sup.on('exit', () => this.refresh());
      sup.stdout?.setEncoding('utf8');
      sup.stdout?.on('data', (d: string) => {
        text += d;
        const nl = text.indexOf('\n');
        if (nl < 0) return;
        try {
          done(JSON.parse(text.slice(0, nl)) as { pid?: number; error?: string });
        } catch {
          done({ error: `unexpected supervisor output: ${text.slice(0, 200)}` });
        }
      });
      sup.stdout?.on('end', () => done({ error: 'the supervisor exited without reporting' }));
    });
  }

  /** Read the run folder, start watching it if live (or once, if finished), emit its status. */
  private track(id: string, announce = false): RunInfo | undefined {
    const dir = runDir(this.opts.workspace, id);
    const state = inspectRun(dir, true);
    if (!state) return undefined;
    const prev = this.runs.get(id);
    const info: RunInfo = { id, dir, record: state.record, status: state.status, live: state.live, problems: prev?.problems ?? [] };
    if (prev?.progress) info.progress = prev.progress;
    if (state.record.job && state.live && this.slurmError) info.watchError = this.slurmError;
    this.runs.set(id, info);
    if (!this.watches.has(id)) {
      const watch = new RunWatch(state.record, dir, {
        output: (stream, text) => this.emit('output', { run: id, stream, text }),
        progress: (progress) => {
          const cur = this.runs.get(id);
          if (cur) cur.progress = progress;
          this.emit('progress', { run: id, progress });
        },
        metrics: (points) => this.emit('metrics', { run: id, points }),
        problem: (stream, problem) => {
          const cur = this.runs.get(id);
          if (cur) {
            cur.problems.push({ stream, problem });
            if (cur.problems.length > 50) cur.problems.shift();
          }
          this.emit('problem', { run: id, stream, problem });
        },
      });
      this.watches.set(id, watch);
      if (state.live) watch.start(this.opts.pollMs ?? 250);
      else watch.poll();
    } else if (!info.live && prev?.live) this.watches.get(id)?.poll(); // the last output, before 'status' says it ended
    if (!info.live) this.watches.get(id)?.stop();
    const jobChanged = JSON.stringify(prev?.record.job) !== JSON.stringify(info.record.job);
    if (announce || jobChanged || !prev || prev.status !== info.status || prev.live !== info.live || prev.record.pid !== info.record.pid) this.emit('status', info);
    this.ensureTimer();
    if (info.live && info.record.job) this.scheduleSlurm();
    return info;
  }

  private ensureTimer(): void {
    const anyLive = [...this.runs.values()].some((r) => r.live);
    if (anyLive && !this.timer) {
      this.timer = setInterval(() => this.refresh(), Math.max(this.opts.pollMs ?? 250, 500));
      this.timer.unref();
    } else if (!anyLive && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Re-read every live run's folder; a finished run gets one last read of its logs. */
  refresh(): void {
    for (const r of [...this.runs.values()]) {
      if (!r.live) continue;
      this.track(r.id);
    }
    this.ensureTimer();
  }

  /** After a window reload: find every run in the workspace; live ones are followed again. */
  reattach(): RunInfo[] {
    for (const id of listRunIds(this.opts.workspace)) if (!this.runs.has(id)) this.track(id);
    return this.list();
  }

  /** Every live process of a run (its tree, including workers that left the process group). */
  processesOf(id: string): number[] {
    const r = this.runs.get(id) ?? this.track(id);
    // A Slurm job's processes are on its nodes (srun --jobid reaches them, docs/slurm.md).
    if (!r || !r.live || r.record.slurm) return [];
    const root = r.record.pid !== undefined && r.record.startTicks !== undefined ? { pid: r.record.pid, startTicks: r.record.startTicks } : undefined;
    return [...collectTree(root, { marker: { name: RUN_MARKER, value: id } }).keys()];
  }

  /** Which run a pid belongs to (e.g. one holding GPU memory), if any. */
  ownerOf(pid: number): string | undefined {
    return [...this.runs.values()].find((r) => r.live && this.processesOf(r.id).includes(pid))?.id;
  }

  /**
   * Stop a run: SIGINT, SIGTERM, SIGKILL to the whole tree after grace periods. Resolves with
   * ok=true only when no process of the tree is left.
   */
  async stop(id: string, o: Omit<StopOptions, 'marker' | 'exclude'> = {}): Promise<StopResult> {
    const dir = runDir(this.opts.workspace, id);
    const state = inspectRun(dir);
    if (!state) throw new Error(`no run '${id}'`);
    if (state.record.slurm) {
      if (!state.record.job) throw new Error(`run '${id}' was never submitted to Slurm (no job id)`);
      this.kickSlurm();
      const r = await stopSlurmRun(dir, { ...o, ...(this.opts.env ? { env: this.opts.env } : {}) });
      this.track(id);
      this.refresh();
      return r;
    }
    writeFileSync(join(dir, 'stop-requested'), new Date().toISOString() + '\n');
    const rec = state.record;
    const root = rec.pid !== undefined && rec.startTicks !== undefined ? { pid: rec.pid, startTicks: rec.startTicks } : undefined;
    const exclude = new Set(rec.supervisorPid !== undefined ? [rec.supervisorPid] : []);
    const result = await stopTree(root, { ...o, marker: { name: RUN_MARKER, value: id }, exclude });
    // The supervisor records the exit as soon as its child is gone; give it a moment.
    const end = Date.now() + 3000;
    while (Date.now() < end && inspectRun(dir)?.live) await new Promise((r) => setTimeout(r, 50));
    const after = inspectRun(dir, true);
    if (after && !FINISHED.includes(after.status) && !after.live) {
      writeJson(join(dir, 'run.json'), { ...after.record, status: 'stopped', endedAt: new Date().toISOString() });
    }
    if (this.runs.has(id) || after) this.track(id);
    this.refresh();
    return result;
  }

  /** Stop (if live) and launch the same profile again with the same GPUs. */
  async restart(id: string, o: { resume?: boolean | string; stop?: Omit<StopOptions, 'marker' | 'exclude'> } & Pick<LaunchOptions, 'confirmScript'> = {}): Promise<RunInfo> {
    const state = inspectRun(runDir(this.opts.workspace, id));
    if (!state) throw new Error(`no run '${id}'`);
    const chain = state.record.chain;
    const profile = chain?.at(-1);
    if (!chain || !profile) throw new Error(`run '${id}' has no recorded profile to restart`);
    if (state.live) {
      const r = await this.stop(id, o.stop);
      if (!r.ok) throw new Error(`run '${id}' did not stop: ${r.survivors.length} processes left (${r.survivors.join(', ')})`);
    }
    const sweep = state.record.sweep;
    return this.launch(profile, {
      profiles: chain,
      ...(state.record.gpus ? { gpus: state.record.gpus } : {}),
      ...(o.resume !== undefined ? { resume: o.resume } : {}),
      ...(sweep && sweep.count > 1 ? { sweepIndex: sweep.index } : {}),
      ...(o.confirmScript ? { confirmScript: o.confirmScript } : {}),
    });
  }

  /** Resume a finished or stopped run from the newest checkpoint in its output_dir. */
  resume(id: string, o: Pick<LaunchOptions, 'confirmScript'> = {}): Promise<RunInfo> {
    return this.restart(id, { ...o, resume: true });
  }

  /** Stop watching (runs keep going: they belong to their supervisors, not to the editor). */
  dispose(): void {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.slurmTimer) clearTimeout(this.slurmTimer);
    this.timer = undefined;
    this.slurmTimer = undefined;
    for (const w of this.watches.values()) w.stop();
    this.watches.clear();
    this.listeners.clear();
  }
}
