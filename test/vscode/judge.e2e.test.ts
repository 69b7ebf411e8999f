/**
 * The LLM judge from the editor, in a real VS Code (code-server + the packaged VSIX, driven by
 * chromium), against a real HTTP server on loopback speaking Chat Completions that the real
 * `openai` client calls: without a key the judge refuses and says how to set one; the key is
 * typed into "Set Judge API Key…" (a password box); "Judge This Group" puts a badge and the
 * judge's reason on each completion (a hostile reason shown as text), the verdicts land in the
 * cache beside the file, the Misaligned filter finds the group; and the key appears in no file
 * the run wrote (workspace, code-server's user data, extensions and logs) and in no process's
 * arguments. Offline: the local ONNX tier of the installed VSIX (its packaged onnxruntime) on a
 * tiny NLI model built in the test. Needs `npm run package` and scripts/install-code-server.sh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { startFakeOpenAI, type FakeOpenAI } from '../support/openaiServer';
import { cachePathFor } from '../../src/core/judge/cache';
import { modelFolder } from '../support/tinyNli';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const KEY = `sk-e2e-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const scratch = mkdtempSync(join(tmpdir(), 'grpo-judge-e2e-'));
let server: CodeServer | undefined;
let openai: FakeOpenAI | undefined;

before(async () => {
  assert.ok(existsSync(VSIX), `${VSIX} exists (run scripts/test.sh)`);
  openai = await startFakeOpenAI();
  server = await CodeServer.start({
    vsix: VSIX,
    settings: { 'grpoStudio.judge.policy': 'llm', 'grpoStudio.judge.baseUrl': openai.url, 'grpoStudio.judge.model': 'judge-test' },
  });
});

after(async () => {
  await server?.stop();
  await openai?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** One completion; the loopback judge calls it aligned when the reasoning mentions the answer. */
function line(step: number, k: number, think: string, answer: string): string {
  return JSON.stringify({
    v: 1, step, group: `${step}/0`, index: k,
    prompt: { text: `Which side is the café sign on? (step ${step})` },
    completion: `<think>${think}</think> <answer>${answer}</answer>`,
    rewards: { accuracy: answer === 'left' ? 1 : 0, format: 1 },
  });
}

/** Step 1's group is judged: completions 0 and 3 align, 1 contradicts, 2 answers with markup. */
const JUDGED = [
  { think: 'The sign hangs by the door on the left.', answer: 'left', verdict: 'aligned' },
  { think: 'The sign is on the left of the door.', answer: 'right', verdict: 'misaligned' },
  { think: 'I cannot see any sign.', answer: HOSTILE, verdict: 'misaligned' },
  { think: 'Left, beside the café door: so the answer is left.', answer: 'left', verdict: 'aligned' },
];

const toasts = (wb: Workbench) => wb.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
/** Every notification of the window: VS Code may keep a new one out of the toasts (read the center then). */
async function notifications(wb: Workbench): Promise<string[]> {
  const center = wb.page.locator('.notifications-center .notification-list-item-message');
  if ((await center.count()) === 0) await wb.runCommand('Notifications: Show Notifications');
  return [...(await toasts(wb)), ...(await center.allInnerTexts())];
}

/** Every regular file under `dir` (symlinks not followed). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

test('judge from the editor: key via secret storage, badges and reasons from a loopback LLM, cache written, key nowhere', { timeout: 240_000 }, async () => {
  assert.ok(server && openai, 'code-server and the loopback judge started');
  const ws = join(scratch, 'ws');
  mkdirSync(ws);
  const file = join(ws, 'run.rollouts.jsonl');
  const lines = JUDGED.map((c, k) => line(1, k, c.think, c.answer));
  for (let k = 0; k < 4; k++) lines.push(line(2, k, 'The sign is on the left.', 'left'));
  writeFileSync(file, lines.join('\n') + '\n');

  const wb = await Workbench.open(server, ws);
  let f: Frame | undefined;
  try {
    await wb.openFile('run.rollouts.jsonl');
    f = await wb.webviewFrame();
    await f.locator('[data-testid="group-row"][data-key="1/0"]').click();
    await waitUntil('4 completions shown', async () => ((await f!.locator('[data-testid="completion"]').count()) === 4 ? true : undefined), 20_000);

    // No key yet: the judge refuses, says how, and calls nobody.
    await wb.runCommand('GRPO Studio: Judge This Group');
    await waitUntil('the no-key message', async () => ((await toasts(wb)).some((t) => /no judge API key is set/.test(t)) ? true : undefined), 20_000);
    assert.equal(openai.chatRequests.length, 0);
    await wb.page.keyboard.press('Escape');

    await wb.runCommandAndAnswer('GRPO Studio: Set Judge API Key…', '.quick-input-widget input.input[type="password"]', KEY);
    await waitUntil('the key saved', async () => ((await toasts(wb)).some((t) => /saved in secret storage/.test(t)) ? true : undefined), 20_000);

    await f.locator('[data-testid="group-row"][data-key="1/0"]').click();
    await wb.runCommand('GRPO Studio: Judge This Group');
    const verdicts = await waitUntil('a verdict on each completion', async () => {
      const v = await f!.locator('[data-testid="verdict"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')));
      return v.length === 4 ? v : undefined;
    }, 60_000, 300);
    assert.deepEqual(verdicts, JUDGED.map((c) => c.verdict));
    const whys = await f.locator('[data-testid="verdict-why"]').allTextContents();
    assert.equal(whys[2], `The reasoning never reaches "${HOSTILE}".`, 'the judge\u2019s reason, markup as text');
    assert.match(await f.locator('[data-testid="verdict-badge"]').nth(1).innerText(), /misaligned · contradiction\s+llm/);
    assert.equal(await f.locator('img[src="x"]').count(), 0);
    assert.equal(await f.evaluate('window.__pwned === undefined'), true);
    await waitUntil('the totals, with the estimate made before', async () => ((await notifications(wb)).some((t) => /judged 4: 2 aligned, 2 misaligned, 0 uncertain or unparseable; 0 failed; 0 from cache; 4 LLM calls, \d+ tokens \(estimated before: at most ~\d+ tokens\)/.test(t)) ? true : undefined), 20_000);

    // The loopback server saw the key as a bearer token, once per completion, and only for step 1.
    assert.equal(openai.chatRequests.length, 4);
    for (const r of openai.chatRequests) assert.equal(r.authorization, `Bearer ${KEY}`);
    const cached = readFileSync(cachePathFor(file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tier: string; aligns: boolean | null });
    assert.equal(cached.length, 4);
    assert.deepEqual(cached.map((c) => c.tier), ['llm', 'llm', 'llm', 'llm']);

    // The Misaligned filter keeps the judged group only.
    await f.locator('[data-testid="flag-misaligned"]').click();
    await waitUntil('1 of 2 groups', async () => (/\b1 of 2 groups/.test((await f!.locator('[data-testid="counts"]').textContent()) ?? '') ? true : undefined), 20_000);
    await wb.screenshot('judge-group');

    // Judging again makes no call: every verdict comes from the cache.
    await wb.runCommand('GRPO Studio: Judge This Group');
    await waitUntil('the cached totals', async () => ((await notifications(wb)).some((t) => /judged 4: 2 aligned, 2 misaligned, 0 uncertain or unparseable; 0 failed; 4 from cache/.test(t)) ? true : undefined), 20_000);
    assert.equal(openai.chatRequests.length, 4, 'no second call');
    assert.deepEqual(await wb.cspViolations(), []);
  } catch (err) {
    const shot = await wb.screenshot('judge-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  notifications: ${(await notifications(wb).catch(() => [])).join(' | ')}\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }

  // The key is in no file the run wrote and no process's arguments (the browser's own profile,
  // where VS Code in a browser keeps its secret storage, is chromium's and gone with it).
  const written = [...filesUnder(ws), ...filesUnder(server.dir)].filter((p) => statSync(p).size < 64 * 1024 * 1024);
  assert.ok(written.some((p) => p.endsWith('.verdicts.jsonl')) && written.some((p) => /\.log$/.test(p)), 'the scan sees the cache and the logs');
  for (const p of written) assert.ok(!readFileSync(p).includes(KEY), `the key is in ${p}`);
  assert.ok(!server.output().includes(KEY), 'the key is in code-server\u2019s output');
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  assert.ok(!ps.includes(KEY), 'the key is in a process\u2019s arguments');
});

test('judge offline from the editor: the local ONNX tier of the installed VSIX on a tiny NLI model built here', { timeout: 180_000 }, async () => {
  assert.ok(server, 'code-server started');
  const ws = join(scratch, 'ws-local');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  // The model is built here (no download): 'therefore' votes entailment, 'not' contradiction, 'maybe' neutral.
  const model = modelFolder(false);
  writeFileSync(join(ws, '.vscode/settings.json'), JSON.stringify({ 'grpoStudio.judge.policy': 'local', 'grpoStudio.judge.localModelPath': model }));
  const cases = [
    { think: 'therefore the ball', answer: 'b', verdict: 'aligned' },
    { think: 'not the ball', answer: 'c', verdict: 'misaligned' },
    { think: 'maybe the ball', answer: 'b', verdict: 'uncertain' },
  ];
  const file = join(ws, 'local.rollouts.jsonl');
  writeFileSync(file, cases.map((c, k) => line(3, k, c.think, c.answer)).join('\n') + '\n');
  const calls = openai?.chatRequests.length;

  const wb = await Workbench.open(server, ws);
  try {
    await wb.openFile('local.rollouts.jsonl');
    const f = await wb.webviewFrame();
    await f.locator('[data-testid="group-row"][data-key="3/0"]').click();
    await waitUntil('3 completions shown', async () => ((await f.locator('[data-testid="completion"]').count()) === 3 ? true : undefined), 20_000);
    // From the viewer's editor-title menu ("More Actions…"), where the judge commands also live.
    await wb.page.locator('.editor-actions .action-label[aria-label^="More Actions"]').first().click();
    await wb.page.locator('.monaco-menu .action-label', { hasText: 'Judge This Step' }).first().click();
    const verdicts = await waitUntil('a verdict on each completion', async () => {
      const v = await f.locator('[data-testid="verdict"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')));
      return v.length === 3 ? v : undefined;
    }, 60_000, 300);
    assert.deepEqual(verdicts, cases.map((c) => c.verdict));
    assert.match(await f.locator('[data-testid="verdict-badge"]').first().innerText(), /aligned\s+local/);
    const cached = readFileSync(cachePathFor(file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tier: string; model: string });
    assert.equal(cached.length, 3);
    assert.ok(cached.every((c) => c.tier === 'local' && c.model.startsWith('local:')), 'local verdicts cached');
    assert.equal(openai?.chatRequests.length, calls, 'no LLM call');
    await waitUntil('the totals', async () => ((await notifications(wb)).some((t) => /judged 3: 1 aligned, 1 misaligned, 1 uncertain or unparseable; 0 failed; 0 from cache\./.test(t)) ? true : undefined), 20_000);
    await waitUntil('the progress notification closed', async () => ((await notifications(wb)).some((t) => /^Judging /.test(t)) ? undefined : true), 10_000);
    await wb.screenshot('judge-local');
  } catch (err) {
    const shot = await wb.screenshot('judge-local-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  toasts: ${(await toasts(wb).catch(() => [])).join(' | ')}\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
    rmSync(model, { recursive: true, force: true });
  }
});

test('judge through the OpenAI Batch API from the editor: asked first with the estimate (declined: nothing sent), then upload, batch, polls, output read back into badges and the cache', { timeout: 180_000 }, async () => {
  assert.ok(server && openai, 'code-server and the loopback judge started');
  const ws = join(scratch, 'ws-batch');
  mkdirSync(join(ws, '.vscode'), { recursive: true });
  // confirmAbove 2: four completions for the LLM make the judge ask first, with the estimate.
  writeFileSync(join(ws, '.vscode/settings.json'), JSON.stringify({ 'grpoStudio.judge.useBatchApi': true, 'grpoStudio.judge.batchPollSeconds': 1, 'grpoStudio.judge.confirmAbove': 2, 'grpoStudio.judge.pricePerMillionInput': 0.15, 'grpoStudio.judge.pricePerMillionOutput': 0.6 }));
  const file = join(ws, 'batch.rollouts.jsonl');
  writeFileSync(file, JUDGED.map((c, k) => line(5, k, c.think, c.answer)).join('\n') + '\n');
  const chatCalls = openai.chatRequests.length;
  const batchesBefore = openai.requests.filter((r) => r === 'POST /v1/batches').length;

  const wb = await Workbench.open(server, ws);
  try {
    await wb.openFile('batch.rollouts.jsonl');
    const f = await wb.webviewFrame();
    // A new browser: VS Code in a browser keeps its secret storage there, so the key is set again.
    await wb.runCommandAndAnswer('GRPO Studio: Set Judge API Key…', '.quick-input-widget input.input[type="password"]', KEY);
    await f.locator('[data-testid="group-row"][data-key="5/0"]').click();
    await waitUntil('4 completions shown', async () => ((await f.locator('[data-testid="completion"]').count()) === 4 ? true : undefined), 20_000);
    const dialog = wb.page.locator('.monaco-dialog-box');
    // Declined at the estimate: nothing is sent.
    await wb.runCommand('GRPO Studio: Judge This Group');
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    const asked = ((await dialog.innerText()) ?? '').replace(/\s+/g, ' ');
    assert.match(asked, /Judge group 5\/0 of batch\.rollouts\.jsonl with judge-test\?/);
    assert.match(asked, /4 completions, ~\d+ prompt \+ ~240 completion tokens, ~\$0\.\d{4}/, 'tokens and, with the prices set, dollars');
    const requestsBefore = openai.requests.length;
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(openai.requests.length, requestsBefore, 'declined: no request');
    assert.equal(await f.locator('[data-testid="verdict"]').count(), 0);

    // Accepted: the run goes through the Batch API.
    await wb.runCommand('GRPO Studio: Judge This Group');
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    await dialog.locator('.monaco-button', { hasText: /^Judge$/ }).click();
    const verdicts = await waitUntil('a verdict on each completion', async () => {
      const v = await f.locator('[data-testid="verdict"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')));
      return v.length === 4 ? v : undefined;
    }, 60_000, 300);
    assert.deepEqual(verdicts, JUDGED.map((c) => c.verdict));
    assert.equal(openai.requests.filter((r) => r === 'POST /v1/batches').length, batchesBefore + 1, 'one batch created');
    assert.ok(openai.requests.some((r) => r === 'POST /v1/files') && openai.requests.some((r) => /^GET \/v1\/batches\/batch_/.test(r)), 'uploaded, then polled');
    assert.equal(openai.chatRequests.length, chatCalls, 'no live chat call');
    const cached = readFileSync(cachePathFor(file), 'utf8').trim().split('\n');
    assert.equal(cached.length, 4);
  } catch (err) {
    const shot = await wb.screenshot('judge-batch-failure').catch(() => 'none');
    if (err instanceof Error) err.message += `\n  requests: ${openai.requests.slice(-12).join(', ')}\n  toasts: ${(await toasts(wb).catch(() => [])).join(' | ')}\n  screenshot: ${shot}`;
    throw err;
  } finally {
    await wb.close();
  }
});
