/**
 * Runs the extension-host test suite inside whatever VS Code loaded this extension, when asked.
 *
 * code-server cannot be driven by @vscode/test-electron, but its extension host inherits the
 * environment code-server was started with (DESIGN §8). So the UI test driver starts code-server
 * with two variables: the bundled suite (mocha inside it, not in the extension) and a file for the
 * results. Without both variables this does nothing and costs one env read.
 */
import type * as vscode from 'vscode';
import { createRequire } from 'node:module';
import { open, rename, writeFile } from 'node:fs/promises';

export const HOST_SUITE_ENV = 'GRPO_STUDIO_HOST_SUITE';
export const HOST_RESULTS_ENV = 'GRPO_STUDIO_HOST_RESULTS';

export interface HostSuiteFailure {
  title: string;
  error: string;
}

export interface HostSuiteResults {
  passed: number;
  failed: number;
  failures: HostSuiteFailure[];
}

/** What the bundled suite module (test/extension-host/suite.ts) exports. */
interface HostSuiteModule {
  runSuite(): Promise<HostSuiteResults>;
}

function isHostSuiteModule(m: unknown): m is HostSuiteModule {
  return typeof m === 'object' && m !== null && typeof (m as { runSuite?: unknown }).runSuite === 'function';
}

/**
 * Starts the suite in the background when both variables are set; never blocks activation
 * (the suite itself waits for activation to finish before it asserts anything).
 */
export async function runHostSuiteIfRequested(_context: vscode.ExtensionContext): Promise<void> {
  const suitePath = process.env[HOST_SUITE_ENV];
  const resultsPath = process.env[HOST_RESULTS_ENV];
  if (!suitePath || !resultsPath) return;
  // Every window of one code-server has its own extension host, all with these variables; only
  // the first to claim the lock runs the suite, so later windows stay free for the UI tests.
  try {
    await (await open(`${resultsPath}.lock`, 'wx')).close();
  } catch {
    return;
  }
  setTimeout(() => void runAndRecord(suitePath, resultsPath), 0);
}

async function runAndRecord(suitePath: string, resultsPath: string): Promise<void> {
  let results: HostSuiteResults;
  try {
    // A runtime path, not a bundled import: the suite is its own bundle outside the VSIX.
    const loaded: unknown = createRequire(__filename)(suitePath);
    if (!isHostSuiteModule(loaded)) throw new Error(`${suitePath} does not export runSuite()`);
    results = await loaded.runSuite();
  } catch (err) {
    results = { passed: 0, failed: 1, failures: [{ title: 'load host suite', error: describe(err) }] };
  }
  // Write then rename, so the driver polling for the file never reads half of it.
  await writeFile(`${resultsPath}.partial`, JSON.stringify(results, null, 2));
  await rename(`${resultsPath}.partial`, resultsPath);
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
