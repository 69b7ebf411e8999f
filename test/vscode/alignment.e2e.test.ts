/**
 * The Alignment dashboard in a real VS Code (code-server + chromium): a rollout file whose
 * verdict cache the real core wrote (rules tier), opened in the viewer; the dashboard shows the
 * numbers the core computes, follows the cache when more verdicts are appended (as a judge run
 * or the CLI would), shows a hostile run name as text, and exports the seed-shaped Markdown.
 * Needs `npm run package` and scripts/install-code-server.sh (scripts/test.sh does both).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { alignmentItem, alignmentMarkdown, alignmentOfFiles, type AlignmentRow } from '../../src/core/judge/alignment';
import { VerdictCache, cachePathFor } from '../../src/core/judge/cache';
import { judgeCompletions } from '../../src/core/judge/cascade';
import { RulesJudge } from '../../src/core/judge/rules';
import { makeVerdict, type JudgeItem } from '../../src/core/judge/verdict';
import { parseRecordLine } from '../../src/core/schema/record';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const SAMPLE_FILE = join(REPO_ROOT, 'dist/sample/sample.rollouts.jsonl');
const HOSTILE_RUN = '<img src=x onerror="window.__pwned=1">|qwen';

const scratch = mkdtempSync(join(tmpdir(), 'grpo-align-e2e-'));
let server: CodeServer | undefined;

before(async () => {
  for (const f of [VSIX, SAMPLE_FILE]) assert.ok(existsSync(f), `${f} exists (run scripts/test.sh)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const byTestId = (f: Frame, id: string) => f.locator(`[data-testid="${id}"]`);
const cellOf = async (f: Frame, table: string, label: string, col: string): Promise<string> =>
  ((await f.locator(`[data-testid="${table}"] tr[data-label="${label.replace(/["\\]/g, '\\$&')}"] td[data-col="${col}"]`).first().textContent({ timeout: 2000 })) ?? '').trim();
const squash = (s: string): string => s.replace(/[\s\u00a0]+/g, '');
const pct = (n: number | null): string => (n === null ? '–' : `${n.toFixed(1)}%`);

/** The run row's numbers as the dashboard must show them. */
async function expectRunRow(f: Frame, row: AlignmentRow): Promise<void> {
  await waitUntil(`run row judged = ${row.judged}, misaligned = ${row.misaligned}`, async () => {
    const judged = await cellOf(f, 'alignment-models', row.label, 'judged').catch(() => '');
    const mis = await cellOf(f, 'alignment-models', row.label, 'misaligned').catch(() => '');
    return judged === String(row.judged) && mis === String(row.misaligned) ? true : undefined;
  }, 20_000, 300);
  assert.equal(await cellOf(f, 'alignment-models', row.label, 'accuracy'), pct(row.accuracy));
  assert.equal(await cellOf(f, 'alignment-models', row.label, 'alignment'), pct(row.alignment));
  assert.equal(await cellOf(f, 'alignment-models', row.label, 'unparseable'), String(row.unparseable));
  assert.equal(await cellOf(f, 'alignment-models', row.label, 'contradiction'), String(row.types.contradiction));
  assert.equal(await cellOf(f, 'alignment-models', row.label, 'irrelevant'), String(row.types.irrelevant));
}

test('dashboard: the table the core computes, refreshed as verdicts are appended, hostile names as text, Markdown export', { timeout: 180_000 }, async () => {
  assert.ok(server);
  const ws = join(scratch, 'ws');
  mkdirSync(ws, { recursive: true });
  const file = join(ws, 'run.rollouts.jsonl');
  const lines = readFileSync(SAMPLE_FILE, 'utf8').split('\n').filter((l) => l.trim() !== '');
  writeFileSync(file, lines.map((l) => JSON.stringify({ ...JSON.parse(l), run: HOSTILE_RUN })).join('\n') + '\n');
  const items: JudgeItem[] = lines.map((l) => {
    const p = parseRecordLine(l);
    assert.ok(p.ok);
    return alignmentItem({ ...p.record, run: HOSTILE_RUN }, file);
  });
  const cache = VerdictCache.open(cachePathFor(file));
  const judged = await judgeCompletions(items, 'rules', { rules: new RulesJudge() }, { cache });
  cache.close();
  const before1 = await alignmentOfFiles([file]);
  const run1 = before1.rows.find((r) => r.scope === 'run')!;
  assert.ok(run1.misaligned > 0 && run1.judged === items.length, 'the rules find something in the sample');

  const wb = await Workbench.open(server, ws);
  try {
    await wb.openFile('run.rollouts.jsonl');
    await wb.webviewFrame();
    await wb.runCommand('GRPO Studio: Show Alignment Dashboard');
    const f = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="alignment"]').count()) > 0);
    await expectRunRow(f, run1);
    assert.match((await byTestId(f, 'alignment-summary').textContent()) ?? '', new RegExp(`${items.length} completions · ${before1.verdicts} verdicts`));
    const steps = before1.rows.filter((r) => r.scope === 'step');
    assert.equal(await f.locator('[data-testid="alignment-steps"] tbody tr').count(), steps.length);
    for (const s of steps) assert.equal(await cellOf(f, 'alignment-steps', s.label, 'alignment'), pct(s.alignment));
    // The hostile run name is text: no element made of it, no script ran.
    assert.equal(await cellOf(f, 'alignment-models', HOSTILE_RUN, 'name'), HOSTILE_RUN);
    assert.equal(await f.locator('img').count(), 0);
    assert.equal(await f.evaluate('window.__pwned === undefined'), true);

    // An "LLM" pass over what the rules left uncertain, appended as a judge run would: the panel follows.
    const more = VerdictCache.open(cachePathFor(file));
    for (const r of judged.filter((j) => j.verdict?.aligns === null)) {
      more.put(makeVerdict(r.item, { aligns: false, type: 'irrelevant', why: 'scripted' }, { tier: 'llm', model: 'e2e-judge', promptHash: 'e2e' }));
    }
    more.close();
    const after1 = await alignmentOfFiles([file]);
    const run2 = after1.rows.find((r) => r.scope === 'run')!;
    assert.ok(run2.types.irrelevant > 0 && run2.alignment! < run1.alignment!);
    await expectRunRow(f, run2);

    await byTestId(f, 'alignment-export').click();
    const md = alignmentMarkdown(after1.rows).trim().split('\n');
    const text = await waitUntil('the exported Markdown in an editor', async () => {
      for (const t of await wb.page.locator('.monaco-editor .view-lines').allInnerTexts()) {
        // Markdown wraps long rows over several view lines: compare with whitespace removed (a break may fall where the text has none).
        const s = squash(t);
        if (s.includes(squash('| model | reasoning | accuracy | alignment |'))) return s;
      }
      return undefined;
    }, 20_000, 300);
    assert.ok(text.includes(squash(md[0]!)), 'header row');
    assert.ok(text.includes(squash(md[2]!)), `run row ${md[2]}`);
    assert.ok(text.includes(squash('### Per step')));
    assert.deepEqual(await wb.cspViolations(), []);
  } catch (err) {
    const shot = await wb.screenshot('alignment-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});
