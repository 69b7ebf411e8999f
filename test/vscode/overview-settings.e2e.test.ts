/**
 * The viewer and the Run Overview of one file share its model in a real VS Code (code-server +
 * the packaged VSIX, driven by chromium): with both open, a workspace setting that changes the
 * reward variant rescores the file once and the overview redraws with the new variant's numbers
 * (its charts are that variant's functions) and the viewer its selected group. Needs
 * `npm run package` and scripts/install-code-server.sh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { RunOverview } from '../../src/core/overview/runOverview';
import type { StepSummary } from '../../src/core/overview/stepSummary';
import { parseRecordLine } from '../../src/core/schema/record';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const SAMPLE_FILE = join(REPO_ROOT, 'dist/sample/sample.rollouts.jsonl');
const scratch = mkdtempSync(join(tmpdir(), 'grpo-overview-settings-e2e-'));
let server: CodeServer | undefined;

before(async () => {
  for (const f of [VSIX, SAMPLE_FILE]) assert.ok(existsSync(f), `${f} exists (run scripts/test.sh)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function expected(lines: string[], variant: string): Promise<StepSummary[]> {
  const o = new RunOverview({ variant, matching: 'seed', minPixels: 3136, maxPixels: 3686400 });
  o.add(lines.map((l) => {
    const p = parseRecordLine(l);
    assert.ok(p.ok, 'sample lines parse');
    return p.record;
  }));
  const steps = o.all();
  await o.close();
  return steps;
}

/** Waits until the panel's table shows `want`'s completions and reward means, and the charts are `charts`. */
async function expectTable(f: Frame, want: StepSummary[], charts: string[], label: string): Promise<void> {
  let last = '';
  try {
    await waitUntil(label, async () => {
      const rows = await f.locator('[data-testid="overview-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
      const byStep = new Map(rows.map((r) => [Number(r[0]), { completions: Number(r[1]), mean: Number(r[3]) }]));
      const shown = await f.locator('[data-testid="overview-chart"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-chart') ?? ''));
      last = byStep.size !== want.length ? `${byStep.size} steps, want ${want.length}` : '';
      for (const s of want) {
        const row = byStep.get(s.step);
        if (last || !row) break;
        if (row.completions !== s.completions) last = `step ${s.step}: ${row.completions} completions`;
        else if (Math.abs(row.mean - s.total.mean) > 1e-3 * Math.max(1, Math.abs(s.total.mean))) last = `step ${s.step}: reward mean ${row.mean}, want ${s.total.mean}`;
      }
      const rewardCharts = shown.filter((c) => c.startsWith('reward:')).sort();
      if (!last && rewardCharts.join(',') !== charts.join(',')) last = `reward charts ${rewardCharts.join(',')}, want ${charts.join(',')}`;
      return last === '' ? true : undefined;
    }, 30_000, 300);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${last}`);
  }
}

test('a reward variant set while a viewer and an overview show one file: rescored once, the overview redraws with its numbers', { timeout: 240_000 }, async () => {
  assert.ok(server, 'code-server started');
  const ws = join(scratch, 'ws');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  const file = join(ws, 'run.rollouts.jsonl');
  const lines = readFileSync(SAMPLE_FILE, 'utf8').split('\n').filter((l) => l.trim() !== '');
  writeFileSync(file, lines.join('\n') + '\n');
  const grounding = await expected(lines, 'grounding');
  const vsr = await expected(lines, 'vsr');
  assert.notDeepEqual(vsr.map((s) => s.total.mean), grounding.map((s) => s.total.mean), 'the variants score the sample differently');

  const wb = await Workbench.open(server, ws);
  try {
    await wb.openFile('run.rollouts.jsonl');
    const viewer = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="reward-row"]').count()) > 0);
    const mismatchesBefore = await viewer.locator('[data-testid="reward-mismatch"]').count();
    await wb.runCommand('GRPO Studio: Show Run Overview');
    const f = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="run-overview"]').count()) > 0);
    await expectTable(f, grounding, ['reward:accuracy', 'reward:bbox', 'reward:format'], 'the grounding numbers');

    writeFileSync(join(ws, '.vscode/settings.json'), JSON.stringify({ 'grpoStudio.rewardVariant': 'vsr' }));
    await expectTable(f, vsr, ['reward:accuracy', 'reward:format'], 'the vsr numbers after the setting');
    await wb.screenshot('overview-vsr');
    // Back to the viewer (its page was put away while hidden): its selected group is the shared
    // model's, rescored. The sample logs format 0.5 (grounding's), which vsr recomputes as 1.0.
    await wb.page.locator('.tabs-container .tab', { hasText: 'run.rollouts.jsonl' }).first().click();
    await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="group-row"]').count()) > 0 &&
      (await fr.locator('[data-testid="reward-mismatch"]').count()) > mismatchesBefore);
    assert.deepEqual(await wb.cspViolations(), []);
  } catch (err) {
    const shot = await wb.screenshot('overview-settings-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});
