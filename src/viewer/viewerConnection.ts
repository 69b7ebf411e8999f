/**
 * Binds one viewer webview (a custom editor or a folder panel) to the rollouts it follows: a
 * file or a folder in any trainer format, read through the follower (what exists first, then
 * what is appended). The webview speaks first (`ready`); until then nothing is posted, so no
 * message is lost. Live updates arrive coalesced (LiveRollouts) and go out as one `status` plus
 * one `listChanged`; the panel's lease on the shared follower is released with it (src/viewer/liveSources.ts).
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LiveRollouts, LiveUpdate } from '../core/view/liveRollouts';
import type { LiveLease, LiveSources } from './liveSources';
import { buildGroupDetail, type DetailOptions } from '../core/view/groupDetail';
import { computeHistograms } from '../core/view/histograms';
import type { LoadedRecord, RolloutView, RecordVerdicts } from '../core/view/rolloutView';
import {
  BAD_LINES_SENT, EMPTY_STATE, HISTOGRAM_UPDATE_MS, NOTES_SENT, isWebviewMessage,
  type BoxFrameSetting, type FilterReading, type HostMessage, type SourceInfo, type SourceNote, type ViewerState, type WebviewMessage,
} from '../protocol/viewer';
import { viewerHtml, makeNonce } from './html';
import { createImageResolver } from './imageResolver';
import type { StudioConfig } from '../config';
import { logError, log } from '../log';
import { PanelChannel } from '../webviewPanel';

/** Notes logged per viewer: a note per group of a long run would drown the channel. */
const NOTES_LOGGED = 200;

export interface ViewerContext {
  extensionUri: vscode.Uri;
  config(): StudioConfig;
  /** The judge's verdicts, and news of a run (a file's cache grew). */
  verdicts?: { lookup: RecordVerdicts; onDidJudge: vscode.Event<string> };
  /** The followed sources, shared with the Run Overview (one follower per source). */
  sources: LiveSources;
}

/** What a judge command asks a viewer for. */
export type JudgeScope = 'group' | 'step' | 'filtered';

export class ViewerConnection implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly live: LiveRollouts;
  private readonly lease: LiveLease;
  private resolveImage: ReturnType<typeof createImageResolver>;
  private state: ViewerState = { ...EMPTY_STATE };
  private readonly channel: PanelChannel<HostMessage, WebviewMessage>;
  private readonly changeEmitter = new vscode.EventEmitter<ViewerConnection>();
  /** Fires when the panel gains or loses focus. */
  readonly onDidChangeFocus = this.changeEmitter.event;

  /** Source notes written to the output channel so far. */
  private notesLogged = 0;
  /** A filter asked for before the webview was ready (showRolloutsAt on a new panel). */
  private pendingFilterText: string | null = null;
  /** A group to select asked for before the webview was ready (revealGroup on a new panel). */
  private pendingReveal: string | null = null;
  /** The selected group was asked for before it was read (a restored selection): send it when it arrives. */
  private detailMissing = false;
  /** The webview's histograms strip is open: they go out again as the list changes, throttled. */
  private histogramsOpen = false;
  private histogramTimer: ReturnType<typeof setTimeout> | undefined;
  private histogramsSentAt = 0;

  /** `files`: what to follow, one file or folder (panels restored from older state may list several files: their folder is followed). */
  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly files: string[],
    private readonly ctx: ViewerContext,
  ) {
    const roots = this.imageSearchRoots();
    const dist = vscode.Uri.joinPath(ctx.extensionUri, 'dist');
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [dist, ...roots.map((r) => vscode.Uri.file(r)), ...files.map((f) => vscode.Uri.file(folderOf(f)))],
    };
    this.resolveImage = createImageResolver(panel.webview, (p) => vscode.Uri.file(p), { searchRoots: roots });
    panel.webview.html = viewerHtml({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'viewer.js')).toString(),
      codiconsUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'codicons', 'codicon.css')).toString(),
      title: panel.title,
    });
    this.lease = ctx.sources.acquire(ViewerConnection.targetOf(files), this.options(), { list: true });
    this.live = this.lease.live;
    const unsubscribe = this.live.subscribe({ update: (u) => this.onLive(u), notes: (notes) => this.logNotes(notes) });
    this.disposables.push({ dispose: unsubscribe });
    const verdicts = ctx.verdicts;
    if (verdicts) {
      void this.live.set.setVerdicts(verdicts.lookup).catch((e) => logError('viewer', e));
      this.disposables.push(verdicts.onDidJudge((file) => {
        if (this.set.index.files.includes(file)) void this.refreshVerdicts(file).catch((e) => logError('viewer', e));
      }));
    }
    const started = Date.now();
    this.lease.started.catch((e: unknown) => {
      logError('viewer', e);
      this.post({ type: 'error', message: `Cannot follow ${this.target}: ${e instanceof Error ? e.message : String(e)}` });
    });
    this.logWhenLoaded(started);
    // The one panel handshake (src/webviewPanel.ts): the page speaks first, hidden = not ready
    // (what is asked meanwhile, e.g. a filter from the run overview, waits for its next `ready`).
    const failed = (e: unknown): void => {
      logError('viewer', e);
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    };
    this.channel = new PanelChannel<HostMessage, WebviewMessage>(panel, {
      name: 'viewer',
      isMessage: isWebviewMessage,
      onReady: (m) => void this.onReady(m).catch(failed),
      onMessage: (m) => void this.handle(m).catch(failed),
    });
    this.disposables.push(
      this.channel,
      panel.onDidChangeViewState(() => this.changeEmitter.fire(this)),
      this.changeEmitter,
      { dispose: () => clearTimeout(this.histogramTimer) },
    );
  }

  get selectedKey(): string | null {
    return this.state.selectedKey;
  }

  /** The file or folder this viewer follows. */
  get target(): string {
    return this.live.target;
  }

  private get set(): RolloutView {
    return this.live.set;
  }

  static targetOf(files: readonly string[]): string {
    return files.length === 1 ? files[0]! : path.dirname(files[0] ?? '.');
  }

  private logWhenLoaded(started: number): void {
    const check = setInterval(() => {
      if (!this.live.loaded) return;
      clearInterval(check);
      const set = this.set;
      set.trim();
      log().info(`opened ${this.target} (${this.live.format ?? 'format unknown'}): ${set.completionCount} completions, ${set.groupCount} groups, ${set.badLines.length} bad lines, ${this.live.notes.length} notes in ${Date.now() - started} ms; following`);
    }, 200);
    this.disposables.push({ dispose: () => clearInterval(check) });
  }

  /** Source notes go to the output channel as they arrive (the first NOTES_LOGGED of them). */
  private logNotes(notes: readonly SourceNote[]): void {
    for (const n of notes) {
      this.notesLogged++;
      if (this.notesLogged <= NOTES_LOGGED) log().info(`note: ${n.file}${n.line === undefined ? '' : `:${n.line}`}: ${n.message}`);
      else if (this.notesLogged === NOTES_LOGGED + 1) log().info(`note: more notes about ${this.target} are shown in its viewer only`);
    }
  }

  /** Bad lines and notes as `init` and `status` carry them. */
  private problems(): Pick<Extract<HostMessage, { type: 'status' }>, 'badLines' | 'badLineCount' | 'notes' | 'noteCount'> {
    const set = this.set;
    return {
      badLines: set.badLines.slice(0, BAD_LINES_SENT),
      badLineCount: set.badLines.length,
      notes: this.live.notes.slice(0, NOTES_SENT),
      noteCount: this.live.notes.length,
    };
  }

  private sourceInfo(): SourceInfo {
    return { title: this.panel.title, files: [this.target], format: this.live.format, stepsInferred: this.live.stepsInferred };
  }

  private filterReading(): FilterReading {
    const p = this.set.filterProblem;
    return { kind: this.set.filterKind, message: p?.message ?? null, column: p?.column ?? null };
  }

  /** One coalesced live update: counts and state, then the list, then the selected group if it grew. */
  private onLive(u: LiveUpdate): void {
    if (!this.ready) return;
    const set = this.set;
    this.post({
      type: 'status',
      source: this.sourceInfo(),
      totalGroups: set.groupCount,
      totalCompletions: set.completionCount,
      ...this.problems(),
      live: this.live.status(),
    });
    if (u.replaced || u.grown) {
      this.post({ type: 'listChanged', total: set.filteredCount, grown: !u.replaced });
      this.queueHistograms();
    }
    const reveal = this.pendingReveal;
    if (reveal !== null && (set.groupIndex(reveal) !== undefined || this.live.loaded)) {
      this.pendingReveal = null;
      void this.revealGroup(reveal).catch((e) => logError('viewer', e));
      return;
    }
    if (this.selectFirstIfNone()) return;
    const selected = this.state.selectedKey;
    if (selected !== null && (u.replaced || u.grew.has(selected) || (this.detailMissing && set.groupIndex(selected) !== undefined))) {
      void this.sendDetail(selected).catch((e) => logError('viewer', e));
    }
  }

  private imageSearchRoots(): string[] {
    const ws = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    return [...new Set([...this.files.map(folderOf), ...ws, ...this.ctx.config().imageRoots])];
  }

  private options(): DetailOptions {
    const c = this.ctx.config();
    const frame: BoxFrameSetting = this.state.frame ?? c.boxFrame;
    return { variant: c.rewardVariant, matching: c.boxMatching, minPixels: c.minPixels, maxPixels: c.maxPixels, frame };
  }

  private get ready(): boolean {
    return this.channel.ready;
  }

  private post(m: HostMessage): void {
    this.channel.post(m);
  }

  /** The page is there (first load, or shown again) with what it restored: send it everything. */
  private async onReady(m: Extract<WebviewMessage, { type: 'ready' }>): Promise<void> {
    const set = this.set;
    this.state = { ...EMPTY_STATE, ...(m.state ?? {}), source: [this.target] };
    // A page (re)loaded asks for its histograms again after `init` when its strip is open.
    this.histogramsOpen = false;
    if (this.pendingFilterText !== null) {
      this.state.filter = { ...this.state.filter, text: this.pendingFilterText };
      this.state.scrollTop = 0;
      this.pendingFilterText = null;
    }
    // Records keep arriving: a restored selection may name a group not read yet, so it stays.
    await set.applyFilter(this.state.filter);
    const c = this.ctx.config();
    this.post({
      type: 'init',
      source: this.sourceInfo(),
      totalGroups: set.groupCount,
      totalCompletions: set.completionCount,
      ...this.problems(),
      live: this.live.status(),
      filterReading: this.filterReading(),
      settings: { boxFrame: c.boxFrame, variant: c.rewardVariant, matching: c.boxMatching },
      state: this.state,
    });
    const reveal = this.pendingReveal;
    this.pendingReveal = null;
    if (reveal !== null && (await this.revealGroup(reveal))) return;
    if (this.state.selectedKey !== null) await this.sendDetail(this.state.selectedKey);
    else this.selectFirstIfNone();
  }

  private async handle(m: Exclude<WebviewMessage, { type: 'ready' }>): Promise<void> {
    const set = this.set;
    switch (m.type) {
      case 'requestRows':
        this.post({ type: 'rows', requestId: m.requestId, start: m.start, total: set.filteredCount, rows: await set.rows(m.start, Math.min(m.count, 500)) });
        return;
      case 'selectGroup':
        this.state.selectedKey = m.key;
        await this.sendDetail(m.key);
        return;
      case 'setFilter':
        await this.applyFilter(m.filter.text, m.filter);
        return;
      case 'goToStep':
        this.goToStep(m.step);
        return;
      case 'setFrame':
        this.state.frame = m.frame;
        if (this.state.selectedKey !== null) await this.sendDetail(this.state.selectedKey);
        return;
      case 'revealLine':
        // Only files this viewer read records, bad lines or notes from.
        if (set.index.files.includes(m.file) || set.badLines.some((b) => b.file === m.file) || this.live.notes.some((n) => n.file === m.file)) {
          await revealLine(m.file, m.line);
        }
        return;
      case 'groupAction':
        await this.groupAction(m.action, m.key);
        return;
      case 'requestHistograms':
        this.histogramsOpen = m.open;
        this.state.histograms = m.open;
        if (m.open) this.queueHistograms();
        else {
          clearTimeout(this.histogramTimer);
          this.histogramTimer = undefined;
        }
        return;
    }
  }

  /** The group view's Timeline / Compare… buttons: the command runs on (this source, key); an error (say, a command not there) is shown. */
  private async groupAction(action: 'timeline' | 'compare', key: string): Promise<void> {
    const command = action === 'timeline' ? 'grpoStudio.showPromptTimeline' : 'grpoStudio.compareCompletions';
    try {
      await vscode.commands.executeCommand(command, this.target, key);
    } catch (e) {
      logError(`viewer: ${command}`, e);
      void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
    }
  }

  /**
   * Selects group `key` and scrolls to it, clearing the filter (text and flags) when it hides
   * the group; before the webview is ready, on its `ready`. False when the source has no such group (yet).
   */
  async revealGroup(key: string): Promise<boolean> {
    if (!this.ready) {
      this.pendingReveal = key;
      return this.set.groupIndex(key) !== undefined;
    }
    const set = this.set;
    if (set.groupIndex(key) === undefined) {
      // Still reading what exists: selected when it arrives (onLive).
      if (!this.live.loaded) this.pendingReveal = key;
      else this.post({ type: 'error', message: `No group ${key} in this source.` });
      return false;
    }
    if (set.ordinalOf(key) < 0) await this.applyFilter('', { ...this.state.filter, text: '', flags: [] });
    this.state.selectedKey = key;
    this.post({ type: 'reveal', key, ordinal: set.ordinalOf(key) });
    await this.sendDetail(key);
    return true;
  }

  /** Applies filter text (with the flags and order in `base`), answers with how it was read, and lists again. */
  async applyFilter(text: string, base = this.state.filter): Promise<void> {
    const wanted = { ...base, text };
    this.state.filter = wanted;
    const before = this.set.filteredCount;
    const total = await this.set.applyFilter(wanted);
    // A newer filter was typed while this one read the bodies: that one answers.
    if (this.state.filter !== wanted) return;
    this.post({ type: 'filterApplied', filter: wanted, reading: this.filterReading() });
    // A query that does not parse keeps the list as it was: no need to list again.
    if (!this.set.filterProblem || total !== before) {
      this.post({ type: 'listChanged', total, grown: false });
      this.queueHistograms();
    }
  }

  /**
   * Sends the histograms of the list as it stands, if the strip is open: at once when none went
   * out in the last HISTOGRAM_UPDATE_MS, else once at its end (changes meanwhile coalesce).
   */
  private queueHistograms(): void {
    if (!this.histogramsOpen || this.histogramTimer !== undefined) return;
    const wait = Math.max(0, this.histogramsSentAt + HISTOGRAM_UPDATE_MS - Date.now());
    this.histogramTimer = setTimeout(() => {
      this.histogramTimer = undefined;
      if (!this.histogramsOpen || !this.ready) return;
      this.histogramsSentAt = Date.now();
      try {
        this.post({ type: 'histograms', set: computeHistograms(this.set) });
      } catch (e) {
        logError('viewer: histograms', e);
      }
    }, wait);
  }

  /** Sets the filter text as if typed; before the webview is ready, it is applied on `ready`. */
  setFilterText(text: string): void {
    if (this.ready) void this.applyFilter(text).catch((e) => logError('viewer', e));
    else this.pendingFilterText = text;
  }

  /** Selects the first group of `step` in the list as shown; says so when there is none. */
  goToStep(step: number): boolean {
    const hit = this.set.firstOfStep(step);
    if (!hit) {
      this.post({ type: 'error', message: `No group of step ${step} in the list${this.state.filter.text || this.state.filter.flags.length ? ' (filtered)' : ''}.` });
      return false;
    }
    this.state.selectedKey = hit.key;
    this.post({ type: 'reveal', key: hit.key, ordinal: hit.ordinal });
    void this.sendDetail(hit.key).catch((e) => logError('viewer', e));
    return true;
  }

  /**
   * A viewer without a selection selects the first group of the list as soon as there is one,
   * so a file opens on a group (its chain, boxes and rewards), not on an empty pane. A restored
   * selection is kept. True when it selected one (its detail is on the way).
   */
  private selectFirstIfNone(): boolean {
    if (!this.ready || this.state.selectedKey !== null) return false;
    const key = this.set.keyAt(0);
    if (key === undefined) return false;
    this.state.selectedKey = key;
    this.post({ type: 'reveal', key, ordinal: 0 });
    void this.sendDetail(key).catch((e) => logError('viewer', e));
    return true;
  }

  private async sendDetail(key: string): Promise<void> {
    const set = this.set;
    const gi = set.groupIndex(key);
    this.detailMissing = gi === undefined;
    if (gi === undefined) return;
    const detail = await buildGroupDetail(set, gi, this.options(), this.resolveImage);
    this.post({ type: 'groupDetail', detail });
  }

  /** Palette commands reach the focused viewer through here. */
  command(command: 'nextGroup' | 'previousGroup' | 'focusFilter'): void {
    this.post({ type: 'command', command });
  }

  /** Re-reads settings and recomputes every reward; the webview re-requests what it shows. */
  async recompute(): Promise<void> {
    // The rescore's own update (replaced) lists again and shows the selected group anew (onLive).
    await this.live.rescore(this.options());
  }

  /**
   * A judge run wrote `file`'s verdicts: that file's rows are looked up again (not a rescore, not
   * the other files), their groups re-flagged, the rows on screen and the selected group shown anew.
   */
  async refreshVerdicts(file: string): Promise<void> {
    if (!this.ctx.verdicts) return;
    await this.set.refreshVerdictsOf(file);
    this.post({ type: 'listChanged', total: this.set.filteredCount, grown: true });
    this.queueHistograms();
    if (this.state.selectedKey !== null) await this.sendDetail(this.state.selectedKey);
  }

  /**
   * The records a judge command covers: the selected group, every group of its step, or every
   * group in the filtered list. A string says why there are none.
   */
  async recordsFor(scope: JudgeScope): Promise<{ records: LoadedRecord[]; label: string } | string> {
    const set = this.set;
    const sel = this.state.selectedKey === null ? undefined : set.groupIndex(this.state.selectedKey);
    const name = path.basename(this.target);
    if (scope === 'filtered') {
      const groups = set.listedGroups();
      if (groups.length === 0) return 'The filtered list is empty.';
      return { records: await set.recordsOf(groups), label: `${groups.length} filtered group${groups.length === 1 ? '' : 's'} of ${name}` };
    }
    if (sel === undefined) return 'Select a group in the viewer first.';
    const group = set.group(sel);
    if (scope === 'group') return { records: await set.recordsOf([sel]), label: `group ${group.key} of ${name}` };
    const step = group.step;
    const groups = set.groupsOfStep(step);
    return { records: await set.recordsOf(groups), label: `${step === null ? 'the groups without a step' : `step ${step}`} of ${name} (${groups.length} group${groups.length === 1 ? '' : 's'})` };
  }

  /** Opens the selected group's first record (else the first record) in the text editor. */
  async revealSelected(): Promise<void> {
    const index = this.set.index;
    const gi = this.state.selectedKey === null ? undefined : this.set.groupIndex(this.state.selectedKey);
    const row = gi === undefined ? (index.count ? 0 : undefined) : index.groupRows(gi)[0];
    if (row !== undefined) await revealLine(index.fileAt(row), index.line.data[row]!);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.lease.release();
  }
}

/** The folder itself for a folder, else the file's folder. */
function folderOf(p: string): string {
  try {
    return statSync(p).isDirectory() ? p : path.dirname(p);
  } catch {
    return path.dirname(p);
  }
}

/**
 * Opens `file` as text (not in our custom editor) with `line` (1-based) selected. A parquet file
 * (TRL) is binary and its "line" is a row: it is shown in the Explorer and the row is named.
 */
export async function revealLine(file: string, line: number): Promise<void> {
  if (file.endsWith('.parquet')) {
    await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(file));
    void vscode.window.showInformationMessage(`Row ${line} of ${path.basename(file)} (parquet has no text to open; the viewer shows the record).`);
    return;
  }
  const pos = new vscode.Position(Math.max(0, line - 1), 0);
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), 'default', {
    selection: new vscode.Range(pos, pos),
    preview: true,
  } satisfies vscode.TextDocumentShowOptions);
}
