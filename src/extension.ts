/**
 * Activation stays thin: each feature registers its disposables; nothing heavy loads before
 * first use (the rollout set is read when a viewer opens).
 */
import * as vscode from 'vscode';
import { readConfig, onConfigChange } from './config';
import { EDITOR_VIEW_TYPE, Viewers } from './viewer/viewers';
import { isRolloutsFile, registerReopenInViewer } from './viewer/reopenInViewer';
import { RolloutSourcesTree } from './sources/sourcesTree';
import { registerCommands } from './commands';
import { log, logError } from './log';
import { registerTraining } from './training/register';
import { registerModelDownload } from './localModelDownload';
import { registerRunOverview } from './overview/register';
import { registerPromptTimeline } from './timeline/register';
import { registerCompareCompletions } from './compare/register';
import { registerAlignmentDashboard } from './judge/dashboard';
import { createJudgeService, registerJudge } from './judge/register';
import { registerEvaluation } from './eval/register';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  try {
    const judge = createJudgeService(context);
    const viewers = new Viewers({ extensionUri: context.extensionUri, config: readConfig, verdicts: { lookup: judge.verdicts.lookup, onDidJudge: judge.onDidJudge } });
    const sources = new RolloutSourcesTree();
    context.subscriptions.push(
      log(),
      ...viewers.register(),
      // A rollouts file the workbench opened as text before our editor was registered moves to the viewer.
      registerReopenInViewer({ viewType: EDITOR_VIEW_TYPE, matches: isRolloutsFile }),
      sources,
      vscode.window.registerTreeDataProvider('grpoStudio.sources', sources),
      ...registerCommands({ extensionUri: context.extensionUri, viewers, sources }),
      onConfigChange(() => void viewers.recomputeAll()),
      ...registerTraining(context),
      registerModelDownload(context),
      ...registerRunOverview(context.extensionUri, viewers, sources),
      ...registerPromptTimeline(context.extensionUri, viewers),
      ...registerCompareCompletions(context.extensionUri, viewers, sources),
      ...registerJudge(context, judge, viewers),
      ...registerAlignmentDashboard(context.extensionUri, viewers, judge.onDidJudge),
      ...registerEvaluation(context),
    );
    // `npm run demo` (scripts/demo.sh) names the sample file here so its first screen is the
    // viewer: a file opened by the workbench at startup opens as text, before our editor is known.
    const demoFile = process.env.GRPO_STUDIO_DEMO_OPEN;
    if (demoFile) void vscode.commands.executeCommand('grpoStudio.openRolloutsFile', demoFile).then(undefined, (e: unknown) => logError('demo', e));
  } catch (e) {
    logError('activation failed', e);
    void vscode.window.showErrorMessage(`GRPO Studio failed to start: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}

export function deactivate(): void {}
