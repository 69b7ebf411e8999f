/**
 * What real trainers write, opened from Rollout Sources in a real VS Code (code-server + the
 * packaged VSIX, driven by chromium): a verl rollout_data_dir whose rows `_balance_batch`
 * reordered, and a TRL run folder whose two prompts share one text (a template over different
 * images). The groups listed must be the run's own: what the fixture generators' truth says
 * (test/fixtures/trainers/README.md), not what our reader computes.
 * Needs `npm run package` and scripts/install-code-server.sh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Locator } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { VARIANTS } from '../fixtures/trainers/trl/generate';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const FIXTURES = join(REPO_ROOT, 'test/fixtures/trainers');
const scratch = mkdtempSync(join(tmpdir(), 'grpo-trainers-e2e-'));
let server: CodeServer | undefined;

before(async () => {
  assert.ok(existsSync(VSIX), `${VSIX} exists (run scripts/test.sh)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

interface VerlTruth {
  n: number;
  /** Per file: the rows in rollout order with their prompt's uid; dumped line i+1 is rows[order[i]]. */
  files: Record<string, { rows: { uid: string }[]; order: number[] }>;
}

/**
 * The verl run's groups by step: its uids (which verl keeps in memory and never writes), with
 * the uids of one prompt that the batch held twice taken together — a dump cannot tell those apart.
 */
function verlGroupSizes(): Map<number, number[]> {
  const truth = JSON.parse(readFileSync(join(FIXTURES, 'verl/truth.json'), 'utf8')) as VerlTruth;
  const out = new Map<number, number[]>();
  for (const [name, f] of Object.entries(truth.files)) {
    const m = /^rollout\/(\d+)\.jsonl$/.exec(name);
    if (!m) continue;
    const lines = readFileSync(join(FIXTURES, 'verl', name), 'utf8').split('\n').filter((l) => l.trim());
    assert.equal(lines.length, f.rows.length, `${name}: truth has a uid per row`);
    const promptOfUid = new Map<string, string>();
    const sizes = new Map<string, number>();
    lines.forEach((l, i) => {
      const row = JSON.parse(l) as { input: string; gts: unknown };
      const uid = f.rows[f.order[i]!]!.uid;
      const prompt = promptOfUid.get(uid) ?? JSON.stringify([row.input, row.gts]);
      promptOfUid.set(uid, prompt);
      sizes.set(prompt, (sizes.get(prompt) ?? 0) + 1);
    });
    out.set(Number(m[1]), [...sizes.values()].sort((a, b) => a - b));
  }
  return out;
}

async function listedGroups(f: Frame): Promise<{ key: string; step: number; size: number; flags: string }[]> {
  return (await f.locator('[data-testid="group-row"]').evaluateAll((els) =>
    els.map((e) => ({ key: e.getAttribute('data-key') ?? '', size: Number(e.getAttribute('data-size')), flags: e.getAttribute('data-flags') ?? '' })),
  )).map((g) => ({ ...g, step: Number(/^(\d+)\//.exec(g.key)?.[1] ?? NaN) }));
}

/** Shows every group in the list: the viewer pages rows into a viewport, so filter one step at a time. */
async function groupsOfStep(wb: Workbench, f: Frame, step: number, count: number): Promise<{ key: string; size: number; flags: string }[]> {
  const input = f.locator('[data-testid="filter"] input');
  await input.fill(`step == ${step}`);
  await input.press('Enter');
  return waitUntil(`${count} groups of step ${step}`, async () => {
    const g = await listedGroups(f);
    return g.length === count && g.every((x) => x.step === step) ? g : undefined;
  }, 20_000, 300);
}

async function sourceRow(rows: Locator, pattern: RegExp): Promise<Locator> {
  const texts = await waitUntil('the sources listed', async () => {
    const t = (await rows.allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());
    return t.length >= 2 ? t : undefined;
  }, 30_000, 300);
  const i = texts.findIndex((t) => pattern.test(t));
  assert.ok(i >= 0, `a source matching ${pattern} in ${JSON.stringify(texts)}`);
  return rows.nth(i);
}

test('a balanced verl rollout folder and a templated TRL run show the run\'s own groups', { timeout: 240_000 }, async () => {
  assert.ok(server, 'code-server started');
  const ws = join(scratch, 'ws');
  cpSync(join(FIXTURES, 'verl/rollout'), join(ws, 'verl/rollout'), { recursive: true });
  cpSync(join(FIXTURES, 'trl/templated'), join(ws, 'trl-run'), { recursive: true });
  const trl = VARIANTS.find((v) => v.name === 'templated');
  assert.ok(trl, 'the templated TRL variant');
  const n = trl.args.numGenerations;
  const wantVerl = verlGroupSizes();

  const wb = await Workbench.open(server, ws);
  try {
    await wb.runCommand('Focus on Rollout Sources View');
    const view = wb.page.locator('.pane', { has: wb.page.locator('.pane-header', { hasText: /Rollout Sources/i }) });
    const rows = view.locator('.monaco-list-row');

    await (await sourceRow(rows, /\bverl\b/)).click();
    const verl = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="source-format"]', { hasText: 'verl' }).count()) > 0);
    for (const [step, sizes] of wantVerl) {
      const got = await groupsOfStep(wb, verl, step, sizes.length);
      assert.deepEqual(got.map((g) => g.size).sort((a, b) => a - b), sizes, `verl step ${step}: group sizes`);
      // Balanced rows scattered over the file used to come out as groups of one, all "zero-variance".
      assert.ok(got.filter((g) => /zero/.test(g.flags)).length < got.length, `verl step ${step}: not every group flat`);
    }
    await wb.screenshot('trainers-verl');

    await (await sourceRow(rows, /\btrl\b/i)).click();
    const t = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="source-format"]', { hasText: 'trl' }).count()) > 0);
    for (const step of [1, 2]) {
      const got = await groupsOfStep(wb, t, step, 2);
      assert.deepEqual(got.map((g) => g.size), [n, n], `TRL step ${step}: two groups of num_generations, though both prompts read the same`);
    }
    await t.locator('[data-testid="group-row"]').first().click();
    await t.locator('[data-testid="group-view"]').waitFor({ state: 'visible', timeout: 20_000 });
    await waitUntil(`${n} completions shown`, async () => ((await t.locator('[data-testid="completion"]').count()) === n ? true : undefined), 20_000, 300);
    await wb.screenshot('trainers-trl');
    assert.deepEqual(await wb.cspViolations(), []);
  } catch (err) {
    const shot = await wb.screenshot('trainers-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});
