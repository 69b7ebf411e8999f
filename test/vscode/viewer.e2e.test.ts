/**
 * The viewer in a real VS Code: code-server with the packaged VSIX, driven by chromium.
 * One code-server serves every case; each case opens its own window (own extension host).
 * Needs `npm run package`, the test-only host-suite extension (node test/extension-host/bundle.mjs) and
 * scripts/install-code-server.sh; scripts/test.sh does all three first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { CodeServer, HOST_SUITE_VSIX, REPO_ROOT, Workbench, waitUntil } from './codeServer';
import { CSP_CANARY, DEEP_TEXT, INLINE_HANDLERS, LOADED_IMAGE_SIZE } from './pageScripts';
import { completionText, parseRecordLine } from '../../src/core/schema/record';
import { GroupKeys } from '../../src/core/rollouts/groups';
import { HOSTILE_FILE, HOSTILE_PAYLOADS, writeHostileRollouts } from '../fixtures/hostile';
import { BAD_FILE, BAD_INPUT_EXPECTED, writeBadRollouts } from '../fixtures/bad-input';

/** What the host suite's last test opens with grpoStudio.showRolloutsAt (test/extension-host/suite.ts). */
const SHOW_AT_QUERY = 'step == 1';

const VSIX = process.env.GRPO_STUDIO_VSIX ?? join(REPO_ROOT, 'grpo-studio.vsix');
const SAMPLE_DIR = join(REPO_ROOT, 'dist/sample');
const SAMPLE_FILE = join(SAMPLE_DIR, 'sample.rollouts.jsonl');

const scratch = mkdtempSync(join(tmpdir(), 'grpo-e2e-'));
const hostResults = join(scratch, 'host-results.json');
let server: CodeServer | undefined;

before(async () => {
  for (const f of [VSIX, HOST_SUITE_VSIX, SAMPLE_FILE]) assert.ok(existsSync(f), `${f} exists (run scripts/test.sh)`);
  server = await CodeServer.start({ vsix: VSIX, hostSuite: { results: hostResults } });
});

after(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Opens a window on `folder`, runs `body`; on failure saves a screenshot and the console errors. */
async function inWindow(name: string, folder: string, body: (wb: Workbench) => Promise<void>): Promise<void> {
  assert.ok(server, 'code-server started');
  const wb = await Workbench.open(server, folder);
  try {
    await body(wb);
  } catch (err) {
    const shot = await wb.screenshot(`${name}-failure`).catch(() => 'none');
    const errors = wb.consoleErrors.slice(-10).join('\n  ');
    if (err instanceof Error) err.message += `\n  screenshot: ${shot}\n  console errors:\n  ${errors}`;
    throw err;
  } finally {
    await wb.close();
  }
}

const byTestId = (f: Frame, id: string) => f.locator(`[data-testid="${id}"]`);

async function atLeast(f: Frame, id: string, n: number, timeoutMs = 30_000): Promise<number> {
  return waitUntil(`≥ ${n} ${id}`, async () => {
    const c = await byTestId(f, id).count();
    return c >= n ? c : undefined;
  }, timeoutMs);
}

/** Group keys of the given 1-based lines, as the core's own grouping assigns them. */
function groupsOfLines(file: string, lineNumbers: readonly number[]): Set<string> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const keys = new GroupKeys();
  const out = new Set<string>();
  for (const n of lineNumbers) {
    const parsed = parseRecordLine((lines[n - 1] ?? '').replace(/\r$/, ''));
    assert.ok(parsed.ok, `line ${n} of ${file} is valid`);
    out.add(keys.keyOf(parsed.record));
  }
  return out;
}

async function deepText(f: Frame): Promise<string> {
  return String(await f.evaluate(DEEP_TEXT));
}

async function inlineHandlers(f: Frame): Promise<string[]> {
  const found: unknown = await f.evaluate(INLINE_HANDLERS);
  return Array.isArray(found) ? found.map(String) : [`unexpected: ${String(found)}`];
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Plain-word openings (≥ 24 chars) of every <think> region in the sample, to look for on screen. */
function thinkSnippets(): string[] {
  const out: string[] = [];
  for (const line of readFileSync(SAMPLE_FILE, 'utf8').split('\n')) {
    const parsed = line.trim() ? parseRecordLine(line) : undefined;
    if (!parsed?.ok) continue;
    const think = /<think>([\s\S]*?)<\/think>/.exec(completionText(parsed.record))?.[1];
    const words = think ? /^[\s]*([A-Za-z][A-Za-z0-9 ,.'-]{23,})/.exec(think)?.[1] : undefined;
    if (words) out.push(squash(words).slice(0, 40));
  }
  return out;
}

test('extension-host suite passes inside code-server (real vscode API)', { timeout: 150_000 }, async () => {
  // A copy, so this window's saved editors never reappear in the sample window below.
  const ws = join(scratch, 'host-suite-ws');
  cpSync(SAMPLE_DIR, ws, { recursive: true });
  await inWindow('host-suite', ws, async (wb) => {
    const raw = await waitUntil('the host suite results file', async () =>
      existsSync(hostResults) ? readFileSync(hostResults, 'utf8') : undefined, 120_000, 500);
    const r = JSON.parse(raw) as { passed: number; failed: number; failures: { title: string; error: string }[] };
    assert.deepEqual(r.failures, [], 'no failing host tests');
    assert.equal(r.failed, 0);
    assert.ok(r.passed >= 8, `host tests passed: ${r.passed}`);

    // The suite's last test called grpoStudio.showRolloutsAt(file, 'step == 1') and left the viewer open.
    const f = await wb.webviewFrame(async (fr) => {
      const input = fr.locator('[data-testid="filter"] input');
      return (await input.count()) === 1 && (await input.inputValue({ timeout: 1000 })) === SHOW_AT_QUERY;
    });
    const keys = await waitUntil('only step 1 listed', async () => {
      const k = await byTestId(f, 'group-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
      return k.length === 1 ? k : undefined;
    }, 20_000);
    assert.deepEqual(keys, ['1/0']);
    assert.match(squash((await byTestId(f, 'counts').textContent()) ?? ''), /\b1 of 3 groups/);
    assert.equal(squash((await byTestId(f, 'filter-kind').textContent()) ?? ''), 'query');
  });
});

test('Open Sample shows groups, a group\'s four chains, box tokens and boxes inside the image', { timeout: 120_000 }, async () => {
  await inWindow('viewer-sample', SAMPLE_DIR, async (wb) => {
    await wb.runCommand('GRPO Studio: Open Sample');
    const f = await wb.webviewFrame();
    const rows = await atLeast(f, 'group-row', 10);
    assert.ok(rows >= 10, `${rows} group rows`);

    await byTestId(f, 'group-row').first().click();
    const view = byTestId(f, 'group-view');
    await view.waitFor({ state: 'visible', timeout: 20_000 });
    await atLeast(f, 'completion', 4);
    assert.equal(await view.locator('[data-testid="completion"]').count(), 4, 'four completions in the group');

    const chains = (await view.locator('[data-testid="chain"]').allTextContents()).map(squash);
    assert.equal(chains.length, 4, 'one chain per completion');
    const snippets = thinkSnippets();
    assert.ok(snippets.length > 0, 'the sample has <think> regions with plain words');
    assert.ok(
      chains.some((c) => snippets.some((s) => c.includes(s))),
      `a chain shows <think> text from the file; chains start: ${chains.map((c) => c.slice(0, 60)).join(' | ')}`,
    );
    assert.ok((await view.locator('[data-testid="box-token"]').count()) >= 1, 'at least one box token in the chains');

    await atLeast(f, 'pred-box', 1, 20_000);
    await atLeast(f, 'gold-box', 1, 20_000);
    const size = await waitUntil('the group image to load', async () => {
      const got = (await f.evaluate(LOADED_IMAGE_SIZE)) as { w: number; h: number } | null;
      return got ?? undefined;
    }, 20_000);
    for (const id of ['pred-box', 'gold-box']) {
      const boxes = byTestId(f, id);
      for (let i = 0; i < (await boxes.count()); i++) {
        const [x1, y1, x2, y2] = await Promise.all(
          ['data-x1', 'data-y1', 'data-x2', 'data-y2'].map(async (a) => Number(await boxes.nth(i).getAttribute(a))),
        );
        const where = `${id}[${i}] = [${x1},${y1},${x2},${y2}] in ${size.w}x${size.h}`;
        for (const v of [x1, y1, x2, y2]) assert.ok(Number.isFinite(v), `${where}: numeric`);
        assert.ok(x1! >= 0 && y1! >= 0 && x2! <= size.w && y2! <= size.h, `${where}: inside the image`);
        assert.ok(x1! < x2! && y1! < y2!, `${where}: non-empty`);
      }
    }
    await wb.screenshot('viewer-sample');
  });
});

test('hostile model output shows as literal text: nothing runs, no CSP violation, no dialog', { timeout: 120_000 }, async () => {
  const dir = join(scratch, 'hostile');
  writeHostileRollouts(dir);
  await inWindow('viewer-hostile', dir, async (wb) => {
    await wb.openFile(HOSTILE_FILE);
    const f = await wb.webviewFrame();
    const rows = await atLeast(f, 'group-row', 1);
    let shown = '';
    for (let i = 0; i < rows; i++) {
      await byTestId(f, 'group-row').nth(i).click();
      await byTestId(f, 'group-view').waitFor({ state: 'visible' });
      await atLeast(f, 'completion', 1);
      shown += `\n${await deepText(f)}`;
    }
    const missing = HOSTILE_PAYLOADS.filter((p) => !squash(shown).includes(squash(p)));
    assert.deepEqual(missing, [], 'every payload appears verbatim as text');
    assert.deepEqual(await inlineHandlers(f), [], 'no element got an inline event handler');
    const pwned = await wb.inEveryFrame('typeof window.__pwned');
    assert.ok(pwned.every((t) => t === 'undefined'), `window.__pwned in frames: ${pwned.join(', ')}`);
    assert.deepEqual(await wb.cspViolations(), [], 'no CSP violation');
    assert.deepEqual(wb.dialogs, [], 'no dialog opened');
    await wb.screenshot('viewer-hostile');

    // The detector itself must see a violation, or the empty list above proves nothing.
    await f.evaluate(CSP_CANARY);
    await waitUntil('the CSP canary to be reported', async () =>
      (await wb.cspViolations()).some((v) => v.includes('csp-canary')) ? true : undefined, 10_000);
  });
});

test('bad input: every valid line\'s group is listed and every bad line number is reported', { timeout: 120_000 }, async () => {
  const dir = join(scratch, 'bad-input');
  const file = writeBadRollouts(dir);
  // Lines 9 and 14 carry no `group`: the key is derived, so count groups the core's way.
  const groups = groupsOfLines(file, BAD_INPUT_EXPECTED.validLines);
  assert.equal(groups.size, 4, `groups of the valid lines: ${[...groups].join(', ')}`);
  await inWindow('viewer-bad-input', dir, async (wb) => {
    await wb.openFile(BAD_FILE);
    const f = await wb.webviewFrame();
    await atLeast(f, 'group-row', groups.size);
    assert.equal(await byTestId(f, 'group-row').count(), groups.size, 'one row per group of the valid lines');
    const bad = byTestId(f, 'bad-lines');
    await bad.waitFor({ state: 'visible', timeout: 20_000 });
    const text = (await bad.allTextContents()).join(' ');
    // Line numbers as written after `file.jsonl:` or `line `; bare digits would also match the
    // temp folder's name.
    const listed = new Set([...text.matchAll(/(?:\.jsonl:|\bline\s+)(\d+)/gi)].map((m) => Number(m[1])));
    const unlisted = BAD_INPUT_EXPECTED.badLines.filter((n) => !listed.has(n));
    assert.deepEqual(unlisted, [], `every bad line is listed in: ${squash(text).slice(0, 300)}`);
    await wb.screenshot('viewer-bad-input');
  });
});
