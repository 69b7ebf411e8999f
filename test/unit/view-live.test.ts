import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutView, type ScoreOptions } from '../../src/core/view/rolloutView';
import type { LocatedRecord } from '../../src/core/ingest/types';
import { LiveRollouts, type LiveUpdate } from '../../src/core/view/liveRollouts';
import { readRollouts } from '../../src/core/ingest/v1Reader';
import { randomFile, seededRandom } from './index-records';

const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 12845056 };
const FILTERS = ['', 'reward > 1', 'not zero_variance', 'text ~ "car"', 'left', 'step > 2 sort:reward desc', 'sort:length'];

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-view-live-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, probe: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The groups with members: key, step, and their members' lines. */
function groupsOf(set: RolloutView): [string, number | null, string][] {
  const out: [string, number | null, string][] = [];
  for (let g = 0; g < set.index.groups.count; g++) {
    const info = set.group(g);
    if (info.size === 0) continue;
    out.push([info.key, info.step, Array.from(set.index.groupRows(g), (r) => `${set.index.line.data[r]}`).join(',')]);
  }
  return out;
}

/** Everything a viewer can see of a set, under each filter. */
async function snapshot(set: RolloutView): Promise<unknown> {
  const out: Record<string, unknown> = { groups: groupsOf(set), bad: set.badLines.map((b) => `${b.line}`) };
  for (const text of FILTERS) {
    for (const order of ['file', 'newest'] as const) {
      const n = await set.applyFilter({ text, flags: [], order });
      out[`${text}|${order}`] = await set.rows(0, n);
    }
  }
  await set.applyFilter({ text: '', flags: [] });
  return out;
}

async function recordsOf(path: string): Promise<{ items: LocatedRecord[]; bad: number }> {
  const items: LocatedRecord[] = [];
  const r = await readRollouts(path, (record, loc) => items.push({ record, loc }));
  return { items, bad: r.badLines.length };
}

test('appending in random batches, with a filter in force, equals loading all at once (seeded)', async () => {
  const rnd = seededRandom(5);
  for (let round = 0; round < 6; round++) {
    const path = join(dir, `batches-${round}.jsonl`);
    writeFileSync(path, randomFile(100 + round, 400).text);
    const whole = await RolloutView.load([path], OPTS);
    const { items } = await recordsOf(path);
    for (const text of FILTERS) {
      const grown = new RolloutView(OPTS);
      // Every other round through the spill file (how a non-native source is kept), else read back from the file.
      grown.readBack = round % 2 === 0;
      await grown.applyFilter({ text, flags: [] });
      for (let i = 0; i < items.length; ) {
        const n = 1 + Math.floor(rnd() * 37);
        grown.append(items.slice(i, i + n));
        grown.settle();
        i += n;
      }
      const expectedCount = await whole.applyFilter({ text, flags: [] });
      assert.equal(grown.filteredCount, expectedCount, `filter "${text}" kept up while growing`);
      assert.deepEqual(await grown.rows(0, expectedCount), await whole.rows(0, expectedCount), `rows under "${text}"`);
      for (let g = 0; g < whole.groupCount; g++) assert.deepEqual(grown.scoreOf(g), whole.scoreOf(g), `score of group ${g}`);
      await grown.close();
    }
    await whole.applyFilter({ text: '', flags: [] });
    await whole.close();
  }
});

test('settle reports new groups, groups that grew, and reorders when a growing group leaves the filter', async () => {
  const rec = (group: string, reward: number): LocatedRecord => ({ record: { v: 1, step: 1, group, completion: 'x', reward }, loc: { file: 'f', line: 1 } });
  const set = new RolloutView(OPTS);
  await set.applyFilter({ text: 'zero_variance', flags: [] });
  set.append([rec('a', 1), rec('a', 1), rec('b', 0)]);
  assert.deepEqual(set.settle(), { added: 2, grew: [], reordered: false, touched: [0, 1] });
  assert.deepEqual((await set.rows(0, 10)).map((r) => r.key), ['a']);
  set.append([rec('a', 0), rec('b', 0)]);
  assert.deepEqual(set.settle(), { added: 0, grew: ['a', 'b'], reordered: true, touched: [0, 1] });
  assert.deepEqual((await set.rows(0, 10)).map((r) => r.key), ['b'], 'a has variance now; b joined');
  await set.close();
});

test('LiveRollouts follows a file written at random chunk boundaries, coalesces updates, and starts over on truncation', async () => {
  const rnd = seededRandom(9);
  const path = join(dir, 'live.jsonl');
  // A follower holds an unfinished last line until its newline comes: end with one.
  const text = randomFile(7, 600).text.replace(/\n?$/, '\n');
  const bytes = Buffer.from(text, 'utf8');
  // What exists before the viewer opens: a prefix cut anywhere (mid-line, mid-UTF-8).
  let written = Math.floor(bytes.length / 3);
  writeFileSync(path, bytes.subarray(0, written));
  const updates: (LiveUpdate & { at: number })[] = [];
  const live = new LiveRollouts(path, OPTS, (u) => updates.push({ ...u, at: Date.now() }), { intervalMs: 100, follow: { polling: true, pollMs: 15 } });
  await live.start();
  try {
    await followAndTruncate();
  } finally {
    await live.close();
  }
  async function followAndTruncate(): Promise<void> {
    const started = Date.now();
    while (written < bytes.length) {
      const n = 1 + Math.floor(rnd() * 900);
      appendFileSync(path, bytes.subarray(written, written + n));
      written += n;
      await new Promise((r) => setTimeout(r, rnd() * 8));
    }
    const { items, bad } = await recordsOf(path);
    await until('every record', () => live.set.completionCount === items.length && live.set.badLines.length === bad);
    await until('the last update', () => updates.at(-1)!.at >= Date.now() - 150 || live.status().loading === false);
    const whole = await RolloutView.load([path], OPTS);
    assert.deepEqual(await snapshot(live.set), await snapshot(whole), 'the followed set equals a whole read');
    await whole.close();
    assert.ok(updates.some((u) => u.grew.size > 0), 'records joined groups that already existed');
    // Coalesced: never two updates closer than the interval (a little timer slack allowed).
    for (let i = 1; i < updates.length; i++) assert.ok(updates[i]!.at - updates[i - 1]!.at >= 90, `updates ${i - 1} and ${i} are ${updates[i]!.at - updates[i - 1]!.at} ms apart`);
    assert.ok(updates.length <= (Date.now() - started) / 90 + 2, `${updates.length} updates`);
    assert.equal(live.status().loading, false);

    // Truncation: the file is rewritten shorter; the set starts over with what it holds now.
    const before = updates.length;
    truncateSync(path, 0);
    const fresh = randomFile(8, 30).text.replace(/\n?$/, '\n');
    writeFileSync(path, fresh);
    const after = await recordsOf(path);
    await until('the rewritten file', () => live.set.completionCount === after.items.length && updates.slice(before).some((u) => u.replaced));
    const rewritten = await RolloutView.load([path], OPTS);
    assert.deepEqual(await snapshot(live.set), await snapshot(rewritten), 'after truncation the set is the new content');
    await rewritten.close();
  }
});

test('LiveRollouts follows a verl folder: per-step files appearing later add their groups', async () => {
  const root = join(dir, 'verl');
  mkdirSync(root);
  const row = (step: number, sample: number, k: number): string =>
    JSON.stringify({ input: `prompt ${step}/${sample}`, output: `<think>t</think> <answer>${k}</answer>`, gts: '1', score: k, step }) + '\n';
  writeFileSync(join(root, '1.jsonl'), row(1, 0, 0) + row(1, 0, 1));
  const live = new LiveRollouts(root, OPTS, () => undefined, { intervalMs: 30, follow: { pollMs: 30 } });
  await live.start();
  await until('step 1', () => live.set.completionCount === 2);
  assert.equal(live.format, 'verl');
  writeFileSync(join(root, '2.jsonl'), row(2, 0, 0) + row(2, 1, 0));
  appendFileSync(join(root, '2.jsonl'), row(2, 1, 1));
  await until('step 2', () => live.set.completionCount === 5);
  assert.deepEqual(groupsOf(live.set).map(([, step, lines]) => [step, lines.split(',').length]), [[1, 2], [2, 1], [2, 2]]);
  assert.ok(live.set.index.bodies.every((b) => b.includes('grpo-studio-spill-')), 'verl records are read back from the spill file');
  assert.deepEqual(live.set.firstOfStep(2)?.ordinal, 1);
  await live.close();
});

test('LiveRollouts says when steps were inferred (VLM-R1 debug log)', async () => {
  const path = join(dir, 'debug.log');
  const block = (ms: number, reward: number) => [
    `------------- 22-10-11-12-${String(ms).padStart(6, '0')} Accuracy reward: ${reward} -------------`,
    'Image Path: /data/img.png',
    'Content: <think>x</think><answer>A</answer>',
    'Solution: <answer>A</answer>',
    '',
  ].join('\n');
  writeFileSync(path, block(1000, 1) + '\n' + block(2000, 0) + '\n');
  const live = new LiveRollouts(path, OPTS, () => undefined, { intervalMs: 30, follow: { pollMs: 30, blockIdleMs: 50 } });
  await live.start();
  await until('two blocks', () => live.set.completionCount === 2);
  assert.equal(live.format, 'vlmr1');
  assert.equal(live.stepsInferred, true);
  await live.close();
});
