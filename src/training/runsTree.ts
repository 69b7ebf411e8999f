/**
 * The Runs view: the workspace's profiles (launch inline) and its runs, live and finished, with
 * status icons, progress in the description and inline stop / restart / resume. Built from the
 * TrainingHost; asking for the children is what first builds the run manager (lazy reattach).
 */
import * as vscode from 'vscode';
import type { RunProfile } from '../core/training/profile';
import type { RunInfo } from '../core/training/run-manager';
import { jobLine } from '../core/training/slurm-runs';
import type { TrainingHost } from './host';
import { progressText } from './progressText';

export const RUNS_VIEW = 'grpoStudio.runs';

export type RunsNode =
  | { kind: 'section'; section: 'profiles' | 'runs' }
  | { kind: 'profile'; profile: RunProfile }
  | { kind: 'profilesProblem'; file: string; message: string }
  | { kind: 'run'; id: string };

const ICONS: Record<RunInfo['status'], [string, string?]> = {
  starting: ['loading~spin'],
  pending: ['watch', 'charts.yellow'],
  running: ['sync~spin', 'charts.blue'],
  exited: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop'],
  lost: ['question', 'list.warningForeground'],
};

export class RunsTree implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sections = { profiles: { kind: 'section', section: 'profiles' } as RunsNode, runs: { kind: 'section', section: 'runs' } as RunsNode };
  private readonly runNodes = new Map<string, RunsNode>();
  private readonly disposables: vscode.Disposable[] = [];
  private pendingProgress = new Set<string>();
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(private readonly host: TrainingHost) {
    this.disposables.push(
      host.onRunChanged((info) => (info && this.runNodes.has(info.id) ? this.changed.fire(this.runNodes.get(info.id)) : this.changed.fire(this.sections.runs))),
      // tqdm redraws many times a second: repaint a run's row at most once a second.
      host.onProgress((e) => {
        this.pendingProgress.add(e.run);
        this.progressTimer ??= setTimeout(() => {
          this.progressTimer = undefined;
          for (const id of this.pendingProgress) {
            const node = this.runNodes.get(id);
            if (node) this.changed.fire(node);
          }
          this.pendingProgress.clear();
        }, 1000);
      }),
      this.changed,
    );
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  private runNode(id: string): RunsNode {
    let n = this.runNodes.get(id);
    if (!n) this.runNodes.set(id, (n = { kind: 'run', id }));
    return n;
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) {
      if (!this.host.workspace) return [];
      this.host.runs();
      return [this.sections.profiles, this.sections.runs];
    }
    if (node.kind !== 'section') return [];
    if (node.section === 'profiles') {
      const state = this.host.profiles();
      if (state.error) return [{ kind: 'profilesProblem', file: state.file, message: state.error }];
      return state.profiles.map((profile) => ({ kind: 'profile', profile }));
    }
    return this.host.list().map((r) => this.runNode(r.id));
  }

  getParent(node: RunsNode): RunsNode | undefined {
    if (node.kind === 'run') return this.sections.runs;
    if (node.kind === 'profile' || node.kind === 'profilesProblem') return this.sections.profiles;
    return undefined;
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'section': {
        const profiles = node.section === 'profiles';
        const item = new vscode.TreeItem(profiles ? 'Profiles' : 'Runs', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `section:${node.section}`;
        item.contextValue = profiles ? 'profilesSection' : 'runsSection';
        if (profiles && !this.host.profiles().exists) item.description = 'none yet: Insert Run Profile Preset…';
        return item;
      }
      case 'profilesProblem': {
        const item = new vscode.TreeItem('grpo-studio.json has problems', vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
        item.tooltip = node.message;
        item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(node.file)] };
        return item;
      }
      case 'profile': {
        const p = node.profile;
        const item = new vscode.TreeItem(p.name, vscode.TreeItemCollapsibleState.None);
        item.id = `profile:${p.name}`;
        item.iconPath = new vscode.ThemeIcon('rocket');
        item.contextValue = 'profile';
        const s = p.target === 'slurm' ? p.slurm : undefined;
        const slurm = p.target === 'slurm' ? ['Slurm', s?.partition, s?.nodes && s.nodes > 1 ? `${s.nodes} nodes` : '', s?.gpusPerNode ? `${s.gpusPerNode} GPUs/node` : '', p.sweep ? `sweep ×${p.sweep.length}` : ''].filter(Boolean).join(' ') : '';
        const bits = [slurm, p.gpus ? `GPUs ${p.gpus.join(',')}` : '', p.after ? `after ${p.after}` : ''].filter(Boolean);
        item.description = bits.join(' · ') || p.description;
        const argv = typeof p.command === 'string' ? p.command : p.command.join(' ');
        item.tooltip = new vscode.MarkdownString().appendText(`${p.description ?? p.name}\n\n`).appendCodeblock(argv, 'shell');
        return item;
      }
      case 'run':
        return this.runItem(node.id);
    }
  }

  private runItem(id: string): vscode.TreeItem {
    const r = this.host.get(id);
    const item = new vscode.TreeItem(r?.record.profile ?? id, vscode.TreeItemCollapsibleState.None);
    item.id = `run:${id}`;
    if (!r) return item;
    const [icon, colour] = ICONS[r.status];
    item.iconPath = new vscode.ThemeIcon(icon, colour ? new vscode.ThemeColor(colour) : undefined);
    const job = r.record.job;
    const failed = r.status === 'failed' && r.record.exitCode !== undefined && r.record.exitCode !== null;
    // A Slurm run says what Slurm says: "PENDING (Priority)", "RUNNING on gpu[01-02]", "TIMEOUT (TimeLimit)", "FAILED exit 3".
    const slurmState = job?.state ? `${job.state}${job.state === 'RUNNING' && job.nodes ? ` on ${job.nodes}` : job.reason && job.state !== 'FAILED' && job.state !== 'COMPLETED' ? ` (${job.reason})` : ''}` : '';
    const exit = r.record.exitCode !== undefined && r.record.exitCode !== null && job?.state === 'FAILED' ? ` exit ${r.record.exitCode}` : '';
    const status = job?.state ? (r.status === 'stopped' ? `stopped · ${job.state}${exit}` : `${slurmState}${exit}`) : failed ? `failed (exit ${r.record.exitCode})` : r.status;
    const progress = !r.progress ? '' : r.live ? progressText(r.progress, { rate: false }) : `${r.progress.step}/${r.progress.total}`;
    const task = r.record.sweep && r.record.sweep.count > 1 ? `sweep=${r.record.sweep.value}` : '';
    item.description = [task, status, progress, shortTime(r.record.createdAt)].filter(Boolean).join(' · ');
    const tip = new vscode.MarkdownString();
    tip.appendMarkdown(`**${escapeMd(r.record.profile)}** — ${r.status}\n\n`);
    tip.appendText(`run ${r.id}\n`);
    if (r.record.pid !== undefined) tip.appendText(`pid ${r.record.pid}\n`);
    if (job) tip.appendText(`Slurm ${jobLine(job)}${job.nodes && job.state !== 'RUNNING' ? `, nodes ${job.nodes}` : ''}\nscript ${job.script}\n`);
    if (r.record.sweep) tip.appendText(`sweep value ${r.record.sweep.value} (task ${r.record.sweep.index} of ${r.record.sweep.count})\n`);
    if (r.watchError) tip.appendText(`state may be stale: ${r.watchError}\n`);
    if (r.record.gpus) tip.appendText(`GPUs ${r.record.gpus.join(',')}\n`);
    if (r.progress) tip.appendText(`${progressText(r.progress)}\n`);
    if (r.record.signal) tip.appendText(`ended by ${r.record.signal}\n`);
    if (r.record.error) tip.appendText(`${r.record.error}\n`);
    if (r.problems.length) tip.appendText(`${r.problems.length} problem(s) in the output: ${r.problems.at(-1)!.problem.message}\n`);
    item.tooltip = tip;
    const tags = ['run', r.live ? 'live' : 'finished'];
    if (r.record.rollouts) tags.push('rollouts');
    if (r.record.slurm) tags.push('slurm');
    if (!r.live && r.record.outputDir) tags.push('resumable');
    item.contextValue = tags.join(' ');
    item.command = { command: 'grpoStudio.showRunOutput', title: 'Show Run Output', arguments: [id] };
    return item;
  }

  dispose(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    for (const d of this.disposables) d.dispose();
  }
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/** "14:03" today, "Mar 2 14:03" before. */
function shortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return d.toDateString() === new Date().toDateString() ? hm : `${d.toLocaleString('en', { month: 'short' })} ${d.getDate()} ${hm}`;
}
