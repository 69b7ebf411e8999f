/**
 * Workspace Trust for training control. A run executes whatever the workspace's profiles and
 * launch scripts say, with the user's permissions, so nothing is launched, stopped or restarted
 * in Restricted Mode. Viewing rollouts, metrics and output stays available.
 */
import * as vscode from 'vscode';

export const MANAGE_TRUST = 'Manage Workspace Trust';

export function trustExplanation(action: string): string {
  return (
    `GRPO Studio cannot ${action} in Restricted Mode: a training run executes the commands in this ` +
    `workspace's .vscode/grpo-studio.json and launch scripts with your permissions. Trust the ` +
    `workspace to ${action}; viewing rollouts keeps working without trust.`
  );
}

/** True when trusted; otherwise explains why not and offers the trust editor. */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(trustExplanation(action), MANAGE_TRUST).then((pick) => {
    if (pick === MANAGE_TRUST) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
