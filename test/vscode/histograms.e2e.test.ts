/**
 * The viewer's reward histograms in a real VS Code (code-server with the packaged VSIX, driven
 * by chromium): the strip's bars show the core's counts for the bundled sample, a click sets the
 * filter text to the bar's clause and the list to the clause's groups, a bar reached with the
 * keyboard ANDs its clause onto the filter, and the strip comes back open after a reload.
 * Needs `npm run package` and scripts/install-code-server.sh (scripts/test.sh does both).
 * GRPO_STUDIO_DOC_SCREENSHOTS=1 copies the picture to docs/images/reward-histograms.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { RolloutView } from '../../src/core/view/rolloutView';
import { computeHistograms, type HistogramBar, type HistogramSet } from '../../src/core/view/histograms';
import { DEFAULT_SCORE_OPTIONS } from '../../src/core/rewards/scoreDefaults';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const SAMPLE_DIR = join(REPO_ROOT, 'dist/sample');
const SAMPLE_FILE = join(SAMPLE_DIR, 'sample.rollouts.jsonl');

const scratch = mkdtempSync(join(tmpdir(), 'grpo-e2e-hist-'));
let server: CodeServer | undefined;

before(async () => {
  for (const f of [VSIX, SAMPLE_FILE]) assert.ok(existsSync(f), `${f} exists (run npm run package)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const byTestId = (f: Frame, id: string) => f.locator(`[data-testid="${id}"]`);
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The core's histograms of the sample under `filter` text, and the list it gives (groups, completions). */
async function core(text: string): Promise<{ set: HistogramSet; groups: number; completions: number }> {
  const view = await RolloutView.load([SAMPLE_FILE], DEFAULT_SCORE_OPTIONS);
  try {
    const groups = await view.applyFilter({ text, flags: [] });
    assert.equal(view.filterProblem, null, `${text}: ${view.filterProblem?.message}`);
    const completions = view.listedGroups().reduce((n, g) => n + view.matchingRows(g).length, 0);
    return { set: computeHistograms(view), groups, completions };
  } finally {
    await view.close();
  }
}

interface ShownBar { column: string; clause: string; apply: string; count: number; filtered: number; groups: number }

async function shownBars(f: Frame): Promise<ShownBar[]> {
  return byTestId(f, 'histogram-bar').evaluateAll((els) => els.map((e) => {
    const d = (e as HTMLElement).dataset;
    return { column: d.column ?? '', clause: d.clause ?? '', apply: d.apply ?? '', count: Number(d.count), filtered: Number(d.filtered), groups: Number(d.groups) };
  }));
}

const expected = (set: HistogramSet): ShownBar[] => set.histograms.flatMap((h) => h.bars.map((b) => ({
  column: h.column, clause: b.clause, apply: b.apply, count: b.count, filtered: b.filtered, groups: b.filteredGroups,
})));

/** Waits until the strip shows what the core computes (the host re-sends after each filter). */
async function stripShows(f: Frame, set: HistogramSet, what: string): Promise<void> {
  const want = expected(set);
  await waitUntil(`the histograms show ${what}`, async () => {
    const got = await shownBars(f);
    return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
  }, 20_000).catch(async (e: unknown) => {
    assert.deepEqual(await shownBars(f), want, `${what}: ${String(e)}`);
  });
}

async function listCounts(f: Frame): Promise<string> {
  return squash((await byTestId(f, 'counts').textContent()) ?? '');
}

test('histograms: bars show the core\'s counts; a click filters the list to the bar, a keyboard Enter ANDs another; the strip survives a reload', { timeout: 240_000 }, async () => {
  assert.ok(server);
  const ws = join(scratch, 'ws');
  cpSync(SAMPLE_DIR, ws, { recursive: true });
  const wb = await Workbench.open(server, ws);
  try {
    await wb.runCommand('GRPO Studio: Open Sample');
    const f = await wb.webviewFrame();
    await waitUntil('group rows', async () => ((await byTestId(f, 'group-row').count()) >= 10 ? true : undefined), 30_000);
    const all = await core('');
    assert.ok(all.set.histograms.length >= 3, `the sample has ≥ 3 histograms (${all.set.histograms.map((h) => h.column).join(', ')})`);

    await byTestId(f, 'toggle-histograms').click();
    assert.equal(await byTestId(f, 'toggle-histograms').getAttribute('aria-pressed'), 'true');
    await stripShows(f, all.set, 'the whole sample');
    assert.deepEqual(await byTestId(f, 'histogram').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.column)), all.set.histograms.map((h) => h.column));

    // A range bar that selects some groups but not all.
    const range = all.set.histograms.filter((h) => h.kind === 'range').flatMap((h) => h.bars)
      .filter((b) => b.count > 0 && b.filteredGroups < all.groups)
      .sort((a, b) => b.count - a.count)[0];
    assert.ok(range, 'a range bar that narrows the list');
    const totalGroups = all.groups;
    await f.locator(`[data-testid="histogram-bar"][data-clause="${range.clause}"]`).click();
    const input = f.locator('[data-testid="filter"] input');
    await waitUntil('the filter box holds the clause', async () => ((await input.inputValue()) === range.clause ? true : undefined), 10_000);
    const one = await core(range.clause);
    assert.equal(one.groups, range.filteredGroups, 'the clause lists the bar\'s groups (core)');
    assert.equal(one.completions, range.count, 'the clause selects the bar\'s completions (core)');
    await waitUntil(`the list shows ${range.filteredGroups} of ${totalGroups} groups`, async () =>
      (new RegExp(`\\b${range.filteredGroups} of ${totalGroups} groups`).test(await listCounts(f)) ? true : undefined), 15_000);
    assert.ok((await byTestId(f, 'group-row').count()) <= range.filteredGroups, 'no more rows than the bar\'s groups');
    assert.equal(squash((await byTestId(f, 'filter-kind').textContent()) ?? ''), 'query');
    await stripShows(f, one.set, `the list under ${range.clause}`);
    // Under the filter, the clicked bar's column puts every filtered completion in that bar.
    const column = one.set.histograms.find((h) => h.bars.some((b) => b.clause === range.clause))!;
    assert.deepEqual(column.bars.map((b) => (b.clause === range.clause ? b.filtered === range.count : b.filtered === 0)), column.bars.map(() => true));

    // Keyboard: focus a bar of another column that still has filtered completions, press Enter: its clause is ANDed on.
    const second = one.set.histograms.filter((h) => h !== column).flatMap((h) => h.bars).find((b: HistogramBar) => b.filtered > 0 && b.filtered < one.completions)
      ?? one.set.histograms.filter((h) => h !== column).flatMap((h) => h.bars).find((b) => b.filtered > 0)!;
    assert.equal(second.apply, `(${range.clause}) and ${second.clause}`);
    const bar = f.locator(`[data-testid="histogram-bar"][data-clause="${second.clause}"]`);
    assert.match((await bar.getAttribute('aria-label')) ?? '', /Click to filter/);
    await bar.focus();
    await f.page().keyboard.press('Enter');
    await waitUntil('the filter box holds both clauses', async () => ((await input.inputValue()) === second.apply ? true : undefined), 10_000);
    const two = await core(second.apply);
    assert.equal(two.groups, second.filteredGroups);
    assert.equal(two.completions, second.filtered);
    await waitUntil(`the list shows ${second.filteredGroups} groups`, async () =>
      (new RegExp(`\\b${second.filteredGroups} of ${totalGroups} groups`).test(await listCounts(f)) ? true : undefined), 15_000);
    await stripShows(f, two.set, `the list under ${second.apply}`);

    // Back to the single clause for the picture.
    await input.fill(range.clause);
    await stripShows(f, one.set, `the list under ${range.clause} again`);
    await byTestId(f, 'group-row').first().click();
    await byTestId(f, 'group-view').waitFor({ state: 'visible', timeout: 20_000 });
    await wb.runCommand('Notifications: Clear All Notifications');
    await f.locator(`[data-testid="histogram-bar"][data-clause="${range.clause}"]`).hover();
    await new Promise((r) => setTimeout(r, 500));
    const shot = await wb.screenshot('reward-histograms');
    if (process.env.GRPO_STUDIO_DOC_SCREENSHOTS) copyFileSync(shot, join(REPO_ROOT, 'docs/images/reward-histograms.png'));

    // The strip is in the saved state: a reloaded page asks for it again.
    await wb.runCommand('Developer: Reload Webviews');
    const g = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="histogram-bar"]').count()) > 0, 30_000);
    assert.equal(await byTestId(g, 'toggle-histograms').getAttribute('aria-pressed'), 'true');
    await stripShows(g, one.set, 'after a reload');
    await byTestId(g, 'toggle-histograms').click();
    await waitUntil('the strip closes', async () => ((await byTestId(g, 'histograms').count()) === 0 ? true : undefined), 10_000);
    assert.deepEqual(await wb.cspViolations(), [], 'no CSP violations');
  } catch (err) {
    const shot = await wb.screenshot('histograms-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});
