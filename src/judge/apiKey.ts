/**
 * The LLM judge's API key: kept in VS Code's SecretStorage only. It is read when a judge run
 * starts and handed to the client object; never to settings, logs, files or process arguments.
 */
import * as vscode from 'vscode';

const SECRET_ID = 'grpoStudio.judge.apiKey';

export class JudgeApiKey {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(): Thenable<string | undefined> {
    return this.secrets.get(SECRET_ID);
  }

  /** "Set Judge API Key…": a password box; an empty answer changes nothing. */
  async ask(): Promise<boolean> {
    const key = await vscode.window.showInputBox({
      title: 'Set Judge API Key',
      prompt: 'API key of the OpenAI-compatible server in grpoStudio.judge.baseUrl. Kept in VS Code’s secret storage, never in settings.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (/\s/.test(v.trim()) ? 'A key has no spaces' : null),
    });
    if (!key?.trim()) return false;
    await this.secrets.store(SECRET_ID, key.trim());
    void vscode.window.showInformationMessage('Judge API key saved in secret storage.');
    return true;
  }

  async clear(): Promise<void> {
    await this.secrets.delete(SECRET_ID);
    void vscode.window.showInformationMessage('Judge API key removed from secret storage.');
  }
}
