/**
 * Evaluation in the editor (docs/eval-profiles.md): *Evaluate Checkpoint…*
 * (every benchmark of an eval profile on one checkpoint folder), *Show Evaluation Matrix* and
 * *Export Report…* (the Markdown and self-contained HTML reports of src/core/eval), and the
 * `onNewCheckpoint` watches. Registering is cheap: profiles are read when a command runs.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { checkpointRef, type CheckpointRef, type EvalProfile } from '../core/eval/profiles';
import { candidateCheckpoints } from '../core/eval/results';
import { logError } from '../log';
import { EvalService, requireEvalTrust, summary } from './evalService';
import { EvalMatrixPanel } from './matrixPanel';
import { computeInWorker } from './computeMatrix';
import { pathSource, profileSource, type MatrixSource } from './sources';

const NO_PROFILE = 'No eval profile: add an "evals" list to .vscode/grpo-studio.json (a command per benchmark, see docs/eval-profiles.md).';

/** A command argument naming a folder or file: a Uri or a path. */
function pathArg(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  return typeof arg === 'string' && arg !== '' ? arg : undefined;
}

async function pickProfile(service: EvalService, placeHolder: string): Promise<EvalProfile | undefined> {
  const profiles = service.profiles();
  if (profiles.length === 0) {
    const open = 'Open grpo-studio.json';
    void vscode.window.showWarningMessage(NO_PROFILE, open).then((pick) => {
      const f = service.profilesFile;
      if (pick === open && f && existsSync(f)) void vscode.window.showTextDocument(vscode.Uri.file(f));
    });
    return undefined;
  }
  if (profiles.length === 1) return profiles[0];
  const pick = await vscode.window.showQuickPick(
    profiles.map((p) => ({ label: p.name, description: p.benchmarks.map((b) => b.label).join(', '), profile: p })),
    { placeHolder },
  );
  return pick?.profile;
}

async function pickCheckpoint(profile: EvalProfile): Promise<CheckpointRef | undefined> {
  const browse = { label: '$(folder-opened) Choose a checkpoint folder…', ref: undefined as CheckpointRef | undefined };
  const items = candidateCheckpoints(profile).map((c) => ({
    label: c.id,
    description: c.step !== undefined ? `step ${c.step}` : '',
    detail: c.path,
    ref: c as CheckpointRef | undefined,
  }));
  const pick = await vscode.window.showQuickPick([...items, browse], { placeHolder: `Checkpoint to evaluate with "${profile.name}" (${profile.benchmarks.map((b) => b.label).join(', ')})`, matchOnDetail: true });
  if (!pick) return undefined;
  if (pick.ref) return pick.ref;
  const uri = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Evaluate' }))?.[0];
  return uri ? checkpointRef(profile, uri.fsPath) : undefined;
}

export function registerEvaluation(context: vscode.ExtensionContext): vscode.Disposable[] {
  const service = new EvalService();
  const panel = new EvalMatrixPanel(context.extensionUri);

  /** The source of the matrix / report: an argument, the open panel's, else an eval profile (or a picked folder). */
  const sourceOf = async (arg: unknown, verb: string): Promise<MatrixSource | undefined> => {
    const given = pathArg(arg);
    if (given) return pathSource(given);
    if (panel.current) return panel.current;
    const profiles = service.profiles();
    if (profiles.length) {
      const p = await pickProfile(service, `Eval profile to ${verb}`);
      return p && profileSource(p);
    }
    const uri = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, canSelectMany: false, openLabel: verb, filters: { 'Evaluation manifest': ['json'] } }))?.[0];
    return uri && pathSource(uri.fsPath);
  };

  const commands: Record<string, (arg?: unknown, arg2?: unknown) => Promise<unknown>> = {
    'grpoStudio.evaluateCheckpoint': async (arg) => {
      if (!requireEvalTrust()) return undefined;
      const profile = await pickProfile(service, 'Eval profile to run');
      if (!profile) return undefined;
      const folder = pathArg(arg);
      const c = folder ? checkpointRef(profile, folder) : await pickCheckpoint(profile);
      if (!c) return undefined;
      service.output.show(true);
      const r = await service.evaluate(profile, c);
      if (!r) return undefined;
      const failed = r.outcomes.filter((o) => o.status === 'failed');
      const msg = summary(r);
      const show = 'Show Matrix';
      const pick = await (failed.length ? vscode.window.showErrorMessage(`${msg}. ${failed.map((f) => `${f.benchmark}: ${f.error}`).join('; ')}`, show) : vscode.window.showInformationMessage(msg, show));
      if (pick === show) panel.show(profileSource(r.profile));
      return r.outcomes;
    },
    'grpoStudio.showEvaluationMatrix': async (arg) => {
      const s = await sourceOf(arg, 'Show Matrix');
      if (s) panel.show(s);
      return s?.path;
    },
    // A second argument is the report's path (.md / .html added), for scripts and tests.
    'grpoStudio.exportEvaluationReport': async (arg, outArg) => {
      const s = await sourceOf(arg, 'Export Report');
      if (!s) return undefined;
      let out = pathArg(outArg);
      if (!out) {
        const base = s.profile ? s.profile.results : existsSync(s.path) && !s.path.endsWith('.json') ? s.path : dirname(s.path);
        const uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(base, 'report.md')), filters: { Markdown: ['md'] }, saveLabel: 'Export Report' });
        if (!uri) return undefined;
        out = uri.fsPath;
      }
      const stem = out.replace(/\.(md|html)$/i, '');
      const c = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Computing the evaluation report' }, () => computeInWorker(s));
      mkdirSync(dirname(stem), { recursive: true });
      writeFileSync(`${stem}.md`, c.markdown);
      writeFileSync(`${stem}.html`, c.html);
      const openMd = 'Open Markdown';
      void vscode.window.showInformationMessage(`Wrote ${stem}.md and ${stem}.html (${c.view.checkpoints.length} checkpoints × ${c.view.benchmarks.length} benchmarks).`, openMd).then((pick) => {
        if (pick === openMd) void vscode.window.showTextDocument(vscode.Uri.file(`${stem}.md`));
      });
      return [`${stem}.md`, `${stem}.html`];
    },
  };

  const watcher = vscode.workspace.createFileSystemWatcher('**/.vscode/grpo-studio.json');
  const rewatch = () => service.refreshWatches();
  // Watches start after activation settles: reading the profiles is not activation's job.
  const startTimer = setTimeout(rewatch, 2000);
  return [
    service,
    panel,
    watcher,
    { dispose: () => clearTimeout(startTimer) },
    watcher.onDidChange(rewatch),
    watcher.onDidCreate(rewatch),
    watcher.onDidDelete(rewatch),
    vscode.workspace.onDidGrantWorkspaceTrust(rewatch),
    service.onDidEvaluate((r) => panel.refresh(r.profile.name)),
    ...Object.entries(commands).map(([id, fn]) =>
      vscode.commands.registerCommand(id, async (arg?: unknown, arg2?: unknown) => {
        try {
          return await fn(arg, arg2);
        } catch (e) {
          logError(id, e);
          void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
          return undefined;
        }
      }),
    ),
  ];
}
