/**
 * Evaluation from the editor in a real VS Code (code-server + chromium): a fixture workspace with
 * an eval profile whose benchmarks a Python stand-in runner answers (no model here); three
 * checkpoints evaluated beforehand by the core, one by *Evaluate Checkpoint…*; the matrix panel's
 * cells equal the core's matrix of the same results folder, the curves have a point per step, a
 * hostile checkpoint name is text; *Export Report…* through the save dialog writes exactly the
 * core's Markdown and HTML. Needs `npm run package` and scripts/install-code-server.sh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { buildMatrix } from '../../src/core/eval/matrix';
import { checkpointRef, parseEvalProfiles } from '../../src/core/eval/profiles';
import { renderHtml } from '../../src/core/eval/reportHtml';
import { renderMarkdown } from '../../src/core/eval/reportMd';
import { evalManifest } from '../../src/core/eval/results';
import { evaluateCheckpoint } from '../../src/core/eval/runEval';
import { RunManager } from '../../src/core/training/run-manager';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const RUNNER = join(REPO_ROOT, 'test/fixtures/eval-runner/bench_runner.py');
const HOSTILE = '<img src=x onerror="window.__pwned=1">-250';
const N = 120;

const scratch = mkdtempSync(join(tmpdir(), 'grpo-eval-e2e-'));
const ws = join(scratch, 'ws');
let server: CodeServer | undefined;

before(async () => {
  assert.ok(existsSync(VSIX), `${VSIX} exists (run npm run package)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function writeFixture(): string {
  mkdirSync(join(ws, 'bench'), { recursive: true });
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  const letters = ['A', 'B', 'C', 'D'];
  writeFileSync(join(ws, 'bench/exam.jsonl'), Array.from({ length: N }, (_, i) => JSON.stringify({ id: `q${i}`, question: `Which? ${i}`, answer: letters[i % 4], kind: 'letters' })).join('\n') + '\n');
  writeFileSync(join(ws, 'bench/pope.jsonl'), Array.from({ length: N }, (_, i) => JSON.stringify({ id: `p${i}`, question: `Is there a dog? ${i}`, answer: i % 2 ? 'yes' : 'no', kind: 'yesno' })).join('\n') + '\n');
  const ck = (dir: string, skill: number, seed: number) => {
    mkdirSync(join(ws, dir), { recursive: true });
    writeFileSync(join(ws, dir, 'model.json'), JSON.stringify({ skill, seed }));
  };
  ck('models/base', 0.3, 1);
  ck('output/grpo/checkpoint-100', 0.45, 2);
  ck('output/grpo/checkpoint-200', 0.6, 3);
  ck('output/grpo/checkpoint-300', 0.75, 4);
  ck(`output/grpo/${HOSTILE}`, 0.5, 5);
  const cmd = (q: string) => ['python3', RUNNER, '--model', '{checkpoint}', '--questions', `bench/${q}.jsonl`, '--out', '{output}'];
  const text = JSON.stringify(
    {
      profiles: [],
      evals: [
        {
          name: 'seeds',
          checkpoints: 'output/grpo',
          base: 'models/base',
          onNewCheckpoint: true,
          settleSeconds: 1,
          benchmarks: [
            { id: 'exam', label: 'Exam', metric: 'exam-score', command: cmd('exam') },
            { id: 'pope', label: 'POPE', metric: 'pope', command: cmd('pope') },
          ],
        },
      ],
    },
    null,
    2,
  );
  writeFileSync(join(ws, '.vscode/grpo-studio.json'), text);
  return text;
}

/** The editor's own quick pick right after a palette command: wait for its placeholder, pick a row. */
async function runCommandAndPick(wb: Workbench, title: string, placeholder: string, query: string, rowText: string): Promise<void> {
  const input = wb.page.locator('.quick-input-widget input.input');
  const rows = wb.page.locator('.quick-input-list .monaco-list-row');
  const own = wb.page.locator(`.quick-input-widget input.input[placeholder*="${placeholder}"]`);
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

const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
const pts = (v: number): string => `${v >= 0 ? '+' : '−'}${(100 * Math.abs(v)).toFixed(1)}`;
const cell = (f: Frame, checkpoint: string, benchmark: string) => f.locator(`[data-testid="eval-cell"][data-checkpoint="${checkpoint.replace(/["\\]/g, '\\$&')}"][data-benchmark="${benchmark}"]`);

test('Evaluate Checkpoint runs the profile, the matrix shows the core’s numbers, Export Report writes the core’s reports', { timeout: 300_000 }, async () => {
  assert.ok(server);
  const text = writeFixture();
  const [profile] = parseEvalProfiles(text, join(ws, '.vscode/grpo-studio.json'), ws);
  assert.ok(profile);
  // Three checkpoints evaluated beforehand, as an earlier session (or the CLI's runs) would have.
  const manager = new RunManager({ workspace: ws, pollMs: 100 });
  const evaluate = async (dir: string): Promise<void> => {
    const outcomes = await evaluateCheckpoint(manager, ws, profile, checkpointRef(profile, join(ws, dir)));
    assert.deepEqual(outcomes.map((o) => o.status), ['exited', 'exited'], JSON.stringify(outcomes));
  };
  for (const dir of ['models/base', 'output/grpo/checkpoint-100', 'output/grpo/checkpoint-200']) await evaluate(dir);
  const ck300 = join(profile.results, 'checkpoint-300');

  const wb = await Workbench.open(server, ws);
  try {
    await runCommandAndPick(wb, 'GRPO Studio: Evaluate Checkpoint…', 'Checkpoint to evaluate', 'checkpoint-300', 'checkpoint-300');
    await waitUntil('checkpoint-300’s predictions from the editor’s run', async () => (existsSync(join(ck300, 'exam.jsonl')) && existsSync(join(ck300, 'pope.jsonl')) ? true : undefined), 60_000, 300);
    const toast = wb.page.locator('.notification-toast', { hasText: 'Evaluated checkpoint-300' }).first();
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    {
      const m300 = buildMatrix(evalManifest(profile)).cells['checkpoint-300']!;
      assert.ok(((await toast.textContent()) ?? '').includes(`Evaluated checkpoint-300: Exam ${pct(m300.exam!.value)} (n=${N}) · POPE ${pct(m300.pope!.value)} (n=${N})`));
    }
    await toast.locator('a.monaco-button, .monaco-button', { hasText: 'Show Matrix' }).first().click();

    const f = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="eval-matrix-table"]').count()) > 0);
    const first = buildMatrix(evalManifest(profile));
    assert.equal(await cell(f, 'checkpoint-300', 'exam').locator('[data-testid="eval-value"]').textContent(), pct(first.cells['checkpoint-300']!.exam!.value));
    // One curve per benchmark, one point per stepped checkpoint.
    assert.equal(await f.locator('[data-testid="eval-curves"] svg').count(), 2);
    assert.deepEqual(await f.locator('svg[data-benchmark="exam"] g.point').evaluateAll((gs) => gs.map((g) => (g as SVGGElement).dataset.step)), ['0', '100', '200', '300']);
    // The picture for the docs: the panel alone, no output panel or toasts over it.
    await wb.runCommand('View: Hide Panel');
    await wb.runCommand('Notifications: Clear All Notifications');
    const shot = await wb.screenshot('eval-matrix');
    if (process.env.GRPO_STUDIO_DOC_SCREENSHOTS) copyFileSync(shot, join(REPO_ROOT, 'docs/images/eval-matrix.png'));

    // A checkpoint folder with a hostile name evaluated outside the editor; Show Evaluation Matrix re-reads.
    await evaluate(`output/grpo/${HOSTILE}`);
    manager.dispose();
    await wb.runCommand('GRPO Studio: Show Evaluation Matrix');
    const hostileRow = f.locator(`tr[data-checkpoint="${HOSTILE.replace(/"/g, '\\"')}"] td.name`);
    await hostileRow.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await hostileRow.textContent(), HOSTILE);
    assert.equal(await f.locator('img').count(), 0);
    assert.equal(await f.evaluate('window.__pwned === undefined'), true);
    const m = buildMatrix(evalManifest(profile));
    assert.deepEqual(m.checkpoints.map((c) => c.id), ['base', 'checkpoint-100', 'checkpoint-200', HOSTILE, 'checkpoint-300']);
    // Every cell as the core computes it: value, and below it the delta against the base.
    for (const c of m.checkpoints) {
      for (const b of m.benchmarks) {
        const x = m.cells[c.id]![b.id]!;
        assert.equal(await cell(f, c.id, b.id).locator('[data-testid="eval-value"]').textContent(), pct(x.value), `${c.id} × ${b.id}`);
        if (c.id === 'base') continue;
        const d = (await cell(f, c.id, b.id).locator('[data-testid="eval-delta"]').textContent()) ?? '';
        assert.ok(d.startsWith(`Δ ${pts(x.delta!.value)} pts [${pts(x.delta!.ci95![0])}, ${pts(x.delta!.ci95![1])}]`), `${c.id} × ${b.id}: ${d}`);
        assert.match(d, x.delta!.significant ? /real$/ : /noise$/);
      }
    }
    const best = m.cells['checkpoint-300']!.exam!;
    assert.ok(best.delta!.significant, 'the fixture makes checkpoint-300 clearly better than the base');
    assert.deepEqual(await f.locator('svg[data-benchmark="exam"] g.point').evaluateAll((gs) => gs.map((g) => (g as SVGGElement).dataset.step)), ['0', '100', '200', '250', '300']);

    // Export Report… of what the panel shows, through the editor's save dialog: its default, report.md in the results folder.
    const out = join(profile.results, 'report');
    await f.locator('[data-testid="eval-export"]').click();
    const input = wb.page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await waitUntil('the save dialog at report.md', async () => ((await input.inputValue()).endsWith('/seeds/report.md') ? true : undefined), 10_000);
    await wb.page.keyboard.press('Enter');
    await waitUntil('report.md and report.html', async () => (existsSync(`${out}.md`) && existsSync(`${out}.html`) ? true : undefined), 20_000, 300);
    assert.equal(readFileSync(`${out}.md`, 'utf8'), renderMarkdown(m));
    assert.equal(readFileSync(`${out}.html`, 'utf8'), renderHtml(m));
    const html = readFileSync(`${out}.html`, 'utf8');
    assert.ok(!/<script|<img|src=/i.test(html.replace(/&lt;img src=x/g, '')), 'the HTML has no script and no image; the hostile name is escaped');

    // A click on a cell opens that checkpoint's predictions on that benchmark.
    await cell(f, 'checkpoint-100', 'pope').click();
    await wb.page.locator('.tab', { hasText: 'pope.jsonl' }).first().waitFor({ state: 'visible', timeout: 15_000 });

    // onNewCheckpoint: a checkpoint-400 written while the editor watches is evaluated by itself, and the open matrix follows.
    mkdirSync(join(ws, 'output/grpo/checkpoint-400'));
    writeFileSync(join(ws, 'output/grpo/checkpoint-400/model.json'), JSON.stringify({ skill: 0.85, seed: 6 }));
    const cell400 = cell(f, 'checkpoint-400', 'pope').locator('[data-testid="eval-value"]');
    await cell400.waitFor({ state: 'visible', timeout: 60_000 });
    assert.equal(await cell400.textContent(), pct(buildMatrix(evalManifest(profile)).cells['checkpoint-400']!.pope!.value));
    assert.deepEqual(await wb.cspViolations(), []);
  } catch (err) {
    const shot = await wb.screenshot('eval-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});

test('in Restricted Mode Evaluate Checkpoint is refused with the reason, and nothing runs', { timeout: 120_000 }, async () => {
  const untrusted = await CodeServer.start({ vsix: VSIX, workspaceTrust: true, settings: { 'security.workspace.trust.startupPrompt': 'never' } });
  const uws = join(scratch, 'untrusted-ws');
  try {
    mkdirSync(join(uws, '.vscode'), { recursive: true });
    mkdirSync(join(uws, 'output/grpo/checkpoint-1'), { recursive: true });
    const evals = [{ name: 'seeds', checkpoints: 'output/grpo', onNewCheckpoint: true, settleSeconds: 0, benchmarks: [{ id: 'exam', metric: 'exam-score', command: ['python3', RUNNER, '--model', '{checkpoint}', '--questions', 'q.jsonl', '--out', '{output}'] }] }];
    writeFileSync(join(uws, '.vscode/grpo-studio.json'), JSON.stringify({ profiles: [], evals }, null, 2));
    const wb = await Workbench.open(untrusted, uws);
    try {
      await wb.runCommand('GRPO Studio: Evaluate Checkpoint…');
      const toast = wb.page.locator('.notification-toast', { hasText: 'Restricted Mode' }).first();
      await toast.waitFor({ state: 'visible', timeout: 20_000 });
      assert.match((await toast.textContent()) ?? '', /cannot run an evaluation in Restricted Mode: it executes the benchmark commands/);
      assert.equal(await toast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).count(), 1);
      // Nor does a new checkpoint start one: the watch is off without trust.
      writeFileSync(join(uws, 'output/grpo/checkpoint-1/model.json'), '{}');
      mkdirSync(join(uws, 'output/grpo/checkpoint-2'));
      writeFileSync(join(uws, 'output/grpo/checkpoint-2/model.json'), '{}');
      await new Promise((r) => setTimeout(r, 8000));
      assert.equal(existsSync(join(uws, '.grpo-studio')), false, 'no run folder, no results folder');
    } finally {
      await wb.close();
    }
  } finally {
    await untrusted.stop();
  }
});
