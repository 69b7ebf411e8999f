/**
 * One pseudoterminal per run showing its stdout and stderr live. It reads the run's own log
 * files (not a pipe), so a run started before a reload, or by the CLI, shows the same output.
 * Tracebacks' `File "…", line N` (and `path.py:N`) are links to the source.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';
import type { RunInfo } from '../core/training/run-manager';
import { jobLine } from '../core/training/slurm-runs';
import type { Stream } from '../core/training/run-watch';
import type { TrainingHost } from './host';
import { findSourceLinks, resolveSource, terminalText } from './outputText';

/** Output older than this is left in the files: a terminal is for following, not archiving. */
const BACKLOG_BYTES = 2 << 20;

class StreamReader {
  private offset: number;
  private readonly decoder = new StringDecoder('utf8');
  constructor(readonly file: string) {
    const size = sizeOf(file);
    this.offset = Math.max(0, size - BACKLOG_BYTES);
  }
  get skipped(): number {
    return this.offset;
  }
  read(): string {
    const size = sizeOf(this.file);
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return '';
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, 4 << 20));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      return this.decoder.write(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

class RunPty implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.writeEmitter.event;
  private readonly readers: Record<Stream, StreamReader>;
  private opened = false;
  private endedShown = false;
  private lastJob = '';

  constructor(
    readonly run: RunInfo,
    private readonly current: () => RunInfo,
    private readonly onClose: () => void,
  ) {
    this.readers = { stdout: new StreamReader(join(run.dir, 'stdout.log')), stderr: new StreamReader(join(run.dir, 'stderr.log')) };
  }

  open(): void {
    this.opened = true;
    const r = this.run.record;
    const how = r.job ? `$ sbatch ${r.job.script}\n  (runs: ${r.argv.join(' ')})` : `$ ${r.argv.join(' ')}`;
    this.writeEmitter.fire(terminalText(`\x1b[2m${r.profile} · run ${this.run.id}\n${how}\n\x1b[0m`));
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.readers[s].skipped) this.writeEmitter.fire(terminalText(`\x1b[2m… earlier ${s} in ${this.readers[s].file}\x1b[0m\n`));
    }
    this.pump(this.current());
  }

  /** Write whatever the log files gained. */
  pump(info?: RunInfo): void {
    if (!this.opened) return;
    for (const s of ['stdout', 'stderr'] as const) {
      const text = this.readers[s].read();
      if (text) this.writeEmitter.fire(terminalText(text));
    }
    const now = info ?? this.run;
    // A Slurm run's state changes (queued, why, on which nodes) are part of its story.
    const job = now.record.job ? jobLine(now.record.job) : '';
    if (job && job !== this.lastJob) {
      this.lastJob = job;
      this.writeEmitter.fire(terminalText(`\x1b[2m[Slurm ${job}]\x1b[0m\n`));
    }
    if (!now.live && !this.endedShown) {
      this.endedShown = true;
      const rec = now.record;
      const how = rec.signal ? `signal ${rec.signal}` : rec.exitCode !== undefined && rec.exitCode !== null ? `exit code ${rec.exitCode}` : (rec.error ?? 'no exit status');
      this.writeEmitter.fire(terminalText(`\n\x1b[2m[run ${now.status}: ${how}]\x1b[0m\n`));
    }
  }

  close(): void {
    this.onClose();
  }

  dispose(): void {
    this.writeEmitter.dispose();
  }
}

export class RunTerminals implements vscode.Disposable, vscode.TerminalLinkProvider<RunLink> {
  private readonly open = new Map<string, { terminal: vscode.Terminal; pty: RunPty }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly host: TrainingHost) {
    this.disposables.push(
      host.onOutput((e) => this.open.get(e.run)?.pty.pump(host.get(e.run))),
      host.onRunChanged((info) => {
        if (info) this.open.get(info.id)?.pty.pump(info);
      }),
      vscode.window.onDidCloseTerminal((t) => {
        for (const [id, o] of this.open) if (o.terminal === t) this.forget(id);
      }),
      vscode.window.registerTerminalLinkProvider(this),
    );
  }

  private forget(id: string): void {
    const o = this.open.get(id);
    if (!o) return;
    this.open.delete(id);
    o.pty.dispose();
  }

  /** Shows the run's terminal, creating it on first use. */
  show(run: RunInfo, preserveFocus = false): vscode.Terminal {
    let o = this.open.get(run.id);
    if (!o) {
      const pty = new RunPty(run, () => this.host.get(run.id) ?? run, () => this.forget(run.id));
      const terminal = vscode.window.createTerminal({ name: `Run: ${run.record.profile}`, pty, iconPath: new vscode.ThemeIcon('rocket') });
      o = { terminal, pty };
      this.open.set(run.id, o);
    }
    o.terminal.show(preserveFocus);
    return o.terminal;
  }

  provideTerminalLinks(context: vscode.TerminalLinkContext): RunLink[] {
    const entry = [...this.open.values()].find((o) => o.terminal === context.terminal);
    if (!entry) return [];
    return findSourceLinks(context.line).flatMap((l) => {
      const file = resolveSource(l.file, entry.pty.run.record.cwd);
      return file ? [{ startIndex: l.start, length: l.length, tooltip: `Open ${l.file}:${l.line}`, file, line: l.line }] : [];
    });
  }

  async handleTerminalLink(link: RunLink): Promise<void> {
    const pos = new vscode.Position(Math.max(0, link.line - 1), 0);
    await vscode.window.showTextDocument(vscode.Uri.file(link.file), { selection: new vscode.Range(pos, pos), preview: true });
  }

  dispose(): void {
    for (const id of [...this.open.keys()]) {
      this.open.get(id)?.terminal.dispose();
      this.forget(id);
    }
    for (const d of this.disposables) d.dispose();
  }
}

interface RunLink extends vscode.TerminalLink {
  file: string;
  line: number;
}
