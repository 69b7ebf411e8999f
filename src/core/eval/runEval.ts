/**
 * Evaluating one checkpoint: each benchmark of the eval profile, one after the other, as a run of
 * the training run manager (its supervisor, run folder and process-tree stop; docs/run-profiles.md
 * "How runs are kept"), so an evaluation is listed, followed and stopped like any run. A
 * benchmark's predictions file is moved aside to `<file>.previous` first, so what the matrix
 * reads afterwards is this run's output or nothing.
 */
import { existsSync, renameSync } from 'node:fs';
import type { RunProfile } from '../training/profile';
import type { RunInfo, RunManager } from '../training/run-manager';
import type { Stream } from '../training/run-watch';
import { planEval, type CheckpointRef, type EvalPlan, type EvalProfile } from './profiles';
import { recordCheckpoint } from './results';

export interface BenchmarkOutcome {
  benchmark: string;
  /** exited: 0 and the predictions file exists; failed: another exit, or no file; cancelled: never started. */
  status: 'exited' | 'failed' | 'stopped' | 'cancelled';
  run?: string;
  exitCode?: number | null;
  output: string;
  error?: string;
}

export interface EvalEvents {
  start?(plan: EvalPlan, run: RunInfo): void;
  output?(benchmark: string, stream: Stream, text: string): void;
  done?(outcome: BenchmarkOutcome): void;
}

/** The run-manager profile of one benchmark's run: the expanded command, absolute cwd. */
export function runProfileOf(profile: EvalProfile, plan: EvalPlan): RunProfile {
  const p: RunProfile = { name: `eval-${profile.name}-${plan.benchmark}`, command: plan.command, cwd: plan.cwd, env: plan.env, metrics: { stdout: false } };
  if (plan.shell) p.shell = true;
  // On Slurm, each benchmark is a job of its own, submitted, watched and stopped as a training run is.
  if (profile.target === 'slurm') {
    p.target = 'slurm';
    p.slurm = profile.slurm ?? {};
  }
  return p;
}

function waitForEnd(manager: RunManager, id: string): Promise<RunInfo> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const r = manager.get(id);
      if (r && !r.live) {
        off();
        clearInterval(timer);
        resolve(r);
        return true;
      }
      return false;
    };
    const off = manager.on('status', (info) => {
      if (info.id === id) check();
    });
    // The manager polls live runs itself; this only covers an end announced before we listened.
    const timer = setInterval(() => {
      manager.refresh();
      check();
    }, 1000);
    check();
  });
}

/**
 * Run every benchmark (or `only` those) of `profile` on checkpoint `c`. `signal` stops the
 * running benchmark's whole process tree and skips the rest.
 */
export async function evaluateCheckpoint(
  manager: RunManager,
  workspace: string,
  profile: EvalProfile,
  c: CheckpointRef,
  o: { only?: readonly string[]; signal?: AbortSignal; events?: EvalEvents; stopGraceMs?: number } = {},
): Promise<BenchmarkOutcome[]> {
  if (!existsSync(c.path)) throw new Error(`checkpoint folder ${c.path} does not exist`);
  const benchmarks = profile.benchmarks.filter((b) => !o.only || o.only.includes(b.id));
  const plans = benchmarks.map((b) => planEval(profile, b, c, workspace));
  recordCheckpoint(profile, c);
  const outcomes: BenchmarkOutcome[] = [];
  for (const plan of plans) {
    if (o.signal?.aborted) {
      outcomes.push({ benchmark: plan.benchmark, status: 'cancelled', output: plan.output });
      continue;
    }
    if (existsSync(plan.output)) renameSync(plan.output, `${plan.output}.previous`);
    let info: RunInfo;
    try {
      info = await manager.launch(runProfileOf(profile, plan));
    } catch (e) {
      const outcome: BenchmarkOutcome = { benchmark: plan.benchmark, status: 'failed', output: plan.output, error: (e as Error).message };
      const run = (e as { run?: RunInfo }).run;
      if (run) outcome.run = run.id;
      outcomes.push(outcome);
      o.events?.done?.(outcome);
      continue;
    }
    o.events?.start?.(plan, info);
    const offOutput = manager.on('output', (e) => {
      if (e.run === info.id) o.events?.output?.(plan.benchmark, e.stream, e.text);
    });
    const onAbort = (): void => void manager.stop(info.id, { intGraceMs: o.stopGraceMs ?? 5000, termGraceMs: o.stopGraceMs ?? 5000 });
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const end = await waitForEnd(manager, info.id);
    o.signal?.removeEventListener('abort', onAbort);
    offOutput();
    const code = end.record.exitCode;
    let outcome: BenchmarkOutcome;
    if (end.status === 'stopped' || o.signal?.aborted) outcome = { benchmark: plan.benchmark, status: 'stopped', run: info.id, exitCode: code ?? null, output: plan.output };
    else if (end.status === 'exited' && existsSync(plan.output)) outcome = { benchmark: plan.benchmark, status: 'exited', run: info.id, exitCode: code ?? 0, output: plan.output };
    else {
      const why = end.status === 'exited' ? `exited 0 but wrote no ${plan.output}` : end.record.error ?? `exit ${code ?? end.record.signal ?? end.status}`;
      const last = end.record.lastLines?.stderr.slice(-3).join(' | ');
      outcome = { benchmark: plan.benchmark, status: 'failed', run: info.id, exitCode: code ?? null, output: plan.output, error: last ? `${why}: ${last}` : why };
    }
    outcomes.push(outcome);
    o.events?.done?.(outcome);
  }
  return outcomes;
}
