/**
 * The Run Overview in a real VS Code (code-server + the packaged VSIX, driven by chromium): the
 * bundled sample opened in the viewer, "Show Run Overview" from the palette draws one point per
 * step with the numbers the core computes (read from the panel's table for screen readers);
 * a writer process appends more steps and the charts grow; a click on a chart opens the viewer
 * on that step's groups (`step == N`). Needs `npm run package` and scripts/install-code-server.sh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { appendInPieces } from './writer';
import { RunOverview } from '../../src/core/overview/runOverview';
import type { StepSummary } from '../../src/core/overview/stepSummary';
import { parseRecordLine, type RolloutRecord } from '../../src/core/schema/record';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const SAMPLE_FILE = join(REPO_ROOT, 'dist/sample/sample.rollouts.jsonl');
const scratch = mkdtempSync(join(tmpdir(), 'grpo-overview-e2e-'));
let server: CodeServer | undefined;

before(async () => {
  for (const f of [VSIX, SAMPLE_FILE]) assert.ok(existsSync(f), `${f} exists (run scripts/test.sh)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** What the panel must show, computed by the core with the extension's default settings. */
function expected(lines: string[]): StepSummary[] {
  const o = new RunOverview({ variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 3686400 });
  const records: RolloutRecord[] = lines.map((l) => {
    const p = parseRecordLine(l);
    assert.ok(p.ok, 'sample lines parse');
    return p.record;
  });
  o.add(records);
  return o.all().sort((a, b) => a.step - b.step);
}

/** The panel's table: step → [reward mean, zero-variance groups, completions]. */
async function tableRows(f: Frame): Promise<Map<number, { mean: number; zero: number; completions: number }>> {
  const rows = await f.locator('[data-testid="overview-table"] tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.children].map((c) => c.textContent ?? '')),
  );
  // Columns: step, completions, groups, reward mean, reward std, zero-variance groups, …
  return new Map(rows.map((r) => [Number(r[0]), { completions: Number(r[1]), mean: Number(r[3]), zero: Number(r[5]) }]));
}

/** Waits until the table and the total chart show exactly `want` (the writer may still be landing). */
async function expectSteps(f: Frame, want: StepSummary[]): Promise<void> {
  const mismatch = (t: Map<number, { mean: number; zero: number; completions: number }>): string | null => {
    if (t.size !== want.length) return `${t.size} steps in the table, want ${want.length}`;
    for (const s of want) {
      const row = t.get(s.step);
      if (!row) return `step ${s.step} missing`;
      if (row.completions !== s.completions) return `step ${s.step}: ${row.completions} completions, want ${s.completions}`;
      if (row.zero !== s.zeroVarianceGroups) return `step ${s.step}: ${row.zero} zero-variance groups, want ${s.zeroVarianceGroups}`;
      if (Math.abs(row.mean - s.total.mean) > 1e-3 * Math.max(1, Math.abs(s.total.mean))) return `step ${s.step}: reward mean ${row.mean}, want ${s.total.mean}`;
    }
    return null;
  };
  let last = '';
  try {
    await waitUntil(`${want.length} steps with the core's numbers`, async () => {
      const points = await f.locator('[data-testid="overview-chart"][data-chart="total"]').getAttribute('data-points').catch(() => null);
      last = mismatch(await tableRows(f)) ?? (points === String(want.length) ? '' : `${points} points on the total chart`);
      return last === '' ? true : undefined;
    }, 30_000, 300);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${last}`);
  }
}

test('run overview: per-step charts with the core\'s numbers, growing as a writer appends, a click opens the step', { timeout: 240_000 }, async () => {
  assert.ok(server, 'code-server started');
  const ws = join(scratch, 'ws');
  mkdirSync(ws);
  const file = join(ws, 'run.rollouts.jsonl');
  const lines = readFileSync(SAMPLE_FILE, 'utf8').split('\n').filter((l) => l.trim() !== '');
  writeFileSync(file, lines.join('\n') + '\n');
  const first = expected(lines);
  assert.ok(first.length >= 2, 'the sample has several steps');
  const lastStep = first[first.length - 1]!.step;

  const wb = await Workbench.open(server, ws);
  try {
    await wb.openFile('run.rollouts.jsonl');
    await wb.webviewFrame();
    await wb.runCommand('GRPO Studio: Show Run Overview');
    const f = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="run-overview"]').count()) > 0);
    await expectSteps(f, first);
    const charts = await f.locator('[data-testid="overview-chart"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-chart')));
    for (const key of ['total', 'reward:accuracy', 'reward:format', 'reward:bbox', 'zero_variance', 'format_failures', 'length', 'iou']) {
      assert.ok(charts.includes(key), `a chart for ${key} (got ${charts.join(', ')})`);
    }
    assert.equal(await f.locator('canvas').count(), charts.length, 'each chart drew a canvas');
    assert.match((await f.locator('[data-testid="overview-facts"]').textContent()) ?? '', new RegExp(`${first.length} steps · ${lines.length} completions`));

    // Three more steps, the sample's records renumbered past its last step, appended from another process.
    const more: string[] = [];
    for (let k = 1; k <= 3; k++) {
      for (const l of lines) {
        const r = JSON.parse(l) as Record<string, unknown>;
        more.push(JSON.stringify({ ...r, step: lastStep + k, group: `${String(r.group)}+${k}` }));
      }
    }
    await appendInPieces(file, more.join('\n') + '\n', { mostBytes: 2000, mostPauseMs: 30 });
    const grown = expected([...lines, ...more]);
    assert.equal(grown.length, first.length + 3);
    await expectSteps(f, grown);
    await wb.screenshot('overview');

    // A click on the right end of the total-reward chart picks the newest step and opens the viewer there.
    const newest = grown[grown.length - 1]!.step;
    const over = f.locator('[data-testid="overview-chart"][data-chart="total"] .u-over');
    const box = await over.boundingBox();
    assert.ok(box, 'the plot area is laid out');
    await over.hover({ position: { x: box.width - 2, y: box.height / 2 } });
    await over.click({ position: { x: box.width - 2, y: box.height / 2 } });
    const viewer = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="filter"] input').count()) > 0 && (await fr.locator('[data-testid="filter"] input').inputValue()) === `step == ${newest}`);
    const groupsOfNewest = new Set(more.filter((l) => (JSON.parse(l) as { step: number }).step === newest).map((l) => (JSON.parse(l) as { group: string }).group)).size;
    await waitUntil(`${groupsOfNewest} groups of step ${newest} listed`, async () =>
      (await viewer.locator('[data-testid="group-row"]').count()) === groupsOfNewest ? true : undefined, 20_000, 300);
    assert.deepEqual(await wb.cspViolations(), []);
  } catch (err) {
    const shot = await wb.screenshot('overview-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});

test('Rollout Sources lists a native file and a verl folder (not a dataset named 1.jsonl); a click opens the folder, the inline action its overview, the context menu the alignment dashboard', { timeout: 180_000 }, async () => {
  assert.ok(server, 'code-server started');
  const ws = join(scratch, 'ws-sources');
  mkdirSync(join(ws, 'verl/rollout'), { recursive: true });
  mkdirSync(join(ws, 'data'), { recursive: true });
  writeFileSync(join(ws, 'run.rollouts.jsonl'), readFileSync(SAMPLE_FILE, 'utf8'));
  for (const step of [1, 2, 3]) {
    const rows = [0, 1, 2, 3].map((k) => JSON.stringify({ input: `Which side? (${step})`, output: `<think>left</think><answer>${k % 2 ? 'left' : 'right'}</answer>`, gts: 'left', score: k % 2, step }));
    writeFileSync(join(ws, `verl/rollout/${step}.jsonl`), rows.join('\n') + '\n');
  }
  writeFileSync(join(ws, 'data/1.jsonl'), JSON.stringify({ question: 'What?', answer: 'A' }) + '\n');

  const wb = await Workbench.open(server, ws);
  try {
    await wb.runCommand('Focus on Rollout Sources View');
    const view = wb.page.locator('.pane', { has: wb.page.locator('.pane-header', { hasText: /Rollout Sources/i }) });
    const rows = view.locator('.monaco-list-row');
    const texts = await waitUntil('two sources listed', async () => {
      const t = (await rows.allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
      return t.length === 2 ? t : undefined;
    }, 30_000, 300);
    assert.match(texts[0]!, /^run\.rollouts\.jsonl\s*native$/);
    assert.match(texts[1]!, /^rollout\s*verl · verl$/);

    await rows.nth(1).click();
    const viewer = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="group-row"]').count()) === 3);
    assert.match((await viewer.locator('[data-testid="source-format"]').textContent()) ?? '', /verl/);

    await rows.nth(1).hover();
    await rows.nth(1).locator('.action-label[aria-label="Show Run Overview"]').click();
    const f = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="run-overview"]').count()) > 0);
    await waitUntil('3 steps charted', async () => ((await f.locator('[data-testid="overview-chart"][data-chart="total"]').getAttribute('data-points')) === '3' ? true : undefined), 30_000, 300);
    assert.match((await f.locator('[data-testid="overview-facts"]').textContent()) ?? '', /3 steps · 12 completions · verl/);
    await wb.screenshot('sources');

    // Right-click the native file: the Alignment Dashboard of that file (nothing judged yet).
    const completions = readFileSync(SAMPLE_FILE, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
    await rows.nth(0).click({ button: 'right' });
    const item = wb.page.locator('.monaco-menu .action-item', { hasText: 'Show Alignment Dashboard' }).first();
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    await item.hover();
    await wb.page.keyboard.press('Enter');
    const a = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="alignment"]').count()) > 0);
    await waitUntil('the dashboard of run.rollouts.jsonl', async () =>
      new RegExp(`${completions} completions · 0 verdicts`).test((await a.locator('[data-testid="alignment-summary"]').textContent().catch(() => '')) ?? '') ? true : undefined, 20_000, 300);
  } catch (err) {
    const shot = await wb.screenshot('sources-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});
