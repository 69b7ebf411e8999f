/**
 * The "Compare Completions…" command: `compareCompletions(target?, key?, other?)` puts group
 * `key` of `target` beside `other` ({ target, key }). Without `target`/`key` it takes the focused
 * viewer's selected group; without `other` it asks: a group with the same prompt at another step
 * of this run, or the same prompt in another run (picked from the workspace's rollout sources;
 * its groups with this prompt are found by prompt identity, src/core/view/samePrompt.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { groupPrompt, groupsWithPrompt } from '../core/view/samePrompt';
import { readConfig } from '../config';
import type { RolloutSourcesTree } from '../sources/sourcesTree';
import type { Viewers } from '../viewer/viewers';
import type { LiveLease } from '../viewer/liveSources';
import type { RolloutView } from '../core/view/rolloutView';
import { pickRuns } from '../overview/register';
import { CompareCompletionsPanels, type GroupRef } from './comparePanel';

export function registerCompareCompletions(extensionUri: vscode.Uri, viewers: Viewers, tree?: RolloutSourcesTree): vscode.Disposable[] {
  const panels = new CompareCompletionsPanels(extensionUri, viewers.sources);
  const acquire = (target: string): LiveLease => {
    const c = readConfig();
    return viewers.sources.acquire(target, { variant: c.rewardVariant, matching: c.boxMatching, minPixels: c.minPixels, maxPixels: c.maxPixels });
  };
  const compare = async (target?: unknown, key?: unknown, other?: unknown): Promise<void> => {
    let a: GroupRef | undefined = typeof target === 'string' && typeof key === 'string' ? { target, key } : undefined;
    if (!a) {
      const v = viewers.focused;
      if (v && v.selectedKey !== null) a = { target: v.target, key: v.selectedKey };
    }
    if (!a) {
      void vscode.window.showInformationMessage('Select a group in the GRPO Rollout Viewer first: its completions are compared with another step\u2019s or run\u2019s.');
      return;
    }
    let b = isRef(other) ? other : undefined;
    if (!b) {
      const lease = acquire(a.target);
      try {
        b = await pickOther(a, lease, acquire, viewers, tree);
      } finally {
        lease.release();
      }
    }
    if (b) panels.show(a, b);
  };
  return [panels, vscode.commands.registerCommand('grpoStudio.compareCompletions', compare)];
}

/** Asks which group to put beside `a`: one with its prompt at another step, or in another run. */
async function pickOther(a: GroupRef, lease: LiveLease, acquire: (t: string) => LiveLease, viewers: Viewers, tree?: RolloutSourcesTree): Promise<GroupRef | undefined> {
  await lease.started;
  const set = await loaded(lease);
  const g = set.groupIndex(a.key);
  if (g === undefined) throw new Error(`Group ${a.key} is not in ${path.basename(a.target)}.`);
  const prompt = await groupPrompt(set, g);
  if (!prompt) throw new Error(`Group ${a.key} has no completion to compare.`);
  const here = (await groupsWithPrompt(set, prompt)).filter((x) => x !== g);
  const another = '$(compare-changes) The same prompt in another run\u2026';
  const items: (vscode.QuickPickItem & { key?: string })[] = [
    ...groupItems(set, here),
    { label: another, alwaysShow: true },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: `Compare group ${a.key} of ${path.basename(a.target)} with`,
    placeHolder: here.length ? `${here.length} other group${here.length === 1 ? '' : 's'} of this run ask the same prompt` : 'No other step of this run asks this prompt',
  });
  if (!picked) return undefined;
  if (picked.key !== undefined) return { target: a.target, key: picked.key };
  const run = (await pickRuns([path.resolve(a.target)], viewers, tree))?.[0];
  if (!run) return undefined;
  const otherLease = acquire(run);
  try {
    await otherLease.started;
    const other = await loaded(otherLease);
    const there = await groupsWithPrompt(other, prompt);
    if (!there.length) {
      void vscode.window.showWarningMessage(`No group of ${path.basename(run)} asks the prompt of group ${a.key}.`);
      return undefined;
    }
    if (there.length === 1) return { target: run, key: other.group(there[0]!).key };
    const choice = await vscode.window.showQuickPick(groupItems(other, there), { title: `Groups of ${path.basename(run)} with this prompt` });
    return choice?.key === undefined ? undefined : { target: run, key: choice.key };
  } finally {
    otherLease.release();
  }
}

function groupItems(set: RolloutView, groups: number[]): (vscode.QuickPickItem & { key: string })[] {
  return groups.map((x) => {
    const grp = set.group(x);
    return { label: grp.step === null ? `group ${grp.key}` : `step ${grp.step}`, description: `group ${grp.key}`, key: grp.key };
  });
}

/** The source's view once its first read is done (a comparison needs every group it has). */
async function loaded(lease: LiveLease): Promise<RolloutView> {
  const live = lease.live;
  for (let waited = 0; !live.loaded; waited += 100) {
    if (waited > 120_000) throw new Error(`Still reading ${path.basename(live.target)}; try again when it is read.`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return live.set;
}

const isRef = (x: unknown): x is GroupRef => typeof x === 'object' && x !== null && typeof (x as GroupRef).target === 'string' && typeof (x as GroupRef).key === 'string';
