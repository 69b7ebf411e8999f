/**
 * One prompt's timeline and Compare Completions in a real VS Code (code-server + the packaged
 * VSIX, driven by chromium). A run asks the sample's first prompt again at two later steps, with
 * different chains; its viewer's Timeline button opens the prompt's timeline (its groups in step
 * order, with the core's numbers); a row's Compare puts two steps' groups side by side (the
 * words one chain has and the other lacks marked, both groups' boxes on one image, the core's
 * reward means); the viewer's Compare… finds the same prompt in another run. Needs `npm run
 * package` and scripts/install-code-server.sh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { LiveSources } from '../../src/viewer/liveSources';
import { promptTimeline } from '../../src/core/view/promptTimeline';
import type { TimelineGroup } from '../../src/core/view/timelineTypes';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const SAMPLE = join(REPO_ROOT, 'dist/sample');
const OPTS = { variant: 'grounding', matching: 'seed' as const, minPixels: 3136, maxPixels: 3686400 };
const scratch = mkdtempSync(join(tmpdir(), 'grpo-timeline-e2e-'));
let server: CodeServer | undefined;

before(async () => {
  for (const f of [VSIX, join(SAMPLE, 'sample.rollouts.jsonl')]) assert.ok(existsSync(f), `${f} exists (run scripts/test.sh)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** The timeline the core computes for `key`'s prompt in `file`. */
async function coreTimeline(file: string, key: string): Promise<TimelineGroup[]> {
  const sources = new LiveSources({ intervalMs: 20, follow: { pollMs: 30 } });
  const lease = sources.acquire(file, OPTS);
  await lease.started;
  await waitUntil('the core read the run', async () => (lease.live.loaded ? true : undefined), 20_000, 30);
  const g = lease.live.set.groupIndex(key);
  assert.ok(g !== undefined, `group ${key} in ${file}`);
  const t = await promptTimeline(lease.live.set, g);
  lease.release();
  await sources.close();
  assert.ok(t, 'a timeline');
  return t.groups;
}

const close = (got: string, want: number) => Math.abs(Number(got) - want) <= 1e-3 * Math.max(1, Math.abs(want));

test('prompt timeline from the viewer, Compare from a timeline row (chains diffed, boxes on one image), Compare… across runs', { timeout: 300_000 }, async () => {
  assert.ok(server, 'code-server started');
  const ws = join(scratch, 'ws');
  mkdirSync(ws);
  cpSync(join(SAMPLE, 'images'), join(ws, 'images'), { recursive: true });
  const lines = readFileSync(join(SAMPLE, 'sample.rollouts.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const first = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.group === '10/0');
  assert.equal(first.length, 4);
  // The same prompt at steps 20 and 30: step 30's chains name a different object ("lamp post") than step 10's.
  const again = [20, 30].flatMap((step) => first.map((r) => ({
    ...r,
    step,
    group: `${step}/again`,
    // Step 20: half the group answers A (wrong), so the reward spread moves over the steps.
    completion: step === 30 ? String(r.completion).replace(/dog/g, 'lamp post') : Number(r.index) % 2 === 0 ? String(r.completion).replace(/<answer>[A-D]<\/answer>/, '<answer>A</answer>') : r.completion,
  })));
  const runA = join(ws, 'run-a.rollouts.jsonl');
  writeFileSync(runA, [...lines, ...again.map((r) => JSON.stringify(r))].join('\n') + '\n');
  // Another run asking that prompt once, at step 5.
  mkdirSync(join(ws, 'other'));
  const runB = join(ws, 'other/run-b.rollouts.jsonl');
  writeFileSync(runB, [...first.map((r) => JSON.stringify({ ...r, run: 'other', step: 5, group: '5/0', completion: String(r.completion).replace(/Comparing/g, 'Looking at') })), ...lines.filter((l) => !l.includes('"10/0"'))].join('\n') + '\n');
  const want = await coreTimeline(runA, '10/0');
  assert.deepEqual(want.map((g) => g.key), ['10/0', '20/again', '30/again']);

  const wb = await Workbench.open(server, ws);
  try {
    await wb.openFile('run-a.rollouts.jsonl');
    const viewer = await wb.webviewFrame();
    await waitUntil('group 10/0 selected', async () => ((await viewer.locator('[data-testid="group-timeline"]').count()) > 0 ? true : undefined), 30_000, 200);
    await viewer.locator('[data-testid="group-timeline"]').click();

    // The timeline: three groups in step order, the core's numbers.
    const t = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="prompt-timeline"]').count()) > 0);
    await waitUntil('three groups', async () => ((await t.locator('[data-testid="timeline-row"]').count()) === 3 ? true : undefined), 30_000, 200);
    const rows = await t.locator('[data-testid="timeline-row"]').evaluateAll((trs) => trs.map((tr) => Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map((td) => [(td as HTMLElement).dataset.col, td.textContent ?? '']))));
    rows.forEach((r, i) => {
      const g = want[i]!;
      assert.equal(r.group, g.key);
      assert.equal(r.step, String(g.step));
      assert.ok(close(r.mean!, g.mean) && close(r.min!, g.min) && close(r.max!, g.max), `row ${i}: ${JSON.stringify(r)} vs ${JSON.stringify(g)}`);
      assert.ok(close(r.length!, g.length), `row ${i} length`);
    });
    assert.match((await t.locator('[data-testid="timeline-facts"]').textContent()) ?? '', /^3 groups · 3 steps/);
    assert.ok((await t.locator('[data-testid="timeline-chart"]').count()) >= 3, 'charts drawn');
    await wb.runCommand('View: Toggle Maximize Editor Group');
    await new Promise((r) => setTimeout(r, 800));
    const timelineShot = await wb.screenshot('prompt-timeline');
    if (process.env.GRPO_STUDIO_DOC_SCREENSHOTS) copyFileSync(timelineShot, join(REPO_ROOT, 'docs/images/prompt-timeline.png'));
    await wb.runCommand('View: Toggle Maximize Editor Group');

    // Compare step 10 with step 30 from the timeline's row.
    await t.locator('[data-testid="timeline-row"][data-key="30/again"] [data-testid="timeline-compare"]').click();
    const c = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="compare-completions"] [data-testid="compare-pair"]').count()) === 4);
    assert.match((await c.locator('[data-testid="compare-facts"]').textContent()) ?? '', /run-a\.rollouts\.jsonl · step 10 · group 10\/0 ↔ run-a\.rollouts\.jsonl · step 30 · group 30\/again/);
    const totals = await c.locator('[data-testid="compare-summary"] tbody tr td[data-reward="total"]').allTextContents();
    assert.ok(close(totals[0]!, want[0]!.mean) && close(totals[1]!, want[2]!.mean), `summary totals ${totals.join(', ')} vs ${want[0]!.mean}, ${want[2]!.mean}`);
    // Marked: "dog" on the left, "lamp post" on the right, in pairs whose chains mention it; nothing else.
    const marks = async (side: string) => (await c.locator(`[data-testid="compare-card"][data-side="${side}"] mark`).allTextContents()).map((s) => s.trim()).filter(Boolean);
    const left = await marks('left');
    const right = await marks('right');
    const dogs = first.filter((r) => String(r.completion).includes('dog')).length;
    assert.ok(dogs > 0 && left.length > 0, 'step 10 chains mention the dog');
    assert.ok(left.every((m) => /^(dog[\],.]*\s*)+$/.test(m) || m.split(/\s+/).every((w) => /dog/.test(w))), `left marks are the dog: ${left.join(' | ')}`);
    assert.ok(right.every((m) => /lamp|post/.test(m)), `right marks are the lamp post: ${right.join(' | ')}`);
    assert.match((await c.locator('[data-testid="compare-note"]').textContent()) ?? '', new RegExp(`4 pairs by completion index; ${dogs} of 4 differ`));
    const boxes = Number(await c.locator('[data-testid="compare-image"]').getAttribute('data-boxes'));
    assert.ok(boxes >= 2, `both groups' boxes on the image (${boxes})`);
    assert.ok((await c.locator('[data-testid="compare-image"] rect.side-0').count()) > 0 && (await c.locator('[data-testid="compare-image"] rect.side-1').count()) > 0, 'boxes of each side');
    await wb.runCommand('View: Toggle Maximize Editor Group');
    await new Promise((r) => setTimeout(r, 800));
    const compareShot = await wb.screenshot('compare-completions');
    if (process.env.GRPO_STUDIO_DOC_SCREENSHOTS) copyFileSync(compareShot, join(REPO_ROOT, 'docs/images/compare-completions.png'));
    await wb.runCommand('View: Toggle Maximize Editor Group');

    // The viewer's Compare…: the same prompt in another run (found by prompt identity).
    await wb.openFile('run-a.rollouts.jsonl');
    const v2 = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="group-compare"]').count()) > 0);
    await v2.locator('[data-testid="group-compare"]').click();
    const another = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'The same prompt in another run' });
    await another.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: /^step (20|30)/ }).count(), 2, 'the two other steps of this run are offered');
    await another.click();
    await wb.tickAndAccept(['run-b.rollouts.jsonl']);
    const c2 = await wb.webviewFrame(async (fr) => (await fr.locator('[data-testid="compare-facts"]').count()) > 0 && /step 5 · group 5\/0/.test((await fr.locator('[data-testid="compare-facts"]').textContent()) ?? ''));
    assert.match((await c2.locator('[data-testid="compare-facts"]').textContent()) ?? '', /run-a\.rollouts\.jsonl · step 10 · group 10\/0 ↔ run-b\.rollouts\.jsonl · step 5 · group 5\/0/);
    const m2 = (await c2.locator('[data-testid="compare-card"][data-side="right"] mark').allTextContents()).join(' ');
    assert.match(m2, /Looking at/);
    assert.deepEqual(await wb.cspViolations(), []);
  } catch (err) {
    const shot = await wb.screenshot('timeline-compare-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
});
