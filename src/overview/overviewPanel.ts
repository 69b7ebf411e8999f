/**
 * The Run Overview: per-step charts of one rollout source (a file or a folder in any trainer
 * format), following it live. One panel per source; asking again reveals it. The webview speaks
 * first (`ready`) and is rebuilt each time it is shown (no retainContextWhenHidden), so every
 * `ready` gets everything so far; in between, only the steps that changed are posted, at most
 * about 4 times a second (LiveOverview coalesces). It reads the source's shared model (LiveSources:
 * the viewer of the same file or folder uses the same follower and scores), so a settings change
 * rescores once for both and redraws it from the update that follows. A panel left open is
 * restored after a reload.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LiveOverview, type OverviewUpdate } from '../core/overview/liveOverview';
import { REWARD_VARIANTS } from '../core/rewards/variants';
import { isOverviewWebviewMessage, type OverviewHostMessage, type OverviewSource, type OverviewStatus, type OverviewWebviewMessage } from '../protocol/overview';
import { readConfig } from '../config';
import { logError } from '../log';
import { loadPanel, PanelChannel } from '../webviewPanel';
import type { LiveLease, LiveSources } from '../viewer/liveSources';

export const OVERVIEW_VIEW_TYPE = 'grpoStudio.runOverview';

class OverviewPanel implements vscode.Disposable {
  private readonly lease: LiveLease;
  private readonly live: LiveOverview;
  private readonly channel: PanelChannel<OverviewHostMessage, OverviewWebviewMessage>;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly target: string,
    extensionUri: vscode.Uri,
    sources: LiveSources,
    onDispose: () => void,
  ) {
    panel.title = `Run Overview: ${path.basename(target)}`;
    loadPanel(panel, extensionUri, { bundle: 'overview', title: 'Run Overview', rootId: 'run-overview' });
    const c = readConfig();
    this.lease = sources.acquire(target, { variant: c.rewardVariant, matching: c.boxMatching, minPixels: c.minPixels, maxPixels: c.maxPixels });
    this.lease.started.catch((e) => logError(`run overview: cannot follow ${this.target}`, e));
    this.live = new LiveOverview(this.lease.live, (u) => this.update(u));
    this.channel = new PanelChannel(panel, {
      name: 'run overview',
      isMessage: isOverviewWebviewMessage,
      onReady: () => this.post(this.showMessage(this.live.snapshot())),
      onMessage: (m) => void this.openStep(m.step),
      onDispose: () => {
        onDispose();
        this.dispose();
      },
    });
  }

  private update(u: OverviewUpdate): void {
    this.post(u.reset ? this.showMessage(u) : { type: 'steps', steps: u.steps, status: status(u) });
  }

  private showMessage(u: OverviewUpdate): OverviewHostMessage {
    const variant = this.live.overview.variant;
    const source: OverviewSource = {
      target: this.target,
      name: path.basename(this.target),
      format: this.lease.live.format,
      variant,
      rewards: [...REWARD_VARIANTS[variant].rewards],
    };
    return { type: 'show', source, steps: u.steps, status: status(u) };
  }

  private async openStep(step: number): Promise<void> {
    try {
      await vscode.commands.executeCommand('grpoStudio.showRolloutsAt', this.target, `step == ${step}`);
    } catch (e) {
      logError(`run overview: cannot open step ${step} of ${this.target}`, e);
      void vscode.window.showErrorMessage(`Cannot open step ${step}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private post(m: OverviewHostMessage): void {
    this.channel.post(m);
  }

  dispose(): void {
    void this.live.close().finally(() => this.lease.release());
    this.channel.dispose();
  }
}

function status(u: OverviewUpdate): OverviewStatus {
  return { unstepped: u.unstepped, loggedNames: u.loggedNames, stepsInferred: u.stepsInferred, reading: u.reading, problem: u.problem };
}

/** Every open overview, by source path. */
export class RunOverviews implements vscode.Disposable {
  private readonly open = new Map<string, OverviewPanel>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly sources: LiveSources) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(OVERVIEW_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const target = isObj(state) && typeof state.target === 'string' ? state.target : undefined;
          if (target) this.attach(panel, target);
          else panel.dispose();
        },
      }),
    );
  }

  /** Opens (or reveals) the overview of `target`, a file or folder path. */
  show(target: string): void {
    const key = path.resolve(target);
    const existing = this.open.get(key);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(OVERVIEW_VIEW_TYPE, 'Run Overview', vscode.ViewColumn.Active, { enableScripts: true });
    this.attach(panel, key);
  }

  /** The source of the overview in the active editor tab, if one is. */
  activeTarget(): string | undefined {
    return [...this.open.values()].find((p) => p.panel.active)?.target;
  }

  private attach(panel: vscode.WebviewPanel, target: string): void {
    const key = path.resolve(target);
    this.open.get(key)?.panel.dispose();
    const p: OverviewPanel = new OverviewPanel(panel, key, this.extensionUri, this.sources, () => {
      if (this.open.get(key) === p) this.open.delete(key);
    });
    this.open.set(key, p);
  }

  dispose(): void {
    for (const p of this.open.values()) p.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
