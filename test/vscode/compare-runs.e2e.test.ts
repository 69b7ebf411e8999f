/**
 * Compare Runs in a real VS Code (code-server + the packaged VSIX, driven by chromium): a native
 * rollouts file and a verl folder picked from "Compare Runs…" go on shared charts aligned by step
 * (the verl run lacks the native run's last step: a gap, not a value), with the numbers the core
 * computes for each; smoothing redraws each line as the EMA of those numbers; a step the verl
 * trainer writes later appears; a click on the verl run's line opens the viewer of the verl
 * folder at that step. Needs `npm run package` and scripts/install-code-server.sh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { LiveSources } from '../../src/viewer/liveSources';
import { LiveOverview } from '../../src/core/overview/liveOverview';
import type { StepSummary } from '../../src/core/overview/stepSummary';
import { emaSmooth } from '../../src/core/overview/compareRuns';
import { formatNumber } from '../../webview/charts/step-chart';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const SAMPLE_FILE = join(REPO_ROOT, 'dist/sample/sample.rollouts.jsonl');
const OPTS = { variant: 'grounding', matching: 'seed' as const, minPixels: 3136, maxPixels: 3686400 };
const scratch = mkdtempSync(join(tmpdir(), 'grpo-compare-runs-e2e-'));
let server: CodeServer | undefined;

before(async () => {
  for (const f of [VSIX, SAMPLE_FILE]) assert.ok(existsSync(f), `${f} exists (run scripts/test.sh)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** What the core says about `target`'s steps, read the way the extension reads it. */
async function coreSteps(target: string): Promise<StepSummary[]> {
  const sources = new LiveSources({ intervalMs: 20, follow: { pollMs: 30 } });
  const lease = sources.acquire(target, OPTS);
  await lease.started;
  let reading = true;
  const live = new LiveOverview(lease.live, (u) => { reading = u.reading; }, { intervalMs: 20 });
  await waitUntil(`the core read ${target}`, async () => (!reading && lease.live.loaded ? true : undefined), 20_000, 30);
  const steps = live.snapshot().steps.sort((a, b) => a.step - b.step);
  await live.close();
  lease.release();
  await sources.close();
  return steps;
}

/** A verl rollout dump: `<step>.jsonl`, two prompts of four completions each. */
function verlStep(folder: string, step: number): void {
  const rows: string[] = [];
  for (const side of ['left', 'right']) {
    for (let k = 0; k < 4; k++) {
      const answer = (k + step) % 3 === 0 ? side : side === 'left' ? 'right' : 'left';
      rows.push(JSON.stringify({ input: `Which side is the cup on? (${side})`, output: `<think>The cup is on the ${answer}.</think> <answer>${answer}</answer>`, gts: side, score: answer === side ? 1 : 0, step }));
    }
  }
  writeFileSync(join(folder, `${step}.jsonl`), rows.join('\n') + '\n');
}

/** The hidden table: run index → step → mean length (the chart the click test uses) and reward mean. */
async function table(f: Frame): Promise<Map<string, { completions: number; mean: number; length: number }>> {
  const rows = await f.locator('[data-testid="compare-table"] tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [(tr as HTMLElement).dataset.run ?? '', ...[...tr.children].map((c) => c.textContent ?? '')]),
  );
  // Columns: run index, run label, step, completions, groups, reward mean, zero-variance groups, mean length, IoU median
  return new Map(rows.map((r) => [`${r[0]}/${r[2]}`, { completions: Number(r[3]), mean: Number(r[5]), length: Number(r[7]) }]));
}

async function expectRuns(f: Frame, want: StepSummary[][]): Promise<void> {
  let last = '';
  try {
    await waitUntil('each run\'s steps with the core\'s numbers', async () => {
      const t = await table(f);
      const total = want.reduce((n, r) => n + r.length, 0);
      last = t.size === total ? '' : `${t.size} rows, want ${total}`;
      for (const [i, run] of want.entries()) {
        for (const s of run) {
          const row = t.get(`${i}/${s.step}`);
          if (!row) last ||= `run ${i} step ${s.step} missing`;
          else if (row.completions !== s.completions) last ||= `run ${i} step ${s.step}: ${row.completions} completions, want ${s.completions}`;
          else if (Math.abs(row.mean - s.total.mean) > 1e-3 * Math.max(1, Math.abs(s.total.mean))) last ||= `run ${i} step ${s.step}: mean ${row.mean}, want ${s.total.mean}`;
          else if (Math.abs(row.length - s.length.mean) > 1e-3 * Math.max(1, s.length.mean)) last ||= `run ${i} step ${s.step}: length ${row.length}, want ${s.length.mean}`;
        }
      }
      const points = await f.locator('[data-testid="compare-chart"][data-chart="total"]').getAttribute('data-points').catch(() => null);
      if (!last && points !== want.map((r) => r.length).join(',')) last = `points ${points}`;
      return last === '' ? true : undefined;
    }, 30_000, 300);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${last}`);
  }
}

test('compare runs: a native file and a verl folder on shared charts, aligned by step, smoothed, following, a click opens the verl run\'s step', { timeout: 300_000 }, async () => {
  assert.ok(server, 'code-server started');
  const ws = join(scratch, 'ws');
  const verl = join(ws, 'verl/rollout');
  mkdirSync(verl, { recursive: true });
  const native = join(ws, 'run-a.rollouts.jsonl');
  writeFileSync(native, readFileSync(SAMPLE_FILE, 'utf8'));
  for (const step of [10, 20, 30]) verlStep(verl, step);
  const want = [await coreSteps(native), await coreSteps(verl)];
  assert.deepEqual(want[0]!.map((s) => s.step), [10, 20, 30, 40]);
  assert.deepEqual(want[1]!.map((s) => s.step), [10, 20, 30]);

  const wb = await Workbench.open(server, ws);
  try {
    // The palette's Compare Runs… asks which runs: tick both rollout sources.
    // Three tries, as Workbench.pick: on a loaded machine the first F1 can land before the workbench has focus.
    const input = wb.page.locator('.quick-input-widget input.input');
    for (let attempt = 1; ; attempt++) {
      try {
        await wb.page.keyboard.press('F1');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill('>GRPO Studio: Compare Runs');
        await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Compare Runs' }).first().waitFor({ state: 'visible', timeout: 15_000 });
        await wb.page.keyboard.press('Enter');
        await wb.page.locator('.quick-input-list .monaco-list-row[aria-label^="rollout,"]').waitFor({ state: 'visible', timeout: 15_000 });
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        await wb.page.keyboard.press('Escape');
        await wb.page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => undefined);
      }
    }
    await wb.tickAndAccept(['run-a.rollouts.jsonl', 'rollout']);

    const f = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="compare-runs"]').count()) > 0);
    await expectRuns(f, want);
    const legend = (await f.locator('[data-testid="compare-run"]').allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim());
    assert.equal(legend.length, 2);
    assert.match(legend[0]!, /^run-a\.rollouts\.jsonl native · 4 steps · 48 completions/);
    assert.match(legend[1]!, /^rollout verl · 3 steps · 24 completions/);
    const charts = await f.locator('[data-testid="compare-chart"]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.chart));
    for (const key of ['total', 'reward:accuracy', 'reward:format', 'reward:bbox', 'zero_variance', 'length']) assert.ok(charts.includes(key), `a chart for ${key} (got ${charts.join(', ')})`);
    assert.equal(await f.locator('[data-testid="compare-chart"][data-chart="length"]').getAttribute('data-points'), '4,3', 'the verl run has a gap at step 40');

    // Smoothing: each line's latest value becomes the EMA of the core's values.
    await f.locator('[data-testid="compare-smoothing"]').fill('0.5');
    await waitUntil('smoothed lines', async () => /EMA weight 0\.5/.test((await f.locator('[data-testid="compare-note"]').textContent()) ?? '') ? true : undefined, 10_000, 200);
    const latest = (await f.locator('[data-testid="compare-chart"][data-chart="total"] .latest').textContent()) ?? '';
    const ema = want.map((run) => formatNumber(emaSmooth(run.map((s) => s.total.mean), 0.5).at(-1)!));
    assert.equal(latest, ema.join(' / '), 'the latest smoothed values are the EMA of the core\'s means');
    await waitUntil('both runs read', async () => (/reading/.test((await f.locator('[data-testid="compare-legend"]').textContent()) ?? '') ? undefined : true), 20_000, 200);
    const shot = await wb.screenshot('compare-runs');
    if (process.env.GRPO_STUDIO_DOC_SCREENSHOTS) copyFileSync(shot, join(REPO_ROOT, 'docs/images/compare-runs.png'));

    // The verl trainer writes step 40: its line reaches the native run's last step.
    verlStep(verl, 40);
    const grown = [want[0]!, await coreSteps(verl)];
    await expectRuns(f, grown);
    await f.locator('[data-testid="compare-smoothing"]').fill('0');

    // Click the verl run's point at step 20 on the length chart (the runs' lengths differ a lot).
    const chart = f.locator('[data-testid="compare-chart"][data-chart="length"]');
    const over = chart.locator('.u-over');
    const box = await over.boundingBox();
    assert.ok(box, 'the plot area is laid out');
    const [xmin, xmax] = ((await chart.getAttribute('data-xrange')) ?? '').split(',').map(Number) as [number, number];
    const [ymin, ymax] = ((await chart.getAttribute('data-yrange')) ?? '').split(',').map(Number) as [number, number];
    const v = grown[1]!.find((s) => s.step === 20)!.length.mean;
    const at = { x: (box.width * (20 - xmin)) / (xmax - xmin), y: (box.height * (ymax - v)) / (ymax - ymin) };
    await over.hover({ position: at });
    await over.click({ position: at });
    const viewer = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="filter"] input').count()) > 0 && (await fr.locator('[data-testid="filter"] input').inputValue()) === 'step == 20' && /verl/.test((await fr.locator('[data-testid="source-format"]').textContent()) ?? ''));
    await waitUntil('the 2 groups of the verl run\'s step 20', async () => ((await viewer.locator('[data-testid="group-row"]').count()) === 2 ? true : undefined), 20_000, 300);
    assert.deepEqual(await wb.cspViolations(), []);
  } catch (err) {
    const shot = await wb.screenshot('compare-runs-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});
