/**
 * The judge's commands: the API key (set / clear), judging a file, and judging what the focused
 * viewer shows (its selected group, that group's step, the filtered list).
 */
import * as vscode from 'vscode';
import type { Viewers } from '../viewer/viewers';
import type { JudgeScope } from '../viewer/viewerConnection';
import { JudgeApiKey } from './apiKey';
import { unwrapSourceNode } from '../sources/sourcesTree';
import { JudgeService, SET_KEY_COMMAND } from './judgeService';

export function createJudgeService(context: vscode.ExtensionContext): JudgeService {
  return new JudgeService(new JudgeApiKey(context.secrets));
}

export function registerJudge(context: vscode.ExtensionContext, service: JudgeService, viewers: Viewers): vscode.Disposable[] {
  const key = new JudgeApiKey(context.secrets);
  const inViewer = (scope: JudgeScope) => async () => {
    const v = viewers.focused;
    if (!v) {
      void vscode.window.showInformationMessage('Open a rollout file in the GRPO Rollout Viewer first.');
      return undefined;
    }
    const r = await v.recordsFor(scope);
    if (typeof r === 'string') {
      void vscode.window.showInformationMessage(r);
      return undefined;
    }
    return service.judge(r.records, r.label);
  };
  const judgeFile = async (given?: unknown) => {
    const arg = unwrapSourceNode(given);
    let uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' && arg ? vscode.Uri.file(arg) : undefined;
    uri ??= (await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Judge',
      // Every format the viewer reads (a folder comes from the Rollout Sources view or the Explorer).
      filters: { 'Rollout files': ['jsonl', 'parquet', 'log', 'txt'], 'All files': ['*'] },
    }))?.[0];
    if (!uri) return undefined;
    try {
      return await service.judgeFile(uri.fsPath);
    } catch (e) {
      void vscode.window.showErrorMessage(`Cannot judge ${uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  };
  return [
    service,
    vscode.commands.registerCommand(SET_KEY_COMMAND, () => key.ask()),
    vscode.commands.registerCommand('grpoStudio.clearJudgeApiKey', () => key.clear()),
    vscode.commands.registerCommand('grpoStudio.judgeRolloutsFile', judgeFile),
    vscode.commands.registerCommand('grpoStudio.judgeGroup', inViewer('group')),
    vscode.commands.registerCommand('grpoStudio.judgeStep', inViewer('step')),
    vscode.commands.registerCommand('grpoStudio.judgeFiltered', inViewer('filtered')),
  ];
}
