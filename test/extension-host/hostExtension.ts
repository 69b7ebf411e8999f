/**
 * A test-only extension, "GRPO Studio host suite", that runs the extension-host suite
 * (./suite.ts) inside the VS Code that loaded it and writes the counts to a file.
 *
 * code-server cannot be driven by @vscode/test-electron, but its extension hosts inherit the
 * environment code-server was started with. So test/extension-host/bundle.mjs bundles this file
 * (suite and mocha inside, `vscode` external) into its own VSIX, and the code-server driver
 * (test/vscode/codeServer.ts, option `hostSuite`) installs that VSIX beside the product's and
 * names the results file in HOST_RESULTS_ENV. The product's bundle holds none of this
 * (test/unit/bundle.test.ts checks).
 */
import type * as vscode from 'vscode';
import { open, rename, writeFile } from 'node:fs/promises';
import { runSuite, type SuiteResults } from './suite';

export const HOST_RESULTS_ENV = 'GRPO_STUDIO_HOST_RESULTS';

/** Starts the suite in the background; activation returns at once. */
export async function activate(_context: vscode.ExtensionContext): Promise<void> {
  const resultsPath = process.env[HOST_RESULTS_ENV];
  if (!resultsPath) return;
  // Every window of one code-server has its own extension host, all with this variable; only
  // the first to claim the lock runs the suite, so later windows stay free for the UI tests.
  try {
    await (await open(`${resultsPath}.lock`, 'wx')).close();
  } catch {
    return;
  }
  setTimeout(() => void runAndRecord(resultsPath), 0);
}

export function deactivate(): void {}

async function runAndRecord(resultsPath: string): Promise<void> {
  let results: SuiteResults;
  try {
    results = await runSuite();
  } catch (err) {
    results = { passed: 0, failed: 1, failures: [{ title: 'run host suite', error: err instanceof Error ? (err.stack ?? err.message) : String(err) }] };
  }
  // Write then rename, so the driver polling for the file never reads half of it.
  await writeFile(`${resultsPath}.partial`, JSON.stringify(results, null, 2));
  await rename(`${resultsPath}.partial`, resultsPath);
}
