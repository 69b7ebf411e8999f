/**
 * A 2 MB chain in the real viewer bundle (headless Chromium, the harness's host): the group
 * shows with the chain's first screen drawn, not the whole 2 MB; the rest arrives as the view
 * scrolls or the page idles, until the chain holds exactly the tokens' text; a box hover lights
 * the same box in every drawn chunk; switching groups mid-way loses nothing. The selection time
 * itself is a bench figure (bench/chain-render.ts), not asserted here.
 * Run after `node scripts/build.mjs`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupDetail } from '../../src/protocol/viewer';
import { Harness, type ViewerSession } from './harness';
import { detail, groupRows, testPng } from './fixtures';
import { longDetail } from './long-chain';

const LONG = '0/0';
const SHORT = '0/1';
const BYTES = 2_000_000;

let harness: Harness;
let s: ViewerSession;
let full = '';

before(async () => {
  harness = await Harness.start({ '/images/scene.png': testPng() });
  const image = { path: 'images/scene.png', src: harness.imageUrl('scene.png'), width: 800, height: 600, tried: [] };
  const details: Record<string, GroupDetail> = { [LONG]: longDetail(LONG, image, BYTES), [SHORT]: detail(SHORT, image) };
  full = details[LONG]!.completions[0]!.tokens.map((t) => t.text).join('');
  s = await harness.open({ groups: groupRows(16), details, totalCompletions: 64 });
  await s.page.locator('[data-testid=group-row][data-ordinal="0"]').waitFor({ timeout: 30_000 });
});

after(async () => {
  await s?.close();
  await harness?.close();
});

interface ChainState {
  key: string | null;
  length: number;
  shown: number;
  chunks: number;
}

/**
 * In the page: the shown group's key and its first chain's drawn length, once `o.key` is shown
 * (and, with `o.complete`, once its chain is drawn whole); false until then. Passed to
 * waitForFunction as a function (the page's CSP forbids evaluating strings).
 */
function chainStateWhen(o: { key: string | null; complete: boolean }): ChainState | false {
  const view = document.querySelector('grpo-viewer')?.shadowRoot?.querySelector('grpo-group-view')?.shadowRoot;
  const chain = view?.querySelector('grpo-completion')?.shadowRoot?.querySelector('grpo-chain')?.shadowRoot?.querySelector('[data-testid=chain]');
  const st = {
    key: view?.querySelector('[data-testid=group-view] .key')?.textContent ?? null,
    length: chain?.textContent?.length ?? 0,
    shown: Number(chain?.getAttribute('data-shown') ?? 0),
    chunks: Number(chain?.getAttribute('data-chunks') ?? 0),
  };
  if (o.key !== null && st.key !== o.key) return false;
  return !o.complete || (st.chunks > 0 && st.shown === st.chunks) ? st : false;
}

async function stateWhen(key: string | null, complete: boolean, timeout: number): Promise<ChainState> {
  // Polled every animation frame: the first frame that satisfies it is the one read.
  const h = await s.page.waitForFunction(chainStateWhen, { key, complete }, { timeout, polling: 'raf' });
  return (await h.jsonValue()) as ChainState;
}

async function select(key: string): Promise<ChainState> {
  await s.page.locator(`[data-testid=group-row][data-key="${key}"]`).click();
  return stateWhen(key, false, 30_000);
}

const chainText = () => s.page.locator('[data-testid=completion]').first().locator('[data-testid=chain]').evaluate((el) => el.textContent ?? '');

test('a 2 MB chain shows its first screen at once and the rest later, exactly the tokens\' text', async () => {
  const first = await select(LONG);
  assert.ok(first.chunks > 100, `the chain is cut into chunks (${first.chunks})`);
  assert.ok(first.length >= 4000, `the first screen is drawn (${first.length} chars)`);
  assert.ok(first.length < full.length / 4, `not the whole chain at once: ${first.length} of ${full.length} chars`);
  const opening = full.slice('<think>'.length, 200).trim();
  assert.ok((await chainText()).includes(opening.slice(0, 60)), 'the chain opens with its first words');
  assert.ok(await s.page.locator('[data-testid=completion]').first().locator('[data-testid=chain] .step').first().isVisible());

  // Scrolling toward the end draws what comes next; idle time draws the rest.
  const view = s.page.locator('grpo-group-view');
  for (let i = 0; i < 20; i++) {
    await view.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await s.page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
  }
  await stateWhen(LONG, true, 60_000);
  const text = await chainText();
  assert.equal(text.length, full.length, 'every character drawn once');
  assert.ok(text === full, 'the drawn chain is the tokens\' text, in order');
  assert.equal(await s.page.locator('[data-testid=chain-more]').count(), 0, 'no sentinel once complete');
  assert.deepEqual(s.problems.pageErrors, []);
  assert.deepEqual(s.problems.csp, []);
});

test('hovering a box lights it in every chunk; switching groups and back starts the chain afresh', async () => {
  const card = s.page.locator('[data-testid=completion]').first();
  const boxes = card.locator('[data-testid=box-token]');
  const n = await boxes.count();
  assert.ok(n > 1000, `box tokens across the chain (${n})`);
  await boxes.first().hover();
  await s.page.waitForFunction(
    () => {
      const chain = document.querySelector('grpo-viewer')?.shadowRoot?.querySelector('grpo-group-view')?.shadowRoot
        ?.querySelector('grpo-completion')?.shadowRoot?.querySelector('grpo-chain')?.shadowRoot;
      const all = chain ? [...chain.querySelectorAll('[data-testid=box-token]')] : [];
      return all.length > 0 && all.every((b) => b.classList.contains('hot'));
    },
    undefined,
    { timeout: 10_000 },
  );
  await s.page.mouse.move(5, 5);
  await s.page.waitForFunction(
    () => !document.querySelector('grpo-viewer')?.shadowRoot?.querySelector('grpo-group-view')?.shadowRoot
      ?.querySelector('grpo-completion')?.shadowRoot?.querySelector('grpo-chain')?.shadowRoot?.querySelector('.hot'),
    undefined,
    { timeout: 10_000 },
  );

  const short = await select(SHORT);
  assert.equal(short.shown, short.chunks, 'a short chain is drawn whole at once');
  assert.equal(short.chunks, 1);
  const again = await select(LONG);
  assert.ok(again.length < full.length / 4, `drawn afresh from its start: ${again.length} chars`);
  assert.deepEqual(s.problems.pageErrors, []);
});
