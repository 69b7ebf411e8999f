/**
 * The viewer following a growing rollout file in a real VS Code (code-server + the packaged
 * VSIX, driven by chromium): a writer process appends groups at random byte boundaries while
 * the viewer is open; the new groups appear, a group that gains a completion refreshes, a query
 * filters the list, a broken query says where, and "Go to Step…" selects a step's first group.
 * Needs what viewer.e2e.test.ts needs (scripts/test.sh builds it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { appendInPieces } from './writer';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const scratch = mkdtempSync(join(tmpdir(), 'grpo-follow-e2e-'));
let server: CodeServer | undefined;

before(async () => {
  assert.ok(existsSync(VSIX), `${VSIX} exists (run scripts/test.sh)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** One completion line of group `step/0`; `k` is its index in the group. */
function line(step: number, k: number): string {
  const think = `Step ${step} looks at the café 東京 sign, try ${k}.`;
  return JSON.stringify({
    v: 1, step, group: `${step}/0`, index: k,
    prompt: { text: `Prompt of step ${step}: where is the sign?` },
    completion: `<think>${think}</think> <answer>${k % 2 ? 'left' : 'right'}</answer>`,
    rewards: { accuracy: k % 2, format: 1 }, reward: 1 + (k % 2),
  }) + '\n';
}

const byTestId = (f: Frame, id: string) => f.locator(`[data-testid="${id}"]`);

async function rowKeys(f: Frame): Promise<string[]> {
  return byTestId(f, 'group-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-key') ?? ''));
}

async function text(f: Frame, id: string): Promise<string> {
  return ((await byTestId(f, id).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

test('the viewer follows a file a writer process appends to: new groups, a grown group, queries, go to step', { timeout: 240_000 }, async () => {
  assert.ok(server, 'code-server started');
  const ws = join(scratch, 'ws');
  mkdirSync(ws);
  const file = join(ws, 'live.rollouts.jsonl');
  let initial = '';
  for (let step = 0; step < 3; step++) for (let k = 0; k < 4; k++) initial += line(step, k);
  writeFileSync(file, initial);

  const wb = await Workbench.open(server, ws);
  try {
    await wb.openFile('live.rollouts.jsonl');
    const f = await wb.webviewFrame();
    await waitUntil('three groups', async () => ((await rowKeys(f)).length === 3 ? true : undefined), 30_000);
    await waitUntil('following', async () => (/following · 12 completions/.test(await text(f, 'live-status')) ? true : undefined), 20_000);

    // Select step 0's group: it will gain a completion below and must refresh.
    await f.locator('[data-testid="group-row"][data-key="0/0"]').click();
    await waitUntil('4 completions shown', async () => ((await byTestId(f, 'completion').count()) === 4 ? true : undefined), 20_000);
    await f.locator('[data-testid="group-list"]').evaluate((el) => (el.scrollTop = 0));

    let more = '';
    for (let step = 3; step < 8; step++) {
      for (let k = 0; k < 4; k++) more += line(step, k);
      if (step === 5) more += line(0, 4); // a late completion of an existing group
    }
    await appendInPieces(file, more);

    const keys = await waitUntil('eight groups', async () => {
      const k = await rowKeys(f);
      return k.length === 8 ? k : undefined;
    }, 30_000);
    assert.deepEqual(keys, ['0/0', '1/0', '2/0', '3/0', '4/0', '5/0', '6/0', '7/0'], 'one row per group, in file order');
    const steps = await byTestId(f, 'group-row').evaluateAll((els) => els.map((e) => e.querySelector('.step')?.textContent ?? ''));
    assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6, 7].map((s) => `step ${s}`));
    await waitUntil('the selected group refreshed to 5 completions', async () => ((await byTestId(f, 'completion').count()) === 5 ? true : undefined), 20_000);
    assert.equal(await f.locator('[data-testid="group-row"][aria-selected="true"]').getAttribute('data-key'), '0/0', 'the selection stayed');
    await waitUntil('33 completions', async () => (/following · 33 completions/.test(await text(f, 'live-status')) ? true : undefined), 20_000);
    assert.match(await text(f, 'counts'), /\b8 groups · 33 completions/);
    await wb.screenshot('follow-grown');

    // A query: groups with any completion of step ≥ 5.
    const filter = f.locator('[data-testid="filter"] input');
    await filter.fill('step >= 5');
    await waitUntil('3 of 8 groups', async () => (/\b3 of 8 groups/.test(await text(f, 'counts')) ? true : undefined), 20_000);
    assert.deepEqual(await rowKeys(f), ['5/0', '6/0', '7/0']);
    assert.equal(await text(f, 'filter-kind'), 'query');
    // A broken query says where and keeps the list.
    await filter.fill('step >= 5 and reward <');
    const error = byTestId(f, 'filter-error');
    await error.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await text(f, 'filter-error'), /expected a number after "<", got the end of the query \(column 23\)/);
    assert.deepEqual(await rowKeys(f), ['5/0', '6/0', '7/0'], 'the list is kept');
    await filter.fill('reward.accuracy == 1 and step >= 6');
    await waitUntil('2 of 8 groups', async () => (/\b2 of 8 groups/.test(await text(f, 'counts')) ? true : undefined), 20_000);
    assert.equal(await error.count(), 0, 'the error is gone');

    // Go to Step… from the palette selects the step's first group.
    await wb.runCommandAndAnswer('GRPO Studio: Go to Step…', '.quick-input-widget input.input[placeholder="Step number"]', '7');
    await waitUntil('step 7 selected', async () =>
      (await f.locator('[data-testid="group-row"][aria-selected="true"]').getAttribute('data-key').catch(() => null)) === '7/0' ? true : undefined, 20_000);
    await waitUntil('step 7 shown', async () => (/step 7/i.test(await text(f, 'group-view')) ? true : undefined), 20_000);
    await wb.screenshot('follow-query');
  } catch (err) {
    const shot = await wb.screenshot('follow-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});
