/**
 * The editor's side of evaluation for the first workspace folder: the eval profiles of
 * `.vscode/grpo-studio.json` (their problems shown on the file's lines), one evaluation at a time
 * (a cancellable notification; every benchmark a run of the training run manager, so it also
 * appears in the Runs view after a refresh and `grpo-studio stop` stops it), the runners' output
 * in the "GRPO Studio: Evaluation" channel, and the `onNewCheckpoint` watches. Nothing runs in
 * Restricted Mode (docs/eval-profiles.md).
 */
import * as vscode from 'vscode';
import { EvalProfileError, loadEvalProfiles, type CheckpointRef, type EvalProfile } from '../core/eval/profiles';
import { evaluateCheckpoint, type BenchmarkOutcome } from '../core/eval/runEval';
import { CheckpointWatch } from '../core/eval/watch';
import { checkpointRef } from '../core/eval/profiles';
import { benchmarkValue } from '../core/eval/results';
import { profilesPath } from '../core/training/profile';
import { RunManager } from '../core/training/run-manager';
import { log, logError } from '../log';

export const MANAGE_TRUST = 'Manage Workspace Trust';

export function evalTrustExplanation(): string {
  return (
    'GRPO Studio cannot run an evaluation in Restricted Mode: it executes the benchmark commands of ' +
    "this workspace's .vscode/grpo-studio.json with your permissions. Trust the workspace to evaluate " +
    'checkpoints; the matrix and reports of existing predictions work without trust.'
  );
}

/** True when trusted; otherwise says why not and offers the trust editor. */
export function requireEvalTrust(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(evalTrustExplanation(), MANAGE_TRUST).then((pick) => {
    if (pick === MANAGE_TRUST) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

export interface Evaluated {
  profile: EvalProfile;
  checkpoint: CheckpointRef;
  outcomes: BenchmarkOutcome[];
}

export class EvalService implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('GRPO Studio: Evaluation');
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('grpo-studio-eval');
  private manager: RunManager | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Evaluations queued or running. */
  private pending = 0;
  private readonly watches = new Map<string, { key: string; watch: CheckpointWatch }>();
  private readonly evaluated = new vscode.EventEmitter<Evaluated>();
  /** An evaluation from the editor finished (the matrix panel re-reads). */
  readonly onDidEvaluate = this.evaluated.event;

  get workspace(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  get profilesFile(): string | undefined {
    const ws = this.workspace;
    return ws ? profilesPath(ws) : undefined;
  }

  /** The eval profiles, read now; a bad file's problems go on its lines and the error is thrown. */
  profiles(): EvalProfile[] {
    const ws = this.workspace;
    const file = this.profilesFile;
    if (!ws || !file) throw new Error('open a folder first: eval profiles live in its .vscode/grpo-studio.json');
    try {
      const profiles = loadEvalProfiles(file, ws);
      this.diagnostics.delete(vscode.Uri.file(file));
      return profiles;
    } catch (e) {
      if (e instanceof EvalProfileError) {
        this.diagnostics.set(
          vscode.Uri.file(file),
          e.problems.map((p) => {
            const line = Math.max(0, (p.line ?? 1) - 1);
            const d = new vscode.Diagnostic(new vscode.Range(line, 0, line, 1000), `${p.field}: ${p.message}`, vscode.DiagnosticSeverity.Error);
            d.source = 'GRPO Studio eval';
            return d;
          }),
        );
      }
      throw e;
    }
  }

  private runs(ws: string): RunManager {
    this.manager ??= new RunManager({ workspace: ws });
    return this.manager;
  }

  /** Queue an evaluation (one at a time: benchmarks usually share the GPUs) and show its progress. */
  evaluate(profile: EvalProfile, c: CheckpointRef, only?: readonly string[]): Promise<Evaluated | undefined> {
    if (this.pending > 0) this.output.appendLine(`   ${c.id} waits for the evaluation running now (${this.pending} in line)`);
    this.pending++;
    const next = this.queue.then(() => this.runNow(profile, c, only)).finally(() => this.pending--);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(profile: EvalProfile, c: CheckpointRef, only?: readonly string[]): Promise<Evaluated | undefined> {
    const ws = this.workspace;
    if (!ws) throw new Error('no folder is open');
    if (!vscode.workspace.isTrusted) throw new Error(evalTrustExplanation());
    const manager = this.runs(ws);
    const out = this.output;
    const total = profile.benchmarks.filter((b) => !only || only.includes(b.id)).length;
    out.appendLine(`── ${new Date().toISOString()} · eval profile "${profile.name}" on ${c.id} (${c.path})`);
    const outcomes = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Evaluating ${c.id}`, cancellable: true },
      async (progress, token) => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => {
          out.appendLine('   stop requested: stopping the running benchmark’s process tree');
          ac.abort();
        });
        let k = 0;
        try {
          return await evaluateCheckpoint(manager, ws, profile, c, {
            ...(only ? { only } : {}),
            signal: ac.signal,
            events: {
              start: (plan, run) => {
                k++;
                progress.report({ message: `${plan.benchmark} (${k}/${total})`, increment: k === 1 ? 0 : 100 / total });
                out.appendLine(`▶ ${plan.benchmark} · run ${run.id}`);
                out.appendLine(`  $ ${Array.isArray(plan.command) ? plan.command.join(' ') : plan.command}`);
              },
              output: (_b, _stream, text) => out.append(text),
              done: (o) => out.appendLine(`■ ${o.benchmark}: ${o.status}${o.error ? ` (${o.error})` : ''}${o.status === 'exited' ? ` → ${o.output}` : ''}`),
            },
          });
        } finally {
          sub.dispose();
        }
      },
    );
    const result = { profile, checkpoint: c, outcomes };
    this.evaluated.fire(result);
    return result;
  }

  /** (Re)start the onNewCheckpoint watches; a profile whose watch settings did not change keeps its watch. */
  refreshWatches(): void {
    let profiles: EvalProfile[] = [];
    try {
      // Read even without trust: the file's problems still go on its lines.
      profiles = this.profiles().filter((p) => p.onNewCheckpoint && vscode.workspace.isTrusted);
    } catch (e) {
      log().warn(`eval: eval profiles not watched: ${(e as Error).message}`);
    }
    const wanted = new Map(profiles.map((p) => [p.name, p]));
    for (const [name, w] of this.watches) {
      const p = wanted.get(name);
      if (!p || watchKey(p) !== w.key) {
        w.watch.stop();
        this.watches.delete(name);
      }
    }
    for (const p of profiles) {
      if (this.watches.has(p.name)) continue;
      const watch = new CheckpointWatch({
        folders: p.checkpoints,
        settleMs: p.settleSeconds * 1000,
        onReady: (ck) => {
          // Re-read the profile: it may have changed since the watch started.
          const now = this.profilesSafe().find((x) => x.name === p.name);
          if (!now || !vscode.workspace.isTrusted) return;
          log().info(`eval: new checkpoint ${ck.path}: evaluating with "${p.name}"`);
          this.evaluate(now, checkpointRef(now, ck.path)).then(
            (r) => r && void vscode.window.showInformationMessage(summary(r), 'Show Matrix').then((pick) => pick && vscode.commands.executeCommand('grpoStudio.showEvaluationMatrix')),
            (e: unknown) => logError(`eval of ${ck.path}`, e),
          );
        },
      });
      watch.start();
      this.watches.set(p.name, { key: watchKey(p), watch });
      log().info(`eval: watching ${p.checkpoints.join(', ')} for new checkpoints ("${p.name}")`);
    }
  }

  private profilesSafe(): EvalProfile[] {
    try {
      return this.profiles();
    } catch {
      return [];
    }
  }

  dispose(): void {
    for (const w of this.watches.values()) w.watch.stop();
    this.watches.clear();
    this.manager?.dispose();
    this.output.dispose();
    this.diagnostics.dispose();
    this.evaluated.dispose();
  }
}

const watchKey = (p: EvalProfile): string => JSON.stringify([p.checkpoints, p.settleSeconds]);

/** "Evaluated checkpoint-200: Exam 62.5% · POPE failed" for a notification (values as the matrix shows them). */
export function summary(r: Evaluated): string {
  const parts = r.outcomes.map((o) => {
    const b = r.profile.benchmarks.find((x) => x.id === o.benchmark);
    if (!b) return `${o.benchmark} ${o.status}`;
    if (o.status !== 'exited') return `${b.label} ${o.status}`;
    const v = benchmarkValue(b, o.output);
    return 'error' in v ? `${b.label} unreadable` : `${b.label} ${(100 * v.value).toFixed(1)}% (n=${v.n})`;
  });
  return `Evaluated ${r.checkpoint.id}: ${parts.join(' · ')}`;
}
