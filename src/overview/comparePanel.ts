/**
 * Compare Runs: 2–4 rollout sources (files or folders, any trainer format) on shared per-step
 * charts. Each run is read through its shared model (LiveSources, as the viewer and the Run
 * Overview read it) and summarised per step by its own LiveOverview, so each run follows live and
 * is posted on its own (only its changed steps). One panel per set of runs, in the order given;
 * asking again reveals it. A click on a chart opens that run's viewer at that step. A panel left
 * open is restored after a reload (its targets are its saved state).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LiveOverview, type OverviewUpdate } from '../core/overview/liveOverview';
import { REWARD_VARIANTS } from '../core/rewards/variants';
import {
  isCompareRunsWebviewMessage, MAX_COMPARED_RUNS, type ComparedRun, type CompareRunsHostMessage, type CompareRunsWebviewMessage, type OverviewStatus,
} from '../protocol/compareRuns';
import { readConfig } from '../config';
import { logError } from '../log';
import { loadPanel, PanelChannel } from '../webviewPanel';
import type { LiveLease, LiveSources } from '../viewer/liveSources';

export const COMPARE_RUNS_VIEW_TYPE = 'grpoStudio.compareRuns';

interface Run {
  info: ComparedRun;
  lease: LiveLease;
  live: LiveOverview;
}

class CompareRunsPanel implements vscode.Disposable {
  private readonly runs: Run[];
  private readonly channel: PanelChannel<CompareRunsHostMessage, CompareRunsWebviewMessage>;

  constructor(readonly panel: vscode.WebviewPanel, readonly targets: string[], extensionUri: vscode.Uri, sources: LiveSources, onDispose: () => void) {
    const labels = runLabels(targets);
    panel.title = `Compare Runs: ${labels.join(' · ')}`;
    loadPanel(panel, extensionUri, { bundle: 'compare-runs', title: 'Compare Runs', rootId: 'compare-runs' });
    const c = readConfig();
    this.runs = targets.map((target, i) => {
      const lease = sources.acquire(target, { variant: c.rewardVariant, matching: c.boxMatching, minPixels: c.minPixels, maxPixels: c.maxPixels });
      lease.started.catch((e) => logError(`compare runs: cannot follow ${target}`, e));
      const info: ComparedRun = { target, label: labels[i]!, format: lease.live.format };
      const live = new LiveOverview(lease.live, (u) => this.update(i, u));
      return { info, lease, live };
    });
    this.channel = new PanelChannel(panel, {
      name: 'compare runs',
      isMessage: isCompareRunsWebviewMessage,
      onReady: () => this.channel.post(this.showMessage()),
      onMessage: (m) => void this.openStep(m.run, m.step),
      onDispose: () => {
        onDispose();
        this.dispose();
      },
    });
  }

  private update(i: number, u: OverviewUpdate): void {
    const run = this.runs?.[i];
    if (!run) return; // an update while the runs are still being set up: `show` carries it
    run.info.format = run.lease.live.format;
    this.channel?.post({ type: 'steps', run: i, reset: u.reset, steps: u.steps, status: status(u), format: run.info.format });
  }

  private showMessage(): CompareRunsHostMessage {
    const variant = this.runs[0]!.live.overview.variant;
    const snaps = this.runs.map((r) => {
      r.info.format = r.lease.live.format;
      return r.live.snapshot();
    });
    return {
      type: 'show',
      runs: this.runs.map((r) => ({ ...r.info })),
      variant,
      rewards: [...REWARD_VARIANTS[variant].rewards],
      steps: snaps.map((s) => s.steps),
      status: snaps.map(status),
    };
  }

  private async openStep(i: number, step: number): Promise<void> {
    const run = this.runs[i];
    if (!run) return;
    try {
      await vscode.commands.executeCommand('grpoStudio.showRolloutsAt', run.info.target, `step == ${step}`);
    } catch (e) {
      logError(`compare runs: cannot open step ${step} of ${run.info.target}`, e);
      void vscode.window.showErrorMessage(`Cannot open step ${step} of ${run.info.label}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dispose(): void {
    for (const r of this.runs) void r.live.close().finally(() => r.lease.release());
    this.channel.dispose();
  }
}

function status(u: OverviewUpdate): OverviewStatus {
  return { unstepped: u.unstepped, loggedNames: u.loggedNames, stepsInferred: u.stepsInferred, reading: u.reading, problem: u.problem };
}

/** Base names, with as many parent folders as it takes to tell equal ones apart. */
export function runLabels(targets: readonly string[]): string[] {
  const parts = targets.map((t) => path.resolve(t).split(path.sep).filter(Boolean));
  for (let depth = 1; ; depth++) {
    const labels = parts.map((p) => p.slice(-depth).join('/'));
    const unique = new Set(labels).size === labels.length;
    if (unique || parts.every((p) => p.length <= depth)) return labels;
  }
}

/** Every open comparison, by its runs (in order). */
export class CompareRunsPanels implements vscode.Disposable {
  private readonly open = new Map<string, CompareRunsPanel>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly sources: LiveSources) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(COMPARE_RUNS_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const targets = isObj(state) && Array.isArray(state.targets) ? state.targets.filter((t): t is string => typeof t === 'string') : [];
          if (targets.length >= 2 && targets.length <= MAX_COMPARED_RUNS) this.attach(panel, targets);
          else panel.dispose();
        },
      }),
    );
  }

  /** Opens (or reveals) the comparison of `targets` (2–4 distinct files or folders). */
  show(targets: readonly string[]): void {
    const resolved = [...new Set(targets.map((t) => path.resolve(t)))];
    if (resolved.length < 2 || resolved.length > MAX_COMPARED_RUNS) throw new Error(`Compare Runs takes 2 to ${MAX_COMPARED_RUNS} different runs (got ${resolved.length}).`);
    const existing = this.open.get(resolved.join('\n'));
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(COMPARE_RUNS_VIEW_TYPE, 'Compare Runs', vscode.ViewColumn.Active, { enableScripts: true });
    this.attach(panel, resolved);
  }

  private attach(panel: vscode.WebviewPanel, targets: string[]): void {
    const id = targets.join('\n');
    this.open.get(id)?.panel.dispose();
    const p: CompareRunsPanel = new CompareRunsPanel(panel, targets, this.extensionUri, this.sources, () => {
      if (this.open.get(id) === p) this.open.delete(id);
    });
    this.open.set(id, p);
  }

  dispose(): void {
    for (const p of this.open.values()) p.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
