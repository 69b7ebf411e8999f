/**
 * Problems recognised in run output (CUDA out-of-memory, NCCL timeouts, Python tracebacks) as
 * diagnostics: on the traceback's source line when that file exists, else on the line of the
 * run's log file. A warning notification once per problem kind and run, only for problems seen
 * as they happen (not for history read back after a reload).
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ProblemKind } from '../core/training/output-scanner';
import type { ProblemEvent, TrainingHost } from './host';
import { resolveSource } from './outputText';

const KIND_TEXT: Record<ProblemKind, string> = {
  'cuda-oom': 'CUDA out of memory',
  'nccl-timeout': 'NCCL timeout',
  traceback: 'Python exception',
};

/** Runs whose problems are listed even when read back from history: the newest few. */
const HISTORY_RUNS = 3;

export class RunProblems implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('grpo-studio-runs');
  /** Diagnostics by file, grouped by run so a run's can be dropped together. */
  private readonly byRun = new Map<string, Map<string, vscode.Diagnostic[]>>();
  private readonly notified = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly host: TrainingHost,
    private readonly showOutput: (run: string) => void,
  ) {
    this.disposables.push(host.onProblem((e) => this.add(e)), this.collection);
  }

  private add(e: ProblemEvent): void {
    const info = this.host.get(e.run);
    if (!info) return;
    if (e.replayed && !this.host.list().slice(0, HISTORY_RUNS).some((r) => r.id === e.run)) return;
    const p = e.problem;
    const kind = KIND_TEXT[p.kind];
    const logFile = join(info.dir, `${e.stream}.log`);
    const logLine = Math.max(0, p.line - 1);
    const source = p.file !== undefined ? resolveSource(p.file, info.record.cwd) : undefined;
    const where = source !== undefined && p.fileLine !== undefined ? { file: source, line: Math.max(0, p.fileLine - 1) } : { file: logFile, line: logLine };
    const d = new vscode.Diagnostic(new vscode.Range(where.line, 0, where.line, 1000), `${kind} in run ${info.record.profile}: ${p.message}`, vscode.DiagnosticSeverity.Error);
    d.source = 'GRPO Studio';
    d.code = p.kind;
    if (where.file !== logFile) {
      d.relatedInformation = [new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(logFile), new vscode.Position(logLine, 0)), `${e.stream}.log of run ${info.id}`)];
    }
    let files = this.byRun.get(e.run);
    if (!files) this.byRun.set(e.run, (files = new Map()));
    const list = files.get(where.file) ?? [];
    if (list.length < 100) list.push(d);
    files.set(where.file, list);
    this.publish(where.file);

    const key = `${e.run}:${p.kind}`;
    if (e.replayed || this.notified.has(key)) return;
    this.notified.add(key);
    const line = p.file !== undefined && p.fileLine !== undefined ? ` (${p.file}:${p.fileLine})` : '';
    void vscode.window.showWarningMessage(`${kind} in run ${info.record.profile}${line}: ${p.message}`, 'Show Output', 'Go to Line').then((pick) => {
      if (pick === 'Show Output') this.showOutput(e.run);
      if (pick === 'Go to Line') {
        const pos = new vscode.Position(where.line, 0);
        void vscode.window.showTextDocument(vscode.Uri.file(where.file), { selection: new vscode.Range(pos, pos) });
      }
    });
  }

  private publish(file: string): void {
    const all = [...this.byRun.values()].flatMap((files) => files.get(file) ?? []);
    this.collection.set(vscode.Uri.file(file), all);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
