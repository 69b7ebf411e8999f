/**
 * "▶ Launch" above each profile in `.vscode/grpo-studio.json` and above the launching line of
 * `.sh` scripts that start training. None in Restricted Mode: launching needs trust.
 */
import * as vscode from 'vscode';
import { parseProfiles } from '../core/training/profile';
import { launchLine } from './launchScript';
import { profileNameOffsets } from './profileFile';

export const LENS_SELECTOR: vscode.DocumentSelector = [
  { pattern: '**/.vscode/grpo-studio.json' },
  { language: 'shellscript', scheme: 'file' },
  { pattern: '**/*.sh', scheme: 'file' },
];

export class LaunchLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed, vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire())];

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.isTrusted) return [];
    const text = doc.getText();
    if (doc.uri.path.endsWith('/.vscode/grpo-studio.json')) {
      let names: string[];
      try {
        names = parseProfiles(text).map((p) => p.name);
      } catch {
        return []; // the JSON schema's own diagnostics say what is wrong
      }
      return [...profileNameOffsets(text, names)].map(([name, offset]) => {
        const pos = doc.positionAt(offset);
        return new vscode.CodeLens(new vscode.Range(pos, pos), {
          title: '▶ Launch',
          tooltip: `Launch profile "${name}"`,
          command: 'grpoStudio.launchRun',
          arguments: [{ profile: name }],
        });
      });
    }
    if (!doc.uri.path.endsWith('.sh')) return [];
    const line = launchLine(text);
    if (line === undefined) return [];
    return [
      new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
        title: '▶ Launch',
        tooltip: 'Launch this script as a training run (bash <file>)',
        command: 'grpoStudio.launchRun',
        arguments: [{ script: doc.uri.fsPath }],
      }),
    ];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
