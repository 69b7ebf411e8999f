/**
 * Issue 13's hostile-file battery, in a real VS Code (code-server with the packaged VSIX, driven
 * by Debian's chromium): a symlink in the workspace that leads outside it is not served to the
 * viewer (prompt image and chain image), a large rollout file opened as the window loads ends up
 * in the viewer rather than in the text editor's "file is very large" page, and loading the
 * viewer adds no console error (the two 404s a window shows are code-server's own request for
 * `vsda`, the closed-source signing module its OSS build lacks, made before any extension runs).
 * Needs `npm run package` and scripts/install-code-server.sh (scripts/test.sh does both).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Frame, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { CHROMIUM_BIN, CodeServer, REPO_ROOT, Workbench, waitUntil } from './codeServer';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const scratch = mkdtempSync(join(tmpdir(), 'grpo-e2e-hardening-'));
let server: CodeServer | undefined;

before(async () => {
  assert.ok(existsSync(VSIX), `${VSIX} exists (npm run package)`);
  server = await CodeServer.start({ vsix: VSIX });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function png(path: string, w: number, h: number): void {
  const p = new PNG({ width: w, height: h });
  p.data.fill(200);
  writeFileSync(path, PNG.sync.write(p));
}

const byTestId = (f: Frame, id: string) => f.locator(`[data-testid="${id}"]`);

async function inWindow(name: string, folder: string, body: (wb: Workbench) => Promise<void>): Promise<void> {
  assert.ok(server);
  const wb = await Workbench.open(server, folder);
  try {
    await body(wb);
  } catch (err) {
    const shot = await wb.screenshot(`${name}-failure`).catch(() => 'none');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${wb.consoleErrors.slice(-10).join('\n  ')}`;
    throw err;
  } finally {
    await wb.close();
  }
}

test('a symlink inside the workspace that leads outside it is not served: prompt and chain images show as not found', { timeout: 120_000 }, async () => {
  const ws = join(scratch, 'links');
  const outside = join(scratch, 'outside');
  mkdirSync(join(ws, 'images'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  // A real, decodable image outside the workspace: served, it would show.
  png(join(outside, 'secret.png'), 64, 48);
  png(join(ws, 'images', 'ok.png'), 32, 32);
  symlinkSync(join(outside, 'secret.png'), join(ws, 'images', 'x.png'));
  symlinkSync(join(outside, 'secret.png'), join(ws, 'images', 'y.png'));
  const record = {
    v: 1, step: 1, group: 'g', prompt: { text: 'What is in the picture?', images: ['images/x.png'] },
    completion: [
      { type: 'text', text: '<think>linked ' }, { type: 'image', path: 'images/y.png' },
      { type: 'text', text: ' inside ' }, { type: 'image', path: 'images/ok.png' },
      { type: 'text', text: '</think><answer>A</answer>' },
    ],
  };
  writeFileSync(join(ws, 'links.rollouts.jsonl'), JSON.stringify(record) + '\n');

  await inWindow('hardening-symlink', ws, async (wb) => {
    await wb.openFile('links.rollouts.jsonl');
    const f = await wb.webviewFrame();
    await byTestId(f, 'group-view').waitFor({ state: 'visible', timeout: 30_000 });
    await byTestId(f, 'image-missing').waitFor({ state: 'visible', timeout: 20_000 });
    const missingText = (await byTestId(f, 'image-missing').textContent()) ?? '';
    assert.match(missingText, /images\/x\.png/, `the prompt image is named as not found: ${missingText}`);
    assert.equal(await byTestId(f, 'image').count(), 0, 'no prompt <img> for the link');
    // In the chain: the link is a missing image, the real file inside the workspace is shown.
    await byTestId(f, 'chain-image').first().waitFor({ timeout: 20_000 });
    const shown = await byTestId(f, 'chain-image').evaluateAll((els) => els.map((e) => e.getAttribute('alt')));
    assert.deepEqual(shown, ['images/ok.png']);
    const chips = await byTestId(f, 'chain-image-missing').allTextContents();
    assert.equal(chips.length, 1);
    assert.match(chips[0]!, /images\/y\.png/);
    const srcs = await f.locator('img').evaluateAll((els) => els.map((e) => (e as HTMLImageElement).src));
    assert.deepEqual(srcs.filter((s) => /\/(x|y|secret)\.png/.test(s)), [], `no image URL for a link leaving the workspace: ${srcs.join(', ')}`);
    await wb.screenshot('hardening-symlink');
  });
});

test('the viewer adds no console error: the only failed loads of a window are code-server\'s own vsda requests', { timeout: 120_000 }, async () => {
  const ws = join(scratch, 'console');
  mkdirSync(ws, { recursive: true });
  const rec = (i: number) => JSON.stringify({ v: 1, step: 1, group: 'g', completion: `<think>[1,1,5,5 cat] ${i}</think><answer>A</answer>`, solution: '<answer>A</answer>' });
  writeFileSync(join(ws, 'quiet.rollouts.jsonl'), [0, 1, 2, 3].map(rec).join('\n') + '\n');
  // What a window shows while it loads, before any viewer, with each failed URL: code-server's
  // SignService asks for vsda (vsda.js, vsda_bg.wasm), which the OSS build does not ship.
  assert.ok(server);
  const browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const atLoad: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') atLoad.push(`${m.text()} @ ${m.location().url}`);
    });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`);
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    await browser.close();
  }
  assert.ok(atLoad.every((e) => /404.*@ .*\/node_modules\/vsda\/rust\/web\/vsda(_bg\.wasm|\.js)$/.test(e)), `only vsda 404s at load: ${atLoad.join(' | ')}`);
  await inWindow('hardening-console', ws, async (wb) => {
    const since = wb.consoleErrors.length;
    const failed: string[] = [];
    wb.page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await wb.openFile('quiet.rollouts.jsonl');
    const f = await wb.webviewFrame();
    await byTestId(f, 'completion').first().waitFor({ timeout: 30_000 });
    await byTestId(f, 'group-row').first().click();
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(wb.consoleErrors.slice(since), [], 'no console error from opening and using the viewer');
    assert.deepEqual(failed, [], 'no failed load from the viewer');
  });
});

test('a large rollout file opened as the window loads ends up in the viewer, not in the text editor', { timeout: 150_000 }, async () => {
  assert.ok(server);
  const ws = join(scratch, 'startup');
  mkdirSync(ws, { recursive: true });
  const file = join(ws, 'big.rollouts.jsonl');
  // ~25 MB: past the text editor's large-file limit, the page the issue saw.
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 25e6; i++) {
    const l = JSON.stringify({ v: 1, step: Math.floor(i / 64), group: `${Math.floor(i / 4)}`, completion: `<think>${'the dog is left of the ball. '.repeat(20)}${i}</think><answer>A</answer>`, solution: '<answer>A</answer>' });
    lines.push(l);
    size += l.length + 1;
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  let page: Page | undefined;
  try {
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // The workbench opens the file itself while it starts (as a restored editor or `code <file>`
    // would): before the extension's editors are registered, on a first start with no cache.
    const payload = JSON.stringify([['openFile', `vscode-remote://${new URL(server.url).host}${file}`]]);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(payload)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    const p = page;
    const viewer = await waitUntil('the rollout viewer to show the file', async () => {
      for (const fr of p.frames()) {
        if (fr === p.mainFrame() || fr.isDetached()) continue;
        if ((await fr.locator('grpo-viewer').count().catch(() => 0)) > 0) return fr;
      }
      return undefined;
    }, 60_000, 250);
    await viewer.locator('[data-testid="group-row"]').first().waitFor({ timeout: 60_000 });
    const tabs = await waitUntil('one tab for the file', async () => {
      const t = await p.locator('.tabs-container .tab').allTextContents();
      return t.filter((x) => x.includes('big.rollouts.jsonl')).length === 1 ? t : undefined;
    }, 20_000);
    assert.equal(tabs.filter((x) => x.includes('big.rollouts.jsonl')).length, 1, `tabs: ${tabs.join(', ')}`);
    assert.equal(await p.getByText('because it is very large').count(), 0, 'no "file is very large" page');
    await p.screenshot({ path: join(REPO_ROOT, 'test-results', 'hardening-startup.png') }).catch(() => undefined);
  } catch (err) {
    const shot = join(REPO_ROOT, 'test-results', 'hardening-startup-failure.png');
    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page?.screenshot({ path: shot }).catch(() => undefined);
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}`;
    throw err;
  } finally {
    await browser.close();
  }
});
