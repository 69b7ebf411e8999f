/**
 * Training control in a real VS Code (code-server with the packaged VSIX, driven by chromium):
 * insert the replay preset (so the replay CLI is the installed extension's), launch it from the
 * palette, watch it in the Runs view and the Run Metrics panel, open its streaming rollouts in
 * the viewer from a chart, reload the window and find it again, stop it and find no process of
 * it left; then, in an untrusted workspace, see the launch refused with the reason. Needs
 * `npm run package` and scripts/install-code-server.sh (scripts/test.sh does both).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const SAMPLE_DIR = join(REPO_ROOT, 'dist/sample');
const STEPS = 90;

const scratch = mkdtempSync(join(tmpdir(), 'grpo-training-e2e-'));
const servers: CodeServer[] = [];

after(async () => {
  for (const s of servers) await s.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function inWindow(server: CodeServer, name: string, folder: string, body: (wb: Workbench) => Promise<void>): Promise<void> {
  const wb = await Workbench.open(server, folder);
  try {
    await body(wb);
  } catch (err) {
    const shot = await wb.screenshot(`${name}-failure`).catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
}

/**
 * Runs a palette command that opens a quick pick of its own, then picks `rowText` there.
 * Workbench.runCommand waits for the palette to close, which a command that reuses the quick
 * input at once may never let it do; so this waits for the command's own placeholder instead.
 */
async function runCommandAndPick(wb: Workbench, title: string, placeholder: string, query: string, rowText: string): Promise<void> {
  const input = wb.page.locator('.quick-input-widget input.input');
  const rows = wb.page.locator('.quick-input-list .monaco-list-row');
  const own = wb.page.locator(`.quick-input-widget input.input[placeholder*="${placeholder}"]`);
  // The whole exchange is retried: on a loaded machine the first F1 can land before the workbench
  // has focus, and the command's own pick has been seen to close again while being typed into.
  for (let attempt = 1; ; attempt++) {
    try {
      await wb.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`);
      await rows.filter({ hasText: title }).first().waitFor({ state: 'visible', timeout: 15_000 });
      await wb.page.keyboard.press('Enter');
      await own.waitFor({ state: 'visible', timeout: 15_000 });
      await own.fill(query, { timeout: 10_000 });
      await rows.filter({ hasText: rowText }).first().waitFor({ state: 'visible', timeout: 15_000 });
      await wb.page.keyboard.press('Enter');
      await input.waitFor({ state: 'hidden', timeout: 10_000 });
      return;
    } catch (err) {
      if (attempt === 3) throw err;
      await wb.page.keyboard.press('Escape');
    }
  }
}

/**
 * A recorded run long enough to stop halfway: the sample's groups spread over STEPS steps (one
 * per second at --step-seconds 1), image paths absolute so the copy needs no images of its own.
 */
function writeLongRecording(dir: string): string {
  const records = readFileSync(join(SAMPLE_DIR, 'sample.rollouts.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const r of records) groups.set(String(r.group), [...(groups.get(String(r.group)) ?? []), r]);
  const list = [...groups.values()];
  const lines: string[] = [];
  for (let step = 1; step <= STEPS; step++) {
    const group = list[step % list.length]!;
    for (const r of group) {
      const prompt = r.prompt as { text: string; images?: string[] };
      const images = (prompt.images ?? []).map((p) => (isAbsolute(p) ? p : join(SAMPLE_DIR, p)));
      lines.push(JSON.stringify({ ...r, step, group: `${step}/0`, prompt: { ...prompt, images } }));
    }
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'rollouts.jsonl'), lines.join('\n') + '\n');
  return dir;
}

interface ProfileFile {
  profiles: { name: string; command: string[]; [k: string]: unknown }[];
}

/** Processes (of this user) whose environment carries the run's marker. */
function processesOfRun(id: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`GRPO_STUDIO_RUN_ID=${id}`)) out.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function runStatus(ws: string): { id: string; status: string } | undefined {
  const root = join(ws, '.grpo-studio', 'runs');
  if (!existsSync(root)) return undefined;
  const id = readdirSync(root).find((d) => d.startsWith('replay-'));
  if (!id) return undefined;
  try {
    const rec = JSON.parse(readFileSync(join(root, id, 'run.json'), 'utf8')) as { status: string };
    return { id, status: rec.status };
  } catch {
    return undefined;
  }
}

const lineCount = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length : 0);

const hasRunMetrics = async (f: Frame) => (await f.locator('[data-testid="run-metrics"]').count()) > 0;
const hasViewer = async (f: Frame) => (await f.locator('grpo-viewer').count()) > 0;

let trusted: CodeServer | undefined;
async function trustedServer(): Promise<CodeServer> {
  assert.ok(existsSync(VSIX), `${VSIX} exists (npm run package)`);
  if (!trusted) {
    trusted = await CodeServer.start({ vsix: VSIX });
    servers.push(trusted);
  }
  return trusted;
}

test('launch the replay profile from the palette, watch metrics and rollouts stream, stop it with no process left', { timeout: 150_000 }, async () => {
  const server = await trustedServer();
  const ws = join(scratch, 'trusted-ws');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ws, 'README.md'), '# training e2e\n');
  const recording = writeLongRecording(join(scratch, 'recorded-run'));

  await inWindow(server, 'training-trusted', ws, async (wb) => {
    // The preset knows where the installed extension's CLI and sample are.
    await runCommandAndPick(wb, 'GRPO Studio: Insert Run Profile Preset…', 'Preset to add', 'replay', 'replay');
    const profilesFile = join(ws, '.vscode', 'grpo-studio.json');
    const inserted = await waitUntil('the preset in .vscode/grpo-studio.json', async () => {
      try {
        const doc = JSON.parse(readFileSync(profilesFile, 'utf8')) as ProfileFile;
        return doc.profiles.find((p) => p.name === 'replay') ? doc : undefined;
      } catch {
        return undefined;
      }
    }, 20_000);
    const replay = inserted.profiles.find((p) => p.name === 'replay')!;
    const [node, cli, verb, recorded] = replay.command;
    assert.ok(node && existsSync(node), `the preset's first argument is the editor's node: ${node}`);
    assert.match(cli ?? '', /grpo-studio[^/]*\/dist\/cli\.js$/, 'the CLI of the installed extension');
    assert.ok(existsSync(cli!), `${cli} exists`);
    assert.equal(verb, 'replay');
    assert.match(recorded ?? '', /\/dist\/sample$/, 'replays the bundled sample by default');
    assert.ok(existsSync(recorded!), `${recorded} exists`);
    // Same CLI, a longer recording at one step a second, so the run is still going when stopped.
    replay.command = [node, cli!, 'replay', recording, '--step-seconds', '1', '--out', '${output_dir}/rollouts.jsonl'];
    writeFileSync(profilesFile, JSON.stringify(inserted, null, 2) + '\n');

    await runCommandAndPick(wb, 'GRPO Studio: Launch Training Run…', 'Profile to launch', 'replay', 'replay');
    const run = await waitUntil('the run to be running', async () => {
      const s = runStatus(ws);
      return s?.status === 'running' ? s : undefined;
    }, 30_000);

    // The Runs view (revealed by the launch) shows it running with step/total.
    const row = wb.page.locator('.monaco-list-row', { hasText: new RegExp(`running · \\d+/${STEPS}`) }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });

    // The activity-bar entry draws its icon: the CSS mask points at an SVG the server really serves.
    const icon = await wb.page.evaluate(async () => {
      const label = document.querySelector<HTMLElement>('.activitybar .action-label[aria-label^="GRPO Studio"]');
      if (!label) return { found: false, status: 0, type: '' };
      const style = getComputedStyle(label);
      const mask = style.getPropertyValue('mask-image') || style.getPropertyValue('-webkit-mask-image');
      const url = /url\("?([^")]+)"?\)/.exec(mask)?.[1];
      if (!url) return { found: true, status: 0, type: mask };
      const res = await fetch(url);
      return { found: true, status: res.status, type: res.headers.get('content-type') ?? '' };
    });
    assert.deepEqual({ found: icon.found, status: icon.status }, { found: true, status: 200 }, `activity-bar icon: ${JSON.stringify(icon)}`);
    assert.match(icon.type, /svg/);

    // Metrics arrive in the Run Metrics panel's charts.
    await wb.runCommand('GRPO Studio: Show Run Metrics');
    const metrics = await wb.webviewFrame(hasRunMetrics);
    const chart = metrics.locator('[data-testid="chart"][data-metric="reward"]');
    await waitUntil('reward chart points', async () => Number(await chart.getAttribute('data-points').catch(() => '0')) >= 2 ? true : undefined, 30_000);
    await metrics.locator('[data-testid="gpu-off"], [data-testid="gpu-row"]').first().waitFor({ timeout: 15_000 });
    const gpuText = (await metrics.locator('.gpus').textContent()) ?? '';
    assert.ok(/nvidia-smi not found — GPU monitoring is off|GPU \d/.test(gpuText), `GPU section: ${gpuText}`);
    await wb.screenshot('training-metrics');

    // Rollouts stream: the file grows while the run goes.
    const rollouts = join(ws, '.grpo-studio', 'replay', 'rollouts.jsonl');
    const first = await waitUntil('rollouts written', async () => (lineCount(rollouts) > 0 ? lineCount(rollouts) : undefined), 20_000);
    await waitUntil('the rollouts file to grow', async () => (lineCount(rollouts) > first ? true : undefined), 20_000);

    // A click on the chart opens the run's rollouts in the viewer, which shows groups.
    await chart.locator('.u-over').click();
    const viewer = await wb.webviewFrame(hasViewer);
    await waitUntil('group rows in the viewer', async () => ((await viewer.locator('[data-testid="group-row"]').count()) >= 1 ? true : undefined), 30_000);
    await wb.screenshot('training-rollouts');

    // The same rollouts as a Run Overview (from the focused viewer), growing while the run writes.
    await wb.runCommand('GRPO Studio: Show Run Overview');
    const overview = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="run-overview"]').count()) > 0);
    const charted = async (): Promise<number> => Number(await overview.locator('[data-testid="overview-chart"][data-chart="total"]').getAttribute('data-points').catch(() => '0'));
    const steps0 = await waitUntil('a charted step', async () => { const n = await charted(); return n >= 1 ? n : undefined; }, 30_000);
    await waitUntil('more steps charted while the run writes', async () => ((await charted()) > steps0 ? true : undefined), 30_000);

    // A window reload: the run lives on in its supervisor and the Runs view finds it again.
    await wb.page.reload();
    await wb.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await wb.page.locator('.monaco-list-row', { hasText: new RegExp(`running · \\d+/${STEPS}`) }).first().waitFor({ state: 'visible', timeout: 60_000 });
    assert.equal(runStatus(ws)?.status, 'running', 'still running after the reload');

    assert.ok(processesOfRun(run.id).length > 0, 'the run has live processes before the stop');
    await wb.runCommand('GRPO Studio: Stop Training Run');
    await waitUntil('the run to be stopped', async () => (runStatus(ws)?.status === 'stopped' ? true : undefined), 30_000);
    await wb.page.locator('.monaco-list-row', { hasText: /stopped/ }).first().waitFor({ state: 'visible', timeout: 15_000 });
    assert.deepEqual(processesOfRun(run.id), [], `no process with GRPO_STUDIO_RUN_ID=${run.id} is left`);
    const replayed = lineCount(rollouts);
    assert.ok(replayed < STEPS * 4, `stopped before the end (${replayed} of ${STEPS * 4} completions)`);
    await wb.screenshot('training-stopped');
  });
});

test('a crashing run shows as failed, its traceback as a warning and a problem on the source line', { timeout: 90_000 }, async () => {
  const server = await trustedServer();
  const ws = join(scratch, 'crash-ws');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ws, 'train.py'), 'import torch\n\nraise ValueError("boom")\n');
  // What Python prints when train.py line 3 raises; node prints it so no Python is needed.
  const traceback = 'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\nValueError: boom\n';
  const crash = { name: 'crash', command: [process.execPath, '-e', `process.stderr.write(${JSON.stringify(traceback)}); process.exit(3)`] };
  writeFileSync(join(ws, '.vscode', 'grpo-studio.json'), JSON.stringify({ profiles: [crash] }, null, 2));

  await inWindow(server, 'training-crash', ws, async (wb) => {
    await runCommandAndPick(wb, 'GRPO Studio: Launch Training Run…', 'Profile to launch', 'crash', 'crash');
    const toast = wb.page.locator('.notification-toast', { hasText: 'Python exception in run crash' }).first();
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await toast.textContent()) ?? '', /train\.py:3.*ValueError: boom/);
    await wb.page.locator('.monaco-list-row', { hasText: 'failed (exit 3)' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    // The problem sits on train.py line 3: the Problems panel lists it under that file.
    await wb.runCommand('View: Focus Problems');
    const problem = wb.page.locator('.markers-panel .monaco-list-row', { hasText: 'ValueError: boom' }).first();
    await problem.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match((await problem.textContent()) ?? '', /Ln 3/);
    await wb.screenshot('training-crash');
  });
});

test('in an untrusted workspace the launch is refused with the reason', { timeout: 120_000 }, async () => {
  const server = await CodeServer.start({ vsix: VSIX, workspaceTrust: true, settings: { 'security.workspace.trust.startupPrompt': 'never' } });
  servers.push(server);
  const ws = join(scratch, 'untrusted-ws');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  const profile = { name: 'replay', command: [process.execPath, join(REPO_ROOT, 'dist/cli.js'), 'replay', SAMPLE_DIR, '--out', '${output_dir}/rollouts.jsonl'], output_dir: '.grpo-studio/replay' };
  writeFileSync(join(ws, '.vscode', 'grpo-studio.json'), JSON.stringify({ profiles: [profile] }, null, 2));

  await inWindow(server, 'training-untrusted', ws, async (wb) => {
    await wb.runCommand('GRPO Studio: Launch Training Run…');
    const toast = wb.page.locator('.notification-toast', { hasText: 'Restricted Mode' }).first();
    await toast.waitFor({ state: 'visible', timeout: 20_000 });
    const text = (await toast.textContent()) ?? '';
    assert.match(text, /cannot launch training runs in Restricted Mode/);
    assert.match(text, /executes the commands/);
    assert.ok((await toast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).count()) === 1, 'offers Manage Workspace Trust');
    await wb.screenshot('training-untrusted');
    assert.equal(existsSync(join(ws, '.grpo-studio', 'runs')), false, 'no run folder was created');
  });
});
