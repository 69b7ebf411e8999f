/**
 * The training commands: launch (profile, then GPUs with free ones pre-selected), stop, restart,
 * resume, insert a preset, show output / metrics, open rollouts, reveal the run folder. Launch,
 * stop, restart and resume refuse in Restricted Mode with the reason (see trust.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { suggestFreeGpus } from '../core/training/gpus';
import { formatProblem, ProfileError, type RunProfile } from '../core/training/profile';
import { allPresets } from '../core/training/presets';
import type { RunInfo } from '../core/training/run-manager';
import { jobLine } from '../core/training/slurm-runs';
import type { TrainingHost } from './host';
import { scriptProfile } from './launchScript';
import { addProfile } from './profileFile';
import type { RunsNode } from './runsTree';
import { requireTrust } from './trust';
import { logError } from '../log';

export interface RunCommandDeps {
  host: TrainingHost;
  showOutput(run: RunInfo, preserveFocus?: boolean): void;
  showMetrics(run: string | undefined): void;
  revealRun(run: string): void;
}

/** Command arguments: a tree node, a run id, or a CodeLens request. */
type Arg = RunsNode | string | { profile?: string; script?: string } | undefined;

const message = (e: unknown) => (e instanceof ProfileError ? e.problems.map(formatProblem).join('; ') : e instanceof Error ? e.message : String(e));

export function runCommands(d: RunCommandDeps): Record<string, (arg?: unknown) => unknown> {
  const { host } = d;

  const workspaceOr = (): string | undefined => {
    const ws = host.workspace;
    if (!ws) void vscode.window.showInformationMessage('Open a folder first: GRPO Studio keeps run profiles and runs in the workspace folder.');
    return ws;
  };

  /** The run an argument names, or one the user picks among `candidates`. */
  const runFrom = async (arg: Arg, candidates: (r: RunInfo) => boolean, verb: string): Promise<RunInfo | undefined> => {
    if (!host.runs()) return undefined;
    const id = typeof arg === 'string' ? arg : arg && 'kind' in arg && arg.kind === 'run' ? arg.id : undefined;
    if (id) return host.get(id) ?? (void vscode.window.showWarningMessage(`No run '${id}' in this workspace.`), undefined);
    const list = host.list().filter(candidates);
    if (list.length === 0) {
      void vscode.window.showInformationMessage(`No run to ${verb}.`);
      return undefined;
    }
    if (list.length === 1 && verb === 'stop') return list[0];
    const pick = await vscode.window.showQuickPick(
      list.map((r) => ({ label: r.record.profile, description: `${r.status}${r.progress ? ` · ${r.progress.step}/${r.progress.total}` : ''}`, detail: r.id, run: r })),
      { title: `${verb[0]!.toUpperCase()}${verb.slice(1)} Training Run`, placeHolder: `Run to ${verb}` },
    );
    return pick?.run;
  };

  const pickGpus = async (profile: RunProfile): Promise<{ gpus?: number[] } | undefined> => {
    const snap = await host.gpus.snapshot();
    if (!snap || snap.gpus.length === 0) return {};
    const want = profile.gpus?.length || 1;
    const free = suggestFreeGpus(snap.gpus, snap.processes, snap.gpus.length);
    const preset = profile.gpus && profile.gpus.every((g) => free.includes(g)) ? profile.gpus : suggestFreeGpus(snap.gpus, snap.processes, want);
    const items = snap.gpus.map((g) => {
      const holders = snap.processes.filter((p) => p.gpuUuid === g.uuid).map((p) => (p.run ? `run ${p.run}` : `pid ${p.pid}`));
      const mem = g.memoryUsed !== undefined && g.memoryTotal !== undefined ? `${Math.round(g.memoryUsed)}/${Math.round(g.memoryTotal)} MiB` : '';
      return {
        label: `GPU ${g.index}`,
        description: [g.name, g.utilization !== undefined ? `${g.utilization}%` : '', mem, free.includes(g.index) ? 'free' : 'busy'].filter(Boolean).join(' · '),
        ...(holders.length ? { detail: `held by ${holders.join(', ')}` } : {}),
        picked: preset.includes(g.index),
        index: g.index,
      };
    });
    const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: `GPUs for ${profile.name}`, placeHolder: `Free GPUs are pre-selected (the profile asks for ${want})` });
    if (!picked) return undefined;
    return picked.length ? { gpus: picked.map((p) => p.index).sort((a, b) => a - b) } : {};
  };

  const launch = async (arg?: unknown) => {
    if (!workspaceOr() || !requireTrust('launch training runs')) return;
    const m = host.runs();
    if (!m) return;
    const a = arg as Arg;
    let profile: RunProfile | undefined;
    let profiles: RunProfile[];
    if (a && typeof a === 'object' && 'script' in a && a.script) {
      profile = scriptProfile(a.script, host.workspace);
      profiles = [profile];
    } else {
      const state = host.profiles();
      if (state.error) {
        const open = await vscode.window.showErrorMessage(`Run profiles cannot be used: ${state.error}`, 'Open Profiles');
        if (open) await vscode.window.showTextDocument(vscode.Uri.file(state.file));
        return;
      }
      profiles = state.profiles;
      if (profiles.length === 0) {
        const insert = await vscode.window.showInformationMessage('No run profiles in .vscode/grpo-studio.json yet.', 'Insert Run Profile Preset…');
        if (insert) await vscode.commands.executeCommand('grpoStudio.insertRunPreset');
        return;
      }
      const wanted = a && typeof a === 'object' && 'kind' in a && a.kind === 'profile' ? a.profile.name : a && typeof a === 'object' && 'profile' in a ? a.profile : undefined;
      profile = wanted !== undefined ? profiles.find((p) => p.name === wanted) : undefined;
      if (!profile) {
        const pick = await vscode.window.showQuickPick(
          profiles.map((p) => ({ label: p.name, description: p.after ? `after ${p.after}` : '', detail: p.description ?? (typeof p.command === 'string' ? p.command : p.command.join(' ')), profile: p })),
          { title: 'Launch Training Run', placeHolder: 'Profile to launch' },
        );
        profile = pick?.profile;
      }
    }
    if (!profile) return;
    if (profile.target === 'slurm') return submitSlurm(profile, profiles);
    const gpus = await pickGpus(profile);
    if (!gpus) return;
    try {
      const info = await m.launch(profile, { profiles, ...gpus });
      host.focus(info.id);
      d.showOutput(info, true);
      d.revealRun(info.id);
      vscode.window.setStatusBarMessage(`$(rocket) Started run ${info.id}`, 5000);
    } catch (e) {
      logError('launch', e);
      void vscode.window.showErrorMessage(`Could not launch "${profile.name}": ${message(e)}`);
    }
  };

  /** The sbatch script is shown, and sent only when the user says Submit. */
  const confirmSlurm =
    (name: string, tasks: number) =>
    async (_script: string, file: string): Promise<boolean> => {
      await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true, preserveFocus: false });
      const array = tasks > 1 ? ` as an array job of ${tasks} tasks` : '';
      const pick = await vscode.window.showInformationMessage(`Submit "${name}" to Slurm${array}? The script is open in the editor (${file}).`, 'Submit', 'Cancel');
      return pick === 'Submit';
    };

  const submitSlurm = async (profile: RunProfile, profiles: RunProfile[]) => {
    const m = host.runs();
    if (!m) return;
    try {
      const infos = await m.launchAll(profile, {
        profiles,
        confirmScript: confirmSlurm(profile.name, profile.sweep?.length ?? 1),
      });
      const first = infos[0]!;
      host.focus(first.id);
      d.showOutput(first, true);
      d.revealRun(first.id);
      vscode.window.setStatusBarMessage(`$(rocket) Submitted ${profile.name}: Slurm job ${first.record.job?.arrayJobId ?? first.record.job?.jobId}`, 5000);
    } catch (e) {
      if ((e as { cancelled?: boolean }).cancelled) {
        vscode.window.setStatusBarMessage(`Not submitted: ${profile.name}`, 5000);
        return;
      }
      logError('submit', e);
      void vscode.window.showErrorMessage(`Could not submit "${profile.name}" to Slurm: ${message(e)}`);
    }
  };

  const stop = async (arg?: unknown) => {
    if (!requireTrust('stop training runs')) return;
    const r = await runFrom(arg as Arg, (x) => x.live, 'stop');
    const m = host.runs();
    if (!r || !m) return;
    const slurm = r.record.job !== undefined;
    const title = slurm ? `Stopping run ${r.record.profile}: scancel --signal=INT, then scancel…` : `Stopping run ${r.record.profile}…`;
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => m.stop(r.id));
    const job = host.get(r.id)?.record.job;
    if (slurm && job) {
      if (result.ok) void vscode.window.showInformationMessage(`Run ${r.id} stopped: Slurm ${jobLine(job)}.`);
      else void vscode.window.showErrorMessage(`Run ${r.id} did not stop: Slurm still reports ${jobLine(job)}.`);
      return;
    }
    if (result.ok) void vscode.window.showInformationMessage(`Run ${r.id} stopped: no process of it is left.`);
    else void vscode.window.showErrorMessage(`Run ${r.id} did not stop: ${result.survivors.length} process(es) still alive (pids ${result.survivors.join(', ')}).`);
  };

  const relaunch = (resume: boolean) => async (arg?: unknown) => {
    const verb = resume ? 'resume' : 'restart';
    if (!requireTrust(`${verb} training runs`)) return;
    const r = await runFrom(arg as Arg, (x) => (resume ? !x.live && x.record.outputDir !== undefined : true), verb);
    const m = host.runs();
    if (!r || !m) return;
    try {
      const info = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `${resume ? 'Resuming' : 'Restarting'} ${r.record.profile}…` }, () => {
        // A Slurm run's new script (one task of a sweep) is shown before it is submitted, as at launch.
        const o = r.record.slurm ? { confirmScript: confirmSlurm(r.record.profile, 1) } : {};
        return resume ? m.resume(r.id, o) : m.restart(r.id, o);
      });
      host.focus(info.id);
      d.showOutput(info, true);
      d.revealRun(info.id);
    } catch (e) {
      if ((e as { cancelled?: boolean }).cancelled) return void vscode.window.setStatusBarMessage(`Not submitted: ${r.record.profile}`, 5000);
      logError(verb, e);
      void vscode.window.showErrorMessage(`Could not ${verb} ${r.id}: ${message(e)}`);
    }
  };

  const insertPreset = async () => {
    const ws = workspaceOr();
    if (!ws) return;
    const ext = host.extensionUri.fsPath;
    const cliJs = join(ext, 'dist', 'cli.js');
    // Inside desktop VS Code the binary is Electron: it runs as plain Node only with this variable,
    // which the run supervisor keeps away from commands, so the command line sets it itself.
    const cli = process.versions.electron ? ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', process.execPath, cliJs] : [process.execPath, cliJs];
    const presets = allPresets(cli, join(ext, 'dist', 'sample'));
    const pick = await vscode.window.showQuickPick(
      presets.map((p) => ({ label: p.name, description: p.description ?? '', detail: typeof p.command === 'string' ? p.command : p.command.join(' '), preset: p })),
      { title: 'Insert Run Profile Preset', placeHolder: 'Preset to add to .vscode/grpo-studio.json', matchOnDescription: true },
    );
    if (!pick) return;
    const file = join(ws, '.vscode', 'grpo-studio.json');
    const uri = vscode.Uri.file(file);
    const open = vscode.workspace.textDocuments.find((t) => t.uri.fsPath === file);
    if (open?.isDirty) {
      void vscode.window.showWarningMessage('Save .vscode/grpo-studio.json first, then insert the preset.');
      return;
    }
    try {
      const { text, name } = addProfile(existsSync(file) ? readFileSync(file, 'utf8') : undefined, pick.preset);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc, { preview: false });
      const at = text.lastIndexOf(`"name": ${JSON.stringify(name)}`);
      if (at >= 0) editor.revealRange(new vscode.Range(doc.positionAt(at), doc.positionAt(at)), vscode.TextEditorRevealType.InCenter);
      vscode.window.setStatusBarMessage(`Added run profile "${name}"`, 5000);
    } catch (e) {
      void vscode.window.showErrorMessage(`Could not add the preset to ${file}: ${message(e)}`);
    }
  };

  const openRollouts = async (arg?: unknown) => {
    const r = await runFrom(arg as Arg, (x) => x.record.rollouts !== undefined, 'open rollouts of');
    const path = r?.record.rollouts?.path;
    if (!r) return;
    if (!path) {
      void vscode.window.showInformationMessage(`Run ${r.id}'s profile names no rollouts ("rollouts": {"path", "format"}).`);
      return;
    }
    await openRolloutsPath(path);
  };

  const showOutput = async (arg?: unknown) => {
    const r = await runFrom(arg as Arg, () => true, 'show output of');
    if (r) {
      host.focus(r.id);
      d.showOutput(r);
    }
  };

  return {
    'grpoStudio.launchRun': launch,
    'grpoStudio.stopRun': stop,
    'grpoStudio.restartRun': relaunch(false),
    'grpoStudio.resumeRun': relaunch(true),
    'grpoStudio.insertRunPreset': insertPreset,
    'grpoStudio.showRunOutput': showOutput,
    'grpoStudio.openRunOutput': showOutput,
    'grpoStudio.showRunMetrics': async (arg?: unknown) => {
      const a = arg as Arg;
      const id = typeof a === 'string' ? a : a && 'kind' in a && a.kind === 'run' ? a.id : undefined;
      host.runs();
      d.showMetrics(id ?? host.focusedRun?.id ?? host.list()[0]?.id);
    },
    'grpoStudio.openRunRollouts': openRollouts,
    'grpoStudio.revealRunFolder': async (arg?: unknown) => {
      const r = await runFrom(arg as Arg, () => true, 'reveal');
      if (!r) return;
      // The OS file manager only exists where the editor runs locally; elsewhere, the Explorer.
      const local = vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName;
      await vscode.commands.executeCommand(local ? 'revealFileInOS' : 'revealInExplorer', vscode.Uri.file(join(r.dir, 'run.json')));
    },
  };
}

/** A rollouts path from a profile: a file opens in the viewer, a folder (or a glob's folder) as a folder. */
export async function openRolloutsPath(path: string): Promise<void> {
  const glob = path.search(/[*?[{]/);
  const target = glob >= 0 ? dirname(path.slice(0, glob) + 'x') : path;
  if (!existsSync(target)) {
    void vscode.window.showInformationMessage(`No rollouts yet at ${target}.`);
    return;
  }
  if (statSync(target).isDirectory()) await vscode.commands.executeCommand('grpoStudio.openRolloutsFolder', target);
  else await vscode.commands.executeCommand('grpoStudio.openRolloutsFile', target);
}
