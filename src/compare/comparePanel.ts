/**
 * Compare Completions: one prompt's group in two places (two steps of a run, two runs, two
 * checkpoints' rollouts) side by side. Each side is read through its source's shared model
 * (LiveSources) and built as the viewer builds a group (chains, recomputed rewards, boxes,
 * verdicts); the pairs of completions with the same index are diffed word by word. Either
 * source changing sends the whole comparison again (one build at a time). Images are served
 * from the sources' folders, the workspace and the configured image roots only, as in the viewer.
 * A panel left open is restored after a reload.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { buildGroupDetail, type DetailOptions } from '../core/view/groupDetail';
import { diffChains } from '../core/view/chainDiff';
import { isCompareWebviewMessage, type CompareHostMessage, type CompareSide, type CompareWebviewMessage } from '../protocol/compare';
import { readConfig } from '../config';
import { logError } from '../log';
import { loadPanel, PanelChannel } from '../webviewPanel';
import { createImageResolver } from '../viewer/imageResolver';
import { runLabels } from '../overview/comparePanel';
import type { LiveLease, LiveSources } from '../viewer/liveSources';

export const COMPARE_VIEW_TYPE = 'grpoStudio.compareCompletions';

export interface GroupRef {
  target: string;
  key: string;
}

class ComparePanel implements vscode.Disposable {
  private readonly leases: [LiveLease, LiveLease];
  private readonly channel: PanelChannel<CompareHostMessage, CompareWebviewMessage>;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly resolveImage: ReturnType<typeof createImageResolver>;
  private readonly labels: string[];
  private last: CompareHostMessage | null = null;
  private building = false;
  private again = false;
  private closed = false;

  constructor(readonly panel: vscode.WebviewPanel, readonly sides: [GroupRef, GroupRef], extensionUri: vscode.Uri, sources: LiveSources, onDispose: () => void) {
    const [a, b] = sides;
    this.labels = a.target === b.target ? [path.basename(a.target), path.basename(b.target)] : runLabels([a.target, b.target]);
    panel.title = `Compare: ${this.labels[0]} ${a.key} \u2194 ${a.target === b.target ? '' : `${this.labels[1]} `}${b.key}`;
    const c = readConfig();
    const roots = [...new Set([...sides.map((s) => folderOf(s.target)), ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), ...c.imageRoots])];
    loadPanel(panel, extensionUri, { bundle: 'compare', title: 'Compare Completions', rootId: 'compare-completions', imageRoots: roots.map((r) => vscode.Uri.file(r)) });
    this.resolveImage = createImageResolver(panel.webview, (p) => vscode.Uri.file(p), { searchRoots: roots });
    const options = { variant: c.rewardVariant, matching: c.boxMatching, minPixels: c.minPixels, maxPixels: c.maxPixels };
    this.leases = [sources.acquire(a.target, options), sources.acquire(b.target, options)];
    for (const [i, lease] of this.leases.entries()) {
      lease.started.catch((e) => logError(`compare completions: cannot follow ${sides[i]!.target}`, e));
      this.unsubscribe.push(lease.live.subscribe({ update: () => this.refresh() }));
    }
    this.channel = new PanelChannel(panel, {
      name: 'compare completions',
      isMessage: isCompareWebviewMessage,
      onReady: () => {
        if (this.last) this.channel.post(this.last);
        this.refresh();
      },
      onMessage: (m) => void this.reveal(m.side),
      onDispose: () => {
        onDispose();
        this.dispose();
      },
    });
    this.refresh();
  }

  private options(): DetailOptions {
    const c = readConfig();
    return { variant: c.rewardVariant, matching: c.boxMatching, minPixels: c.minPixels, maxPixels: c.maxPixels, frame: c.boxFrame };
  }

  /** Builds both sides again (one build at a time; asked during one, it runs once more after). */
  private refresh(): void {
    if (this.closed) return;
    if (this.building) {
      this.again = true;
      return;
    }
    this.building = true;
    void (async () => {
      try {
        do {
          this.again = false;
          this.last = await this.build();
          if (!this.closed) this.channel.post(this.last);
        } while (this.again && !this.closed);
      } catch (e) {
        logError('compare completions', e);
      } finally {
        this.building = false;
      }
    })();
  }

  private async build(): Promise<CompareHostMessage> {
    const opts = this.options();
    const sides = (await Promise.all(this.sides.map(async (ref, i): Promise<CompareSide> => {
      const live = this.leases[i]!.live;
      const set = live.set;
      const gi = set.groupIndex(ref.key);
      const label = this.labels[i]!;
      if (gi === undefined) return { target: ref.target, label, key: ref.key, detail: null, problem: live.loaded ? `Group ${ref.key} is not in ${label}.` : null };
      return { target: ref.target, label, key: ref.key, detail: await buildGroupDetail(set, gi, opts, this.resolveImage), problem: null };
    }))) as [CompareSide, CompareSide];
    const [l, r] = sides.map((s) => s.detail?.completions ?? []);
    const diffs = Array.from({ length: Math.min(l!.length, r!.length) }, (_, i) => diffChains(l![i]!.text, r![i]!.text));
    const [dl, dr] = sides.map((s) => s.detail);
    const samePrompt = !dl || !dr || (dl.promptText === dr.promptText && (dl.image?.path ?? null) === (dr.image?.path ?? null));
    return { type: 'show', sides, diffs, samePrompt, reading: this.leases.some((x) => !x.live.loaded) };
  }

  private async reveal(side: 0 | 1): Promise<void> {
    const ref = this.sides[side];
    try {
      await vscode.commands.executeCommand('grpoStudio.revealGroup', ref.target, ref.key);
    } catch (e) {
      logError(`compare completions: reveal ${ref.key}`, e);
      void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
    }
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.unsubscribe) u();
    for (const l of this.leases) l.release();
    this.channel.dispose();
  }
}

/** A folder a source's images may be in: the source folder itself, or a file's folder. */
function folderOf(target: string): string {
  try {
    return statSync(target).isDirectory() ? target : path.dirname(target);
  } catch {
    return path.dirname(target);
  }
}

/** Every open comparison, by its two groups. */
export class CompareCompletionsPanels implements vscode.Disposable {
  private readonly open = new Map<string, ComparePanel>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly sources: LiveSources) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const sides = isObj(state) && Array.isArray(state.sides) ? state.sides.filter(isRef) : [];
          if (sides.length === 2) this.attach(panel, [sides[0]!, sides[1]!]);
          else panel.dispose();
        },
      }),
    );
  }

  show(a: GroupRef, b: GroupRef): void {
    const sides: [GroupRef, GroupRef] = [{ target: path.resolve(a.target), key: a.key }, { target: path.resolve(b.target), key: b.key }];
    const existing = this.open.get(JSON.stringify(sides));
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'Compare Completions', vscode.ViewColumn.Active, { enableScripts: true });
    this.attach(panel, sides);
  }

  private attach(panel: vscode.WebviewPanel, sides: [GroupRef, GroupRef]): void {
    const id = JSON.stringify(sides);
    this.open.get(id)?.panel.dispose();
    const p: ComparePanel = new ComparePanel(panel, sides, this.extensionUri, this.sources, () => {
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
const isRef = (x: unknown): x is GroupRef => isObj(x) && typeof x.target === 'string' && typeof x.key === 'string';
