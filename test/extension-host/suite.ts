/**
 * The extension-host suite: runs inside a real VS Code with the real `vscode` API, against the
 * installed extension. Bundled (mocha included, `vscode` external) into out/test/host-suite.js by
 * test/extension-host/bundle.mjs. Two entry points over the same tests:
 * - `run()` for @vscode/test-electron (`extensionTestsPath`), rejects when a test fails;
 * - `runSuite()` for the test-only host-suite extension (hostExtension.ts) inside code-server,
 *   resolves with the counts.
 */
import * as vscode from 'vscode';
import Mocha from 'mocha';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const EXTENSION_ID = 'grpo-studio.grpo-studio';
const COMMAND_TITLES = [
  'GRPO Studio: Open Sample',
  'GRPO Studio: Open Rollouts File…',
  'GRPO Studio: Next Group',
  'GRPO Studio: Previous Group',
];

export interface SuiteResults {
  passed: number;
  failed: number;
  failures: { title: string; error: string }[];
}

interface CommandContribution {
  command: string;
  title: string;
  category?: string;
}

interface ConfigurationContribution {
  properties?: Record<string, { default?: unknown }>;
}

interface Contributes {
  commands?: CommandContribution[];
  configuration?: ConfigurationContribution | ConfigurationContribution[];
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  return ext;
}

function contributes(): Contributes {
  return (extension().packageJSON as { contributes?: Contributes }).contributes ?? {};
}

/** "Category: Title" as the command palette shows it. */
function paletteTitle(c: CommandContribution): string {
  return c.category ? `${c.category}: ${c.title}` : c.title;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function allTabs(): readonly vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs);
}

/** A tab showing one of this extension's webviews (panel or custom editor). */
function isViewerTab(tab: vscode.Tab): boolean {
  const input = tab.input;
  if (input instanceof vscode.TabInputWebview) return /grpo/i.test(input.viewType);
  if (input instanceof vscode.TabInputCustom) return /grpo/i.test(input.viewType);
  return false;
}

function defineTests(root: Mocha.Suite): void {
  const suite = Mocha.Suite.create(root, 'GRPO Studio in a real VS Code');
  suite.timeout(60_000);
  const test = (title: string, fn: () => Promise<void>) => suite.addTest(new Mocha.Test(title, fn));

  test('the extension activates', async () => {
    const ext = extension();
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  test('the palette titles the viewer needs are contributed', async () => {
    const titles = (contributes().commands ?? []).map(paletteTitle);
    for (const t of COMMAND_TITLES) assert.ok(titles.includes(t), `contributes "${t}" (has: ${titles.join(', ')})`);
  });

  test('every contributed command is registered', async () => {
    await extension().activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const declared = (contributes().commands ?? []).map((c) => c.command);
    assert.ok(declared.includes('grpoStudio.openSample'), 'grpoStudio.openSample is declared');
    const missing = declared.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], 'declared but not registered');
  });

  test('configuration defaults are present', async () => {
    const raw = contributes().configuration;
    const sections = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const entries = sections.flatMap((s) => Object.entries(s.properties ?? {}));
    assert.ok(entries.length > 0, 'the extension contributes settings');
    const config = vscode.workspace.getConfiguration();
    for (const [key, schema] of entries) {
      if (!('default' in schema)) continue;
      assert.deepEqual(config.inspect(key)?.defaultValue, schema.default, `default of ${key}`);
    }
  });

  test('grpoStudio.openSample opens a viewer webview tab', async () => {
    await vscode.commands.executeCommand('grpoStudio.openSample');
    const tab = await waitFor('a GRPO Studio webview tab', () => allTabs().find(isViewerTab));
    assert.ok(tab.label.length > 0, 'the tab has a title');
  });

  test('next/previous group commands run while the viewer is open', async () => {
    const ids = (contributes().commands ?? [])
      .filter((c) => /Next Group|Previous Group/.test(c.title))
      .map((c) => c.command);
    assert.equal(ids.length, 2, 'two navigation commands');
    for (const id of ids) await vscode.commands.executeCommand(id);
  });

  test('a *.rollouts.jsonl file in the workspace opens in the viewer', async () => {
    const [file] = await vscode.workspace.findFiles('**/*.rollouts.jsonl', '**/node_modules/**', 1);
    assert.ok(file, 'the test workspace holds a *.rollouts.jsonl file');
    const before = allTabs().filter(isViewerTab).length;
    await vscode.commands.executeCommand('vscode.open', file);
    await waitFor('a second viewer tab', () => (allTabs().filter(isViewerTab).length > before ? true : undefined));
    const active = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(active && isViewerTab(active), 'the opened file shows in the viewer, not as text');
  });

  test('"Open Rollouts File…" with a path opens that file in the viewer, any .jsonl name', async () => {
    const id = (contributes().commands ?? []).find((c) => c.title === 'Open Rollouts File…')?.command;
    assert.ok(id, 'the command is contributed');
    const [source] = await vscode.workspace.findFiles('**/*.rollouts.jsonl', '**/node_modules/**', 1);
    assert.ok(source, 'the test workspace holds a *.rollouts.jsonl file');
    // A name without `.rollouts.`: the viewer must open it because it was asked to.
    const dir = await mkdtemp(join(tmpdir(), 'grpo-host-'));
    const plain = join(dir, 'plain.jsonl');
    await writeFile(plain, await vscode.workspace.fs.readFile(source));
    await vscode.commands.executeCommand(id, plain);
    const tab = await waitFor('a viewer tab on plain.jsonl', () =>
      allTabs().find((t) => isViewerTab(t) && t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === plain));
    assert.ok(tab.isActive, 'the viewer on plain.jsonl is the active tab');
    await vscode.window.tabGroups.close(tab);
    await rm(dir, { recursive: true, force: true });
  });

  test('"Open Rollouts Folder…" with a verl folder of <step>.jsonl files opens a folder viewer', async () => {
    const id = (contributes().commands ?? []).find((c) => c.title === 'Open Rollouts Folder…')?.command;
    assert.ok(id, 'the command is contributed');
    const dir = await mkdtemp(join(tmpdir(), 'grpo-verl-'));
    const row = (step: number, k: number) => JSON.stringify({ input: `p${step}`, output: `<think>t</think> <answer>${k}</answer>`, gts: '1', score: k, step }) + '\n';
    await writeFile(join(dir, '1.jsonl'), row(1, 0) + row(1, 1));
    await writeFile(join(dir, '2.jsonl'), row(2, 0) + row(2, 1));
    await vscode.commands.executeCommand(id, dir);
    const tab = await waitFor('a folder viewer tab', () =>
      allTabs().find((t) => isViewerTab(t) && t.input instanceof vscode.TabInputWebview && t.label.includes(basename(dir))));
    assert.ok(tab.isActive, 'the folder viewer is the active tab');
    await vscode.window.tabGroups.close(tab);
    await rm(dir, { recursive: true, force: true });
  });

  // Last on purpose: its viewer stays open, and test/vscode/viewer.e2e.test.ts then checks in the
  // webview that the query is the filter and the list shows only step 1.
  test('grpoStudio.showRolloutsAt(file, query) opens the viewer of the file with the query as its filter', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grpo-show-at-'));
    const file = join(dir, SHOW_AT_FILE);
    const line = (step: number, k: number) => JSON.stringify({ v: 1, step, group: `${step}/0`, completion: `<think>t${k}</think> <answer>A</answer>`, reward: k }) + '\n';
    await writeFile(file, [0, 1, 2].flatMap((step) => [0, 1].map((k) => line(step, k))).join(''));
    await vscode.commands.executeCommand('grpoStudio.showRolloutsAt', file, SHOW_AT_QUERY);
    const tab = await waitFor(`a viewer tab on ${SHOW_AT_FILE}`, () =>
      allTabs().find((t) => isViewerTab(t) && t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === file));
    assert.ok(tab.isActive, 'the viewer is the active tab');
    // Again, with a Uri and another query: the same viewer is focused, no second tab.
    await vscode.commands.executeCommand('grpoStudio.showRolloutsAt', vscode.Uri.file(file), SHOW_AT_QUERY);
    const same = allTabs().filter((t) => isViewerTab(t) && t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === file);
    assert.equal(same.length, 1, 'one viewer per file');
  });
}

/** What the showRolloutsAt host test opens; the e2e test looks for it in the webview. */
export const SHOW_AT_FILE = 'show-at.rollouts.jsonl';
export const SHOW_AT_QUERY = 'step == 1';

export async function runSuite(): Promise<SuiteResults> {
  const mocha = new Mocha({ ui: 'bdd', color: false, reporter: 'spec' });
  defineTests(mocha.suite);
  const results: SuiteResults = { passed: 0, failed: 0, failures: [] };
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', () => (results.passed += 1));
    runner.on('fail', (t: Mocha.Runnable, err: unknown) => {
      results.failed += 1;
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      results.failures.push({ title: t.fullTitle(), error });
    });
  });
  return results;
}

/** @vscode/test-electron's entry point. */
export async function run(): Promise<void> {
  const r = await runSuite();
  if (r.failed > 0) throw new Error(`${r.failed} host test(s) failed: ${r.failures.map((f) => f.title).join('; ')}`);
}
