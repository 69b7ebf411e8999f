/**
 * The "Show Prompt Timeline" and "Reveal Group" commands. `showPromptTimeline(target?, key?)`:
 * the timeline of group `key`'s prompt in the source `target` (a file or folder path); without
 * them, the focused viewer's selected group. `revealGroup(target, key)`: opens or reveals the
 * viewer of `target` and selects group `key`, clearing a filter that hides it.
 */
import * as vscode from 'vscode';
import type { Viewers } from '../viewer/viewers';
import { PromptTimelines } from './timelinePanel';

export function registerPromptTimeline(extensionUri: vscode.Uri, viewers: Viewers): vscode.Disposable[] {
  const timelines = new PromptTimelines(extensionUri, viewers.sources);
  const show = (target?: unknown, key?: unknown): void => {
    let t = typeof target === 'string' && target.length > 0 ? target : undefined;
    let k = typeof key === 'string' && key.length > 0 ? key : undefined;
    if (t === undefined || k === undefined) {
      const v = viewers.focused;
      t = v?.target;
      k = v?.selectedKey ?? undefined;
    }
    if (t === undefined || k === undefined) {
      void vscode.window.showInformationMessage('Select a group in the GRPO Rollout Viewer first: its prompt\u2019s timeline opens.');
      return;
    }
    timelines.show(t, k);
  };
  const reveal = async (target?: unknown, key?: unknown): Promise<boolean> => {
    if (typeof target !== 'string' || typeof key !== 'string') throw new Error('grpoStudio.revealGroup needs a source path and a group key.');
    let viewer = viewers.find(target);
    if (viewer) viewer.panel.reveal();
    else {
      await vscode.commands.executeCommand('grpoStudio.showRolloutsAt', vscode.Uri.file(target));
      viewer = await viewers.waitFor(target);
    }
    if (!viewer) throw new Error(`Cannot open a viewer on ${target}.`);
    return viewer.revealGroup(key);
  };
  return [
    timelines,
    vscode.commands.registerCommand('grpoStudio.showPromptTimeline', show),
    vscode.commands.registerCommand('grpoStudio.revealGroup', reveal),
  ];
}
