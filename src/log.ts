/** The extension's one log channel. Never log API keys or rollout contents wholesale. */
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('GRPO Studio', { log: true });
  return channel;
}

export function logError(what: string, e: unknown): void {
  log().error(`${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
}
