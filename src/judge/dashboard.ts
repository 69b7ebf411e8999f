/**
 * The Alignment dashboard: the seed's table (accuracy, alignment %, misalignment types,
 * agreement between tiers) per run, checkpoint and step, for one rollout file or folder and the
 * verdict caches beside its files. One panel; it follows the caches (a judge run from the editor
 * or the CLI appends to them) and re-reads when they change. The webview speaks first (`ready`);
 * it is rebuilt each time it is shown, so every `ready` gets the table again.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { alignmentMarkdown, alignmentOfFiles } from '../core/judge/alignment';
import { cachePathFor } from '../core/judge/cache';
import { isAlignmentWebviewMessage, type AlignmentHostMessage, type AlignmentView, type AlignmentWebviewMessage } from '../protocol/alignment';
import type { Viewers } from '../viewer/viewers';
import { log } from '../log';
import { loadPanel, PanelChannel } from '../webviewPanel';
import { unwrapSourceNode } from '../sources/sourcesTree';

export const ALIGNMENT_VIEW_TYPE = 'grpoStudio.alignment';
const CACHE_POLL_MS = 1000;

/**
 * What the panel shows: `files` are the sources to read (a file or folder in any format the
 * viewer reads; usually just the target), and `recordFiles` the files their completions came
 * from once read, whose verdict caches are followed.
 */
interface Shown {
  target: string;
  files: string[];
  recordFiles?: string[];
}

export class AlignmentDashboard implements vscode.Disposable {
  private channel: PanelChannel<AlignmentHostMessage, AlignmentWebviewMessage> | undefined;
  private shown: Shown | undefined;
  private watched: string[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, onDidJudge?: vscode.Event<string>) {
    if (onDidJudge) this.disposables.push(onDidJudge((file) => {
      const s = this.shown;
      if (s && (s.files.includes(file) || s.target === file || s.recordFiles?.includes(file))) this.scheduleRefresh();
    }));
  }

  get current(): Shown | undefined {
    return this.shown;
  }

  show(target: string, files: readonly string[] = [target]): void {
    this.shown = { target, files: [...files] };
    const panel = this.channel?.panel;
    if (!panel) {
      const dist = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
      const panel = vscode.window.createWebviewPanel(ALIGNMENT_VIEW_TYPE, `Alignment: ${basename(target)}`, vscode.ViewColumn.Beside, {
        enableScripts: true,
        localResourceRoots: [dist],
      });
      this.attach(panel);
      return;
    }
    panel.title = `Alignment: ${basename(target)}`;
    panel.reveal();
    void this.send();
  }

  /** The table as Markdown: one row per run / checkpoint (the seed's shape), then one per step. */
  async markdown(target: string, files: readonly string[] = [target]): Promise<string> {
    const a = await alignmentOfFiles(files);
    const models = alignmentMarkdown(a.rows);
    const steps = a.rows.some((r) => r.scope === 'step') ? `\n### Per step\n\n${alignmentMarkdown(a.rows, { scope: 'step' })}` : '';
    return `## Alignment: ${basename(target)}\n\n${models}${steps}\n${a.completions} completions, ${a.verdicts} verdicts. Alignment = 100 − misaligned % of the judged completions; accuracy is the seeds' accuracy reward.\n`;
  }

  private attach(panel: vscode.WebviewPanel): void {
    loadPanel(panel, this.extensionUri, { bundle: 'alignment', title: 'Alignment', rootId: 'alignment' });
    this.channel = new PanelChannel(panel, {
      name: 'alignment',
      isMessage: isAlignmentWebviewMessage,
      onReady: () => void this.send(),
      onMessage: () => void vscode.commands.executeCommand('grpoStudio.exportAlignmentTable', this.shown?.target),
      onDispose: () => {
        this.channel = undefined;
        this.unwatch();
      },
    });
  }

  /**
   * Polls the caches beside the files the completions came from (cheap: one stat per file per
   * second), so CLI runs show up too. Re-armed after each read: a folder's files are known then.
   */
  private watch(recordFiles: readonly string[]): void {
    const want = recordFiles.map(cachePathFor);
    if (want.length === this.watched.length && want.every((p, i) => p === this.watched[i])) return;
    this.unwatch();
    this.watched = want;
    for (const p of this.watched) watchFile(p, { interval: CACHE_POLL_MS, persistent: false }, () => this.scheduleRefresh());
  }

  private unwatch(): void {
    for (const p of this.watched) unwatchFile(p);
    this.watched = [];
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.send();
    }, 200);
  }

  private post(m: AlignmentHostMessage): void {
    this.channel?.post(m);
  }

  private async send(): Promise<void> {
    const shown = this.shown;
    if (!shown || !this.channel?.ready) return;
    this.post({ type: 'loading', target: shown.target });
    try {
      const a = await alignmentOfFiles(shown.files);
      if (shown !== this.shown) return;
      shown.recordFiles = a.recordFiles;
      this.watch(a.recordFiles);
      const view: AlignmentView = { target: shown.target, files: a.recordFiles.length, completions: a.completions, verdicts: a.verdicts, rows: a.rows, problems: a.problems.slice(0, 50) };
      this.post({ type: 'show', view });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log().error(`alignment: cannot read ${shown.target}: ${message}`);
      this.post({ type: 'error', target: shown.target, message });
    }
  }

  dispose(): void {
    this.unwatch();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.channel?.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** A command argument: a Uri, a path, or nothing (then the focused viewer's file, else a picker). */
async function targetOf(given: unknown, viewers: Viewers | undefined, dashboard: AlignmentDashboard): Promise<Shown | undefined> {
  const arg = unwrapSourceNode(given);
  if (arg instanceof vscode.Uri) return { target: arg.fsPath, files: [arg.fsPath] };
  if (typeof arg === 'string' && arg !== '') return { target: arg, files: [arg] };
  const v = viewers?.focused;
  if (v) return { target: v.target, files: [...v.files] };
  if (dashboard.current) return dashboard.current;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, canSelectFolders: true, openLabel: 'Show Alignment', filters: { 'Rollout files': ['jsonl', 'parquet', 'log', 'txt'] } });
  const p = picked?.[0]?.fsPath;
  return p ? { target: p, files: [p] } : undefined;
}

/**
 * "Show Alignment Dashboard" and "Export Alignment Table as Markdown". `onDidJudge` (a judge
 * run finished a file) refreshes the panel at once; the cache polling covers everything else.
 */
export function registerAlignmentDashboard(extensionUri: vscode.Uri, viewers?: Viewers, onDidJudge?: vscode.Event<string>): vscode.Disposable[] {
  const dashboard = new AlignmentDashboard(extensionUri, onDidJudge);
  const guarded = <T>(fn: (t: Shown) => Promise<T>) => async (arg?: unknown): Promise<T | undefined> => {
    let t: Shown | undefined;
    try {
      t = await targetOf(arg, viewers, dashboard);
      if (!t) return undefined;
      return await fn(t);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log().error(`alignment: ${message}`);
      void vscode.window.showErrorMessage(`Alignment: ${message}`);
      return undefined;
    }
  };
  return [
    dashboard,
    vscode.commands.registerCommand('grpoStudio.showAlignmentDashboard', guarded(async (t) => dashboard.show(t.target, t.files))),
    vscode.commands.registerCommand(
      'grpoStudio.exportAlignmentTable',
      guarded(async (t) => {
        const content = await dashboard.markdown(t.target, t.files);
        const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
        await vscode.window.showTextDocument(doc, { preview: false });
        return content;
      }),
    ),
  ];
}
