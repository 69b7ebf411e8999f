/**
 * A Slurm profile in a real VS Code (code-server with the packaged VSIX, driven by chromium),
 * on the real one-node cluster of test/support/slurm.ts: launch it from its row in the Runs view,
 * read the sbatch script opened before submit and press Submit, see the row go RUNNING on the
 * node, the Run Metrics panel say why it shows no GPUs (no nvidia-smi here), stop it from the row,
 * find that the job's INT trap ran, and see the end state again after a window reload.
 * Needs `npm run package` and scripts/install-code-server.sh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { ensureSlurm } from '../support/slurm';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const scratch = mkdtempSync(join(tmpdir(), 'grpo-slurm-e2e-'));
let server: CodeServer | undefined;

before(async () => {
  // Sets SLURM_CONF on process.env: code-server and its extension host inherit it.
  await ensureSlurm();
});
after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

interface Rec {
  status: string;
  job?: { jobId: string; state?: string; nodes?: string };
}
function theRun(ws: string): { id: string; dir: string; rec: Rec } | undefined {
  const root = join(ws, '.grpo-studio', 'runs');
  const id = existsSync(root) ? readdirSync(root).find((d) => d.startsWith('on-slurm-')) : undefined;
  if (!id) return undefined;
  try {
    return { id, dir: join(root, id), rec: JSON.parse(readFileSync(join(root, id, 'run.json'), 'utf8')) as Rec };
  } catch {
    return undefined;
  }
}

test('launch a Slurm profile from the Runs view, submit its script, watch it run, stop it (INT reaches the trap)', { timeout: 180_000 }, async () => {
  assert.ok(existsSync(VSIX), `${VSIX} exists (npm run package)`);
  const ws = join(scratch, 'ws');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ws, 'README.md'), '# slurm e2e\n');
  const command = `trap 'echo "INT seen" > "$GRPO_STUDIO_RUN_DIR/trapped"; exit 130' INT; echo "up on $SLURMD_NODENAME"; sleep 300 & wait`;
  const profile = { name: 'on-slurm', target: 'slurm', shell: true, command, slurm: { mem: '100M', time: '10', stopGraceSeconds: 20 } };
  writeFileSync(join(ws, '.vscode', 'grpo-studio.json'), JSON.stringify({ profiles: [profile] }, null, 2));

  server ??= await CodeServer.start({ vsix: VSIX });
  const wb = await Workbench.open(server, ws);
  try {
    await wb.page.locator('.activitybar .action-label[aria-label^="GRPO Studio"]').first().click();
    const profileRow = wb.page.locator('.monaco-list-row', { hasText: 'on-slurm' }).filter({ hasText: 'Slurm' }).first();
    await profileRow.waitFor({ state: 'visible', timeout: 30_000 });
    await profileRow.hover();
    await profileRow.locator('.action-label[aria-label*="Launch Training Run"]').click();

    // The script opens before anything is sent; nothing is submitted until Submit.
    await wb.page.locator('.tab', { hasText: 'job.sbatch' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await wb.page.locator('.view-lines', { hasText: '#SBATCH --time=10' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    const toast = wb.page.locator('.notification-toast', { hasText: 'Submit "on-slurm" to Slurm?' }).first();
    await toast.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(theRun(ws)?.rec.job, undefined, 'not submitted before Submit');
    await wb.screenshot('slurm-script');
    await toast.locator('.monaco-button', { hasText: 'Submit' }).click();

    const running = await waitUntil('the job RUNNING (run.json)', async () => {
      const r = theRun(ws);
      return r?.rec.job?.state === 'RUNNING' ? r : undefined;
    }, 60_000);
    const runRow = wb.page.locator('.monaco-list-row', { hasText: /RUNNING on \S+/ }).first();
    await runRow.waitFor({ state: 'visible', timeout: 30_000 });
    await waitUntil('the job output', async () => (readFileSync(join(running.dir, 'stdout.log'), 'utf8').includes('up on') ? true : undefined), 30_000);

    // No GPU here: the panel says why, in srun's words.
    await wb.runCommand('GRPO Studio: Show Run Metrics');
    const metrics = await wb.webviewFrame(async (f) => (await f.locator('[data-testid="run-metrics"]').count()) > 0);
    const off = metrics.locator('[data-testid="gpu-off"]');
    await waitUntil('the GPU reason', async () => (/srun --jobid=\d+ --overlap nvidia-smi did not answer/.test((await off.textContent().catch(() => '')) ?? '') ? true : undefined), 40_000);
    assert.match((await off.textContent()) ?? '', /nvidia-smi/);
    await wb.screenshot('slurm-running');

    await runRow.hover();
    await runRow.locator('.action-label[aria-label*="Stop Training Run"]').click();
    await waitUntil('the run stopped', async () => (theRun(ws)?.rec.status === 'stopped' ? true : undefined), 60_000);
    assert.equal(readFileSync(join(running.dir, 'trapped'), 'utf8'), 'INT seen\n', 'the job\'s INT trap ran');
    await wb.page.locator('.monaco-list-row', { hasText: 'stopped · FAILED exit 130' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    await wb.screenshot('slurm-stopped');

    // A window reload reads the end state from run.json: the same row, nothing re-asked of the job.
    await wb.page.reload();
    await wb.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await wb.page.locator('.monaco-list-row', { hasText: 'stopped · FAILED exit 130' }).first().waitFor({ state: 'visible', timeout: 60_000 });
  } catch (err) {
    const shot = await wb.screenshot('slurm-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  run: ${JSON.stringify(theRun(ws))}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});

test('a sweep profile submits one array job and shows one run per value in the Runs view', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(VSIX), `${VSIX} exists (npm run package)`);
  const ws = join(scratch, 'sweep-ws');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  writeFileSync(join(ws, 'README.md'), '# slurm sweep e2e\n');
  const profile = { name: 'lr-sweep', target: 'slurm', shell: true, command: 'echo "lr=${sweep}"', sweep: ['1e-6', '3e-6'], slurm: { mem: '100M' } };
  writeFileSync(join(ws, '.vscode', 'grpo-studio.json'), JSON.stringify({ profiles: [profile] }, null, 2));
  server ??= await CodeServer.start({ vsix: VSIX });
  const wb = await Workbench.open(server, ws);
  try {
    await wb.page.locator('.activitybar .action-label[aria-label^="GRPO Studio"]').first().click();
    const profileRow = wb.page.locator('.monaco-list-row', { hasText: 'lr-sweep' }).filter({ hasText: 'sweep ×2' }).first();
    await profileRow.waitFor({ state: 'visible', timeout: 30_000 });
    await profileRow.hover();
    await profileRow.locator('.action-label[aria-label*="Launch Training Run"]').click();
    const toast = wb.page.locator('.notification-toast', { hasText: 'as an array job of 2 tasks' }).first();
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    await wb.page.locator('.view-lines', { hasText: '#SBATCH --array=0-1' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await toast.locator('.monaco-button', { hasText: 'Submit' }).click();
    for (const v of ['1e-6', '3e-6']) {
      await wb.page.locator('.monaco-list-row', { hasText: `sweep=${v} · COMPLETED` }).first().waitFor({ state: 'visible', timeout: 60_000 });
    }
    const root = join(ws, '.grpo-studio', 'runs');
    const dirs = readdirSync(root).sort();
    assert.equal(dirs.length, 2);
    assert.deepEqual(dirs.map((d) => readFileSync(join(root, d, 'stdout.log'), 'utf8')), ['lr=1e-6\n', 'lr=3e-6\n']);
    await wb.screenshot('slurm-sweep');
  } catch (err) {
    const shot = await wb.screenshot('slurm-sweep-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});
