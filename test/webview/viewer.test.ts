/**
 * The viewer webview in real headless Chromium, loaded from the real HTML shell (strict CSP)
 * and the built bundle. Only the VS Code host is stood in for, by the harness (see harness.ts).
 * Run after `node scripts/build.mjs`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { EMPTY_STATE, type GroupDetail, type WebviewMessage } from '../../src/protocol/viewer';
import { Harness, type HostData, type ViewerSession } from './harness';
import { detail, detailWithImages, groupRows, HOSTILE, IMAGE_H, IMAGE_W, LONG_TAGS, predBox, testPng } from './fixtures';

type Rect = { left: number; top: number; width: number; height: number };

let harness: Harness;
const sessions: ViewerSession[] = [];
const SHOTS = 'test-results';

function hostData(n: number, extra: Partial<HostData> = {}): HostData {
  const image = { path: 'images/scene.png', src: harness.imageUrl('scene.png'), width: IMAGE_W, height: IMAGE_H, tried: [] };
  const missing = { path: 'images/0002.jpg', src: null, width: null, height: null, tried: ['/runs/demo/images/0002.jpg', '/data/coco/images/0002.jpg'] };
  const details: Record<string, GroupDetail> = {
    '0/0': detail('0/0', image),
    '0/1': detail('0/1', image),
    '0/2': detail('0/2', missing),
    '0/3': detail('0/3', image, true),
    '0/4': detailWithImages('0/4', image, harness.imageUrl('scene.png')),
  };
  return { groups: groupRows(n), details, totalCompletions: n * 4, ...extra };
}

async function open(data: HostData, viewport?: { width: number; height: number }): Promise<ViewerSession> {
  const s = await harness.open(data, viewport);
  sessions.push(s);
  return s;
}

const isType = <K extends WebviewMessage['type']>(type: K) => (m: WebviewMessage): m is Extract<WebviewMessage, { type: K }> => m.type === type;

async function selectByClick(s: ViewerSession, key: string): Promise<void> {
  await s.page.locator(`[data-testid=group-row][data-key="${key}"]`).click();
  await s.waitFor((m) => m.type === 'selectGroup' && m.key === key);
  await s.page.locator('[data-testid=group-view] h2', { hasText: `Step ${key.split('/')[0]}` }).waitFor();
  await s.page.locator(`[data-testid=group-view] .key`, { hasText: key }).waitFor();
}

const rectOf = (s: ViewerSession, selector: string): Promise<Rect> =>
  s.page.locator(selector).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  });

/** Every drawn box must sit on its image pixels: screen = img.left + x * img.width / 800, within 1 px. */
async function assertBoxesMapped(s: ViewerSession): Promise<number> {
  const img = await rectOf(s, '[data-testid=image]');
  assert.ok(img.width > 50, `image is shown (${img.width} px wide)`);
  assert.ok(Math.abs(img.width / img.height - IMAGE_W / IMAGE_H) < 0.01, 'image keeps its aspect ratio');
  const boxes = await s.page.locator('rect[data-testid=pred-box], rect[data-testid=gold-box]').evaluateAll((els) =>
    els.map((el) => {
      const r = el.getBoundingClientRect();
      const d = (k: string) => Number(el.getAttribute(`data-${k}`));
      return { x1: d('x1'), y1: d('y1'), x2: d('x2'), y2: d('y2'), left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    }),
  );
  const sx = img.width / IMAGE_W;
  const sy = img.height / IMAGE_H;
  for (const b of boxes) {
    const near = (a: number, e: number, what: string) => assert.ok(Math.abs(a - e) <= 1, `${what}: ${a} vs ${e} (box ${b.x1},${b.y1},${b.x2},${b.y2})`);
    near(b.left, img.left + b.x1 * sx, 'left');
    near(b.top, img.top + b.y1 * sy, 'top');
    near(b.right, img.left + b.x2 * sx, 'right');
    near(b.bottom, img.top + b.y2 * sy, 'bottom');
  }
  return boxes.length;
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  harness = await Harness.start({ '/images/scene.png': testPng() });
});

after(async () => {
  for (const s of sessions) {
    assert.deepEqual(s.problems.csp, [], 'no CSP violation in any page');
    assert.deepEqual(s.problems.pageErrors, [], 'no uncaught page errors');
    assert.deepEqual(s.problems.consoleErrors, [], 'no console errors (failed loads included)');
    assert.deepEqual(s.malformed, [], 'every posted message passes isWebviewMessage');
  }
  await harness.close();
});

describe('viewer webview in Chromium (harness stands in for the VS Code host)', () => {
  test('handshake: posts only ready (with no state) until init arrives, then asks for rows', async () => {
    const s = await open(hostData(50, { autoInit: false }));
    const ready = await s.waitFor(isType('ready'));
    assert.equal(ready.state, null);
    await new Promise((ok) => setTimeout(ok, 400));
    assert.deepEqual(s.fromWebview.map((m) => m.type), ['ready'], 'nothing but ready before init');
    await s.sendInit(EMPTY_STATE);
    const req = await s.waitFor(isType('requestRows'));
    assert.equal(req.start, 0);
    assert.equal(s.fromWebview[0]?.type, 'ready');
    await s.page.locator('[data-testid=group-row][data-key="0/1"]').waitFor();
    assert.match(await s.page.locator('[data-testid=counts]').innerText(), /50\s+groups\s+·\s+200\s+completions/);
  });

  test('100,000 groups: only a window of rows exists and scrolling asks for the new window', async () => {
    const s = await open(hostData(100_000));
    await s.page.locator('[data-testid=group-row][data-key="0/0"]').waitFor();
    const rows = await s.page.locator('[data-testid=group-row]').count();
    assert.ok(rows > 5 && rows < 60, `rendered rows: ${rows}`);
    const asked = s.fromWebview.filter(isType('requestRows'));
    assert.ok(asked.every((m) => m.count <= 100 && m.start < 200), JSON.stringify(asked));
    const total = await s.page.locator('[data-testid=group-list]').evaluate((el) => el.scrollHeight);
    assert.equal(total, 100_000 * 48, 'scroll height covers every row');
    // Row 50,000 starts at 50,000 * 48 px; its page (100 rows) starts at 49,900 after overscan.
    await s.page.locator('[data-testid=group-list]').evaluate((el) => (el.scrollTop = 50_000 * 48));
    const far = await s.waitFor((m): m is Extract<WebviewMessage, { type: 'requestRows' }> => m.type === 'requestRows' && m.start === 49_900);
    assert.equal(far.count, 100);
    const row = s.page.locator('[data-testid=group-row][data-ordinal="50000"]');
    await row.waitFor();
    assert.match(await row.innerText(), /Prompt number 50000/);
    const rowBox = await rectOf(s, '[data-testid=group-row][data-ordinal="50000"]');
    const listBox = await rectOf(s, '[data-testid=group-list]');
    assert.ok(Math.abs(rowBox.top - listBox.top) <= 1, `row 50000 at the top of the list (${rowBox.top} vs ${listBox.top})`);
    const after = await s.page.locator('[data-testid=group-row]').count();
    assert.ok(after < 60, `still a window after scrolling: ${after}`);
    assert.equal(await s.page.locator('[data-testid=group-row][data-ordinal="10"]').count(), 0, 'rows scrolled away are gone');
  });

  test('live: a grown list keeps scroll and selection, re-asks only its window; status, query errors and reveal show', async () => {
    const data = hostData(2_000);
    const s = await open(data);
    await s.page.locator('[data-testid=group-row][data-key="0/0"]').waitFor();
    await s.page.locator('[data-testid=group-list]').evaluate((el) => (el.scrollTop = 1_000 * 48));
    await s.page.locator('[data-testid=group-row][data-ordinal="1000"]').waitFor();
    const key = (await s.page.locator('[data-testid=group-row][data-ordinal="1002"]').getAttribute('data-key'))!;
    await s.page.locator(`[data-testid=group-row][data-key="${key}"]`).click();
    await s.waitFor((m) => m.type === 'selectGroup' && m.key === key);
    const selected = key;
    const asked = s.fromWebview.filter(isType('requestRows')).length;

    // 500 groups arrive: the host says the list grew.
    const more = groupRows(2_500).slice(2_000);
    data.groups.push(...more);
    await s.send({ type: 'listChanged', total: data.groups.length, grown: true });
    await s.send({
      type: 'status',
      source: { title: 'r', files: ['/runs/demo/debug.log'], format: 'vlmr1', stepsInferred: true },
      totalGroups: data.groups.length, totalCompletions: data.groups.length * 4, badLines: [], badLineCount: 0,
      notes: [
        { file: '/runs/demo/debug.log', line: 12, message: 'a group of 7 where the run has 8' },
        { file: '/runs/demo/debug.log', message: 'steps were inferred' },
      ],
      noteCount: 3,
      live: { mode: 'watch', loading: false, bytesRead: 10, bytesTotal: 10, problem: null },
    });
    await s.page.locator('[data-testid=live-status]', { hasText: 'following · 10,000 completions' }).waitFor();
    // Notes are information beside (not inside) the bad-lines banner; a note about a line opens it.
    const notes = s.page.locator('[data-testid=source-notes]');
    await notes.waitFor();
    assert.equal(await s.page.locator('[data-testid=bad-lines]').count(), 0, 'no bad lines, no bad-lines banner');
    assert.match(await notes.innerText(), /3 notes about the input/);
    assert.deepEqual(await s.page.locator('[data-testid=source-note]').allInnerTexts(), [
      '/runs/demo/debug.log:12 — a group of 7 where the run has 8',
      '/runs/demo/debug.log — steps were inferred',
    ]);
    assert.match(await notes.innerText(), /… and 1 more/);
    await s.page.locator('[data-testid=source-note-line]').click();
    const opened = await s.waitFor(isType('revealLine'));
    assert.deepEqual([opened.file, opened.line], ['/runs/demo/debug.log', 12]);
    await s.page.locator('[data-testid=steps-inferred]').waitFor();
    assert.match(await s.page.locator('[data-testid=counts]').innerText(), /2,500\s+groups/);
    const top = await s.page.locator('[data-testid=group-list]').evaluate((el) => el.scrollTop);
    assert.equal(top, 1_000 * 48, 'the scroll position stayed');
    assert.equal(await s.page.locator('[data-testid=group-row][aria-selected=true]').getAttribute('data-key'), selected, 'the selection stayed');
    await s.waitFor((m) => m.type === 'requestRows' && s.fromWebview.filter(isType('requestRows')).length > asked);
    await new Promise((r) => setTimeout(r, 200));
    const again = s.fromWebview.filter(isType('requestRows')).slice(asked);
    assert.ok(again.length >= 1 && again.length <= 2 && again.every((m) => m.start >= 900 && m.start < 1_100), `re-asked only the window: ${JSON.stringify(again)}`);
    assert.equal(s.fromWebview.filter(isType('setFilter')).length, 0, 'growing is not a filter change');

    // A query error from the host shows inline with its column; the list is left alone.
    await s.send({ type: 'filterApplied', filter: { text: 'step >', flags: [] }, reading: { kind: 'error', message: 'expected a number after ">", got the end of the query (column 7)', column: 7 } });
    const err = s.page.locator('[data-testid=filter-error]');
    await err.waitFor();
    assert.match(await err.innerText(), /column 7/);
    assert.equal(await s.page.locator('[data-testid=filter] input').inputValue(), 'step >', 'a filter the host set shows in the field');
    // Reveal (jump to step): scrolls to the row and selects it.
    await s.send({ type: 'reveal', key: data.groups[2_400]!.key, ordinal: 2_400 });
    await s.page.locator('[data-testid=group-row][data-ordinal="2400"][aria-selected=true]').waitFor();
  });

  test('keyboard and palette commands move the selection', async () => {
    const s = await open(hostData(1000));
    await selectByClick(s, '0/0');
    await s.page.keyboard.press('ArrowDown');
    await s.waitFor((m) => m.type === 'selectGroup' && m.key === '0/1');
    await s.page.keyboard.press('End');
    await s.waitFor((m) => m.type === 'selectGroup' && m.key === '124/7');
    await s.page.locator('[data-testid=group-row][data-key="124/7"]').waitFor();
    await s.page.keyboard.press('Home');
    await s.waitFor((m) => m.type === 'selectGroup' && m.key === '0/0');
    // PageDown moves by a viewport of rows less one: (list height / 48) - 1 rows.
    const listHeight = (await rectOf(s, '[data-testid=group-list]')).height;
    const pageRows = Math.floor(listHeight / 48) - 1;
    const pdKey = `${Math.floor(pageRows / 8)}/${pageRows % 8}`;
    await s.page.keyboard.press('PageDown');
    await s.waitFor((m) => m.type === 'selectGroup' && m.key === pdKey);
    await s.send({ type: 'command', command: 'focusFilter' });
    await s.page.waitForFunction(() => document.activeElement?.shadowRoot?.activeElement?.tagName === 'GRPO-TOOLBAR');
    const next = pageRows + 1;
    await s.send({ type: 'command', command: 'nextGroup' });
    await s.waitFor((m) => m.type === 'selectGroup' && m.key === `${Math.floor(next / 8)}/${next % 8}`);
    assert.equal(await s.page.locator('[data-testid=group-row].selected').count(), 1);
  });

  test('group view: four completions, chains from tokens, boxes on their pixels at any width, hover both ways', async () => {
    const s = await open(hostData(100));
    await selectByClick(s, '0/0');
    const cards = s.page.locator('[data-testid=completion]');
    assert.equal(await cards.count(), 4);
    const d = s.data.details['0/0']!;
    for (const [k, c] of d.completions.entries()) {
      const chainText = await cards.nth(k).locator('[data-testid=chain]').evaluate((el) => el.textContent);
      assert.equal(chainText, c.tokens.map((t) => t.text).join(''), `chain ${k} text is its tokens' text`);
      assert.equal(await cards.nth(k).locator('[data-testid=box-token]').count(), 2);
    }
    assert.equal(await cards.nth(2).locator('[data-testid=format-violation]').textContent(), ' stray words ');
    await s.page.locator('[data-testid=image]').evaluate((el) => (el as HTMLImageElement).decode());
    assert.equal(await s.page.locator('rect[data-testid=pred-box]').count(), 8);
    assert.equal(await s.page.locator('circle[data-testid=pred-box][data-point=true]').count(), 1);
    assert.equal(await assertBoxesMapped(s), 9);
    await s.page.screenshot({ path: `${SHOTS}/webview-group.png` });

    for (const width of [900, 1900]) {
      await s.page.setViewportSize({ width, height: 900 });
      await s.page.waitForTimeout(150);
      assert.equal(await assertBoxesMapped(s), 9, `mapping holds at ${width} px`);
      await s.page.screenshot({ path: `${SHOTS}/webview-width-${width}.png` });
    }
    await s.page.setViewportSize({ width: 1400, height: 900 });
    await s.page.waitForTimeout(150);

    // Chain -> image: hovering completion 1's dog token lights its box and dims the rest.
    await cards.nth(1).locator('[data-testid=box-token][data-box-id="0"]').hover();
    const g = (sel: string) => s.page.locator(sel).locator('xpath=..');
    await s.page.waitForFunction(() => true);
    assert.match((await g('rect[data-testid=pred-box][data-completion="1"][data-box-id="0"]').getAttribute('class')) ?? '', /\bhot\b/);
    assert.match((await g('rect[data-testid=pred-box][data-completion="0"][data-box-id="0"]').getAttribute('class')) ?? '', /\bdim\b/);
    assert.match((await g('rect[data-testid=gold-box]').getAttribute('class')) ?? '', /\bdim\b/);
    await s.page.screenshot({ path: `${SHOTS}/webview-hover.png` });

    // Image -> chain: x = 350 px lies only in completion 3's dog box (160..360). Hovering a token
    // may have scrolled the view down to it (the facts make cards tall): bring the image back.
    await s.page.locator('[data-testid=image]').scrollIntoViewIfNeeded();
    const img = await rectOf(s, '[data-testid=image]');
    await s.page.mouse.move(img.left + (350 * img.width) / IMAGE_W, img.top + (240 * img.height) / IMAGE_H);
    const token = cards.nth(3).locator('[data-testid=box-token][data-box-id="0"]');
    await s.page.waitForFunction(() => true);
    assert.match((await token.getAttribute('class')) ?? '', /\bhot\b/);
    assert.doesNotMatch((await cards.nth(2).locator('[data-testid=box-token][data-box-id="0"]').getAttribute('class')) ?? '', /\bhot\b/);
    assert.deepEqual(predBox(3), [160, 120, 360, 360]);

    // Logged vs recomputed: completion 1 logged accuracy 1 but recomputes 0, and its total too.
    const mism = cards.nth(1).locator('[data-testid=reward-mismatch]');
    assert.equal(await mism.count(), 2);
    assert.equal(await mism.first().getAttribute('title'), 'Logged 1 but recomputed 0');
    assert.equal(await cards.nth(0).locator('[data-testid=reward-mismatch]').count(), 0);

    // Per-completion toggle hides that completion's boxes.
    await s.page.locator('[data-testid=toggle-completion][data-completion="2"]').click();
    assert.equal(await s.page.locator('[data-testid=pred-box][data-completion="2"]').count(), 0);
    assert.equal(await s.page.locator('rect[data-testid=pred-box]').count(), 6);
  });

  test('facts: each completion\'s meta under its rewards, scalars as text, long lists cut with the whole value as tooltip', async () => {
    const s = await open(hostData(100));
    await selectByClick(s, '0/0');
    const cards = s.page.locator('[data-testid=completion]');
    const facts = (k: number) => cards.nth(k).locator('[data-testid=fact]');
    const read = (k: number) => facts(k).evaluateAll((rows) => rows.map((r) => ({
      key: r.getAttribute('data-key'), kind: r.getAttribute('data-kind'), title: r.getAttribute('title'),
      cells: [...r.querySelectorAll('td')].map((td) => td.textContent),
    })));
    // What the fixture's meta means, spelled out: 80 characters shown, the rest in the tooltip.
    const tags = JSON.stringify(LONG_TAGS);
    assert.ok(tags.length > 80);
    assert.deepEqual(await read(0), [
      { key: 'acc', kind: 'bool', title: null, cells: ['acc', 'true'] },
      { key: 'pred', kind: 'string', title: null, cells: ['pred', 'D'] },
      { key: 'score_extra', kind: 'number', title: null, cells: ['score_extra', '0.5'] },
      { key: 'tags', kind: 'list', title: tags, cells: ['tags', `${tags.slice(0, 79)}…`] },
      { key: 'info', kind: 'dict', title: null, cells: ['info', '{"iou":0.8,"n":2}'] },
      { key: 'missing', kind: 'null', title: null, cells: ['missing', 'null'] },
    ]);
    const one = await read(1);
    assert.deepEqual(one.map((f) => f.cells[1]), ['false', 'C', '0.25', '["dog"]', '{"iou":0.8,"n":2}', 'null']);
    // The facts sit between the rewards table and the length line.
    const order = await cards.nth(0).evaluate((el) => [...el.shadowRoot!.children].map((c) => c.getAttribute('data-testid') ?? c.className).filter(Boolean));
    assert.ok(order.indexOf('facts') === order.indexOf('rewards') + 1, `facts follow the rewards: ${order.join(' ')}`);
    await cards.nth(0).locator('[data-testid=facts]').screenshot({ path: `${SHOTS}/webview-facts.png` });
  });

  test('images inside a chain: resolved ones inline, missing ones named, SEED codes as a chip', async () => {
    const s = await open(hostData(100));
    await selectByClick(s, '0/4');
    const chain = s.page.locator('[data-testid=completion]').nth(0).locator('[data-testid=chain]');
    assert.equal(await chain.locator('img[data-testid=chain-image]').getAttribute('src'), harness.imageUrl('scene.png'));
    assert.equal(await chain.locator('[data-testid=generated-image]').textContent(), 'generated image (32 codes)');
    assert.equal(await chain.locator('[data-testid=chain-image-missing]').textContent(), 'missing image: gen/1.png');
    assert.match((await chain.locator('[data-testid=chain-image-missing]').getAttribute('title')) ?? '', /\/runs\/demo\/gen\/1\.png/);
    const text = await chain.evaluate((el) => el.textContent);
    assert.equal(text, '<think>Let me sketch it:  then missing image: gen/1.png and generated image (32 codes)</think><answer>D</answer>');
  });

  test('missing image: placeholder names the path and every path tried', async () => {
    const s = await open(hostData(100));
    await selectByClick(s, '0/2');
    const text = await s.page.locator('[data-testid=image-missing]').innerText();
    assert.match(text, /images\/0002\.jpg/);
    assert.match(text, /\/runs\/demo\/images\/0002\.jpg/);
    assert.match(text, /\/data\/coco\/images\/0002\.jpg/);
    assert.equal(await s.page.locator('[data-testid=pred-box]').count(), 0);
    await s.page.screenshot({ path: `${SHOTS}/webview-missing.png` });
  });

  test('state survives a reload: selected group, filter, frame', async () => {
    const s = await open(hostData(1000));
    await selectByClick(s, '0/1');
    await s.page.locator('[data-testid=frame-ambiguous]').waitFor();
    await s.page.locator('[data-testid=filter] input').fill('number 1');
    const f = await s.waitFor(isType('setFilter'));
    assert.deepEqual(f.filter, { text: 'number 1', flags: [] });
    await s.page.locator('[data-testid=flag-format_failure]').click();
    await s.waitFor((m) => m.type === 'setFilter' && m.filter.flags.includes('format_failure'));
    await s.page.locator('[data-testid=frame-select]').evaluate((el) => {
      (el as unknown as { value: string }).value = 'rel1000';
      el.dispatchEvent(new Event('change'));
    });
    await s.waitFor((m) => m.type === 'setFrame' && m.frame === 'rel1000');
    assert.deepEqual(s.savedState, { selectedKey: '0/1', filter: { text: 'number 1', flags: ['format_failure'] }, scrollTop: 0, frame: 'rel1000' });

    await s.reload();
    const ready = await s.waitFor(isType('ready'));
    assert.deepEqual(ready.state, { selectedKey: '0/1', filter: { text: 'number 1', flags: ['format_failure'] }, scrollTop: 0, frame: 'rel1000' });
    await s.waitFor((m) => m.type === 'selectGroup' && m.key === '0/1');
    await s.page.locator('[data-testid=group-view] .key', { hasText: '0/1' }).waitFor();
    assert.equal(await s.page.locator('[data-testid=filter] input').inputValue(), 'number 1');
    assert.equal(await s.page.locator('[data-testid=flag-format_failure]').getAttribute('aria-pressed'), 'true');
    // Filtered list: "number 1…" with format_failure (i % 3 == 0, i % 5 != 0): 12, 18, 102, …
    await s.page.locator('[data-testid=group-row]').first().waitFor();
    assert.match(await s.page.locator('[data-testid=group-row]').first().innerText(), /Prompt number 12:/);
  });

  test('hostile strings render as literal text; nothing runs; CSP never fires', async () => {
    const s = await open(hostData(100, { badLines: [{ file: '/runs/demo/rollouts.jsonl', line: 7, error: `bad JSON ${HOSTILE.img}` }] }));
    await selectByClick(s, '0/3');
    const prompt = await s.page.locator('[data-testid=prompt]').evaluate((el) => el.textContent);
    assert.equal(prompt, `Which option? ${HOSTILE.img} ${HOSTILE.script} ${HOSTILE.js} ${HOSTILE.svg}`);
    const chain0 = await s.page.locator('[data-testid=completion]').nth(0).locator('[data-testid=chain]').evaluate((el) => el.textContent ?? '');
    assert.ok(chain0.includes(HOSTILE.script) && chain0.includes(HOSTILE.img));
    const why = await s.page.locator('[data-testid=completion]').nth(1).locator('[data-testid=verdict-why]').evaluate((el) => el.textContent);
    assert.equal(why, `Says ${HOSTILE.img} then ${HOSTILE.script}`, 'judge reason shown as text');
    const fact = s.page.locator('[data-testid=completion]').nth(0).locator('[data-testid=fact]').last();
    assert.deepEqual(await fact.locator('td').allTextContents(), [HOSTILE.img, HOSTILE.script], 'a fact\'s key and value shown as text');
    const labels = await s.page.locator('svg[data-testid=overlay] text').allTextContents();
    assert.ok(labels.some((l) => l.includes(HOSTILE.img)), 'box label shown as text');
    assert.ok(labels.some((l) => l.includes(HOSTILE.svg)), 'gold label shown as text');
    const banner = await s.page.locator('[data-testid=bad-lines]').innerText();
    assert.match(banner, /rollouts\.jsonl:7 — bad JSON <img src=x onerror="window.__pwned=1">/);
    await s.page.screenshot({ path: `${SHOTS}/webview-hostile.png` });
    await s.page.locator('[data-testid=bad-line]').click();
    const reveal = await s.waitFor(isType('revealLine'));
    assert.deepEqual([reveal.file, reveal.line], ['/runs/demo/rollouts.jsonl', 7]);
    await s.page.waitForTimeout(300);
    assert.equal(await s.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
    // No element was made from those strings anywhere, shadow roots included.
    const made = await s.page.evaluate(() => {
      const found: string[] = [];
      const walk = (root: Document | ShadowRoot) => {
        for (const el of root.querySelectorAll('*')) {
          if (el.tagName === 'SCRIPT' && el.getAttribute('src')?.endsWith('viewer.js') !== true) found.push('script');
          if (el.hasAttribute('onerror') || el.hasAttribute('onload')) found.push(`${el.tagName} handler`);
          if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') found.push('img x');
          if (el.shadowRoot) walk(el.shadowRoot);
        }
      };
      walk(document);
      return found;
    });
    assert.deepEqual(made, []);
    assert.deepEqual(s.problems.csp, []);
  });
});
