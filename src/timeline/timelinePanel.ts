/**
 * The Prompt Timeline: one prompt's groups across the steps of a rollout source (any format),
 * reached from a group (src/core/view/promptTimeline.ts). One panel per (source, group); asking
 * again reveals it. It reads the source's shared model (LiveSources), so it follows the run: each
 * coalesced live update recomputes the timeline (one at a time; an update during a computation
 * asks for one more) and sends it whole. The page speaks first (`ready`); a panel left open is
 * restored after a reload (serializer). A click on a point or a row selects that group in the
 * viewer (`grpoStudio.revealGroup`); a row's Compare runs `grpoStudio.compareCompletions`.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { promptTimeline } from '../core/view/promptTimeline';
import { isTimelineWebviewMessage, type TimelineData, type TimelineHostMessage, type TimelineWebviewMessage } from '../protocol/timeline';
import { readConfig } from '../config';
import { logError } from '../log';
import { loadPanel, PanelChannel } from '../webviewPanel';
import type { LiveLease, LiveSources } from '../viewer/liveSources';

export const TIMELINE_VIEW_TYPE = 'grpoStudio.promptTimeline';

class TimelinePanel implements vscode.Disposable {
  private readonly lease: LiveLease;
  private readonly channel: PanelChannel<TimelineHostMessage, TimelineWebviewMessage>;
  private readonly unsubscribe: () => void;
  private last: TimelineData | null = null;
  private computing = false;
  private again = false;
  private closed = false;

  constructor(readonly panel: vscode.WebviewPanel, readonly target: string, readonly key: string, extensionUri: vscode.Uri, sources: LiveSources, onDispose: () => void) {
    panel.title = `Prompt Timeline: ${path.basename(target)} ${key}`;
    loadPanel(panel, extensionUri, { bundle: 'timeline', title: 'Prompt Timeline', rootId: 'prompt-timeline' });
    const c = readConfig();
    this.lease = sources.acquire(target, { variant: c.rewardVariant, matching: c.boxMatching, minPixels: c.minPixels, maxPixels: c.maxPixels });
    this.lease.started.catch((e) => {
      logError(`prompt timeline: cannot follow ${this.target}`, e);
      this.channel.post({ type: 'error', message: `Cannot follow ${this.target}: ${e instanceof Error ? e.message : String(e)}` });
    });
    this.unsubscribe = this.lease.live.subscribe({ update: () => this.refresh() });
    this.channel = new PanelChannel(panel, {
      name: 'prompt timeline',
      isMessage: isTimelineWebviewMessage,
      onReady: () => {
        this.send();
        this.refresh();
      },
      onMessage: (m) => void this.act(m),
      onDispose: () => {
        onDispose();
        this.dispose();
      },
    });
    this.refresh();
  }

  /** Recomputes the timeline (one run at a time; asked during one, it runs once more after). */
  private refresh(): void {
    if (this.closed) return;
    if (this.computing) {
      this.again = true;
      return;
    }
    this.computing = true;
    void (async () => {
      try {
        do {
          this.again = false;
          const set = this.lease.live.set;
          const g = set.groupIndex(this.key);
          this.last = g === undefined ? null : await promptTimeline(set, g);
          this.send();
        } while (this.again && !this.closed);
      } catch (e) {
        logError('prompt timeline', e);
      } finally {
        this.computing = false;
      }
    })();
  }

  private send(): void {
    this.channel.post({
      type: 'show',
      source: { target: this.target, name: path.basename(this.target), key: this.key },
      timeline: this.last,
      reading: !this.lease.live.loaded,
    });
  }

  private async act(m: Exclude<TimelineWebviewMessage, { type: 'ready' }>): Promise<void> {
    try {
      if (m.type === 'reveal') await vscode.commands.executeCommand('grpoStudio.revealGroup', this.target, m.key);
      else await vscode.commands.executeCommand('grpoStudio.compareCompletions', this.target, this.key, { target: this.target, key: m.key });
    } catch (e) {
      logError(`prompt timeline: ${m.type} ${m.key}`, e);
      void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
    }
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.lease.release();
    this.channel.dispose();
  }
}

/** Every open timeline, by source path and group key. */
export class PromptTimelines implements vscode.Disposable {
  private readonly open = new Map<string, TimelinePanel>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly sources: LiveSources) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(TIMELINE_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          if (isObj(state) && typeof state.target === 'string' && typeof state.key === 'string') this.attach(panel, state.target, state.key);
          else panel.dispose();
        },
      }),
    );
  }

  /** Opens (or reveals) the timeline of group `key`'s prompt in `target`. */
  show(target: string, key: string): void {
    const id = `${path.resolve(target)}\n${key}`;
    const existing = this.open.get(id);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(TIMELINE_VIEW_TYPE, 'Prompt Timeline', vscode.ViewColumn.Beside, { enableScripts: true });
    this.attach(panel, target, key);
  }

  private attach(panel: vscode.WebviewPanel, target: string, key: string): void {
    const resolved = path.resolve(target);
    const id = `${resolved}\n${key}`;
    this.open.get(id)?.panel.dispose();
    const p: TimelinePanel = new TimelinePanel(panel, resolved, key, this.extensionUri, this.sources, () => {
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
