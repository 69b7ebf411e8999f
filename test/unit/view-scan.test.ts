/**
 * A native file opened by scanning (every group listed on the logged values at the index's
 * speed, then scored from the bodies read back) ends exactly where reading every record through
 * the follower ends; a follower started where the scan stopped continues it line for line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutView, type ScoreOptions } from '../../src/core/view/rolloutView';
import { followRollouts, type FollowBatch } from '../../src/core/ingest/follow';
import { randomFile } from './index-records';

const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 3686400 };
const FILTERS = ['', 'reward > 1', 'not zero_variance', 'mismatch', 'text ~ "car"', 'left', 'step > 2 sort:reward desc', 'sort:length'];

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-view-scan-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function snapshot(view: RolloutView): Promise<unknown> {
  const index = view.index;
  const groups: unknown[] = [];
  for (let g = 0; g < index.groups.count; g++) {
    const info = view.group(g);
    if (info.size) groups.push([info.key, info.step, Array.from(index.groupRows(g), (r) => index.line.data[r]).join(','), view.scoreOf(g)]);
  }
  const out: Record<string, unknown> = { groups, bad: view.badLines.map((b) => `${b.line}: ${b.error}`).sort(), completions: view.completionCount };
  for (const text of FILTERS) {
    const n = await view.applyFilter({ text, flags: [] });
    out[text] = await view.rows(0, n);
  }
  await view.applyFilter({ text: '', flags: [] });
  return out;
}

test('scan, then score from the bodies: the same groups, flags, rows and filters as reading every record (seeded)', async () => {
  for (const seed of [3, 4, 5]) {
    const path = join(dir, `scan-${seed}.jsonl`);
    // A followed file's unfinished last line waits for its newline (the scan holds it too): end with one.
    writeFileSync(path, randomFile(seed, 500).text.replace(/\n?$/, '\n'));
    const whole = await RolloutView.load([path], OPTS);
    const scanned = new RolloutView(OPTS);
    let ticks = 0;
    await scanned.scanNative(path, { onProgress: () => ticks++ });
    assert.ok(ticks > 0);
    // Listed before scoring, on the logged values: every group, and a logged-value filter already
    // answers. The scan does not validate every field: a line only the full parse rejects is
    // listed until it is read back, so the counts may differ by those lines, no more.
    const slack = whole.badLines.length - scanned.badLines.length;
    assert.ok(slack >= 0 && scanned.groupCount >= whole.groupCount && scanned.groupCount - whole.groupCount <= slack, `seed ${seed}: ${scanned.groupCount} groups listed by the scan, ${whole.groupCount} read`);
    const hits = await scanned.applyFilter({ text: 'reward > 1', flags: [] });
    assert.ok(Math.abs(hits - (await whole.applyFilter({ text: 'reward > 1', flags: [] }))) <= slack);
    assert.ok(scanned.unscoredCount > 0);
    let batches = 0;
    await scanned.scoreScanned({ onBatch: () => batches++ });
    assert.equal(scanned.unscoredCount, 0);
    assert.ok(batches > 0);
    assert.deepEqual(await snapshot(scanned), await snapshot(whole), `seed ${seed}`);
    await scanned.close();
    await whole.close();
  }
});

test('a follower started where the scan stopped continues it: appended lines join as if read from the start', async () => {
  const path = join(dir, 'resume.jsonl');
  const full = randomFile(11, 400).text.replace(/\n?$/, '\n');
  const cut = full.indexOf('\n', Math.floor(full.length / 2)) + 1;
  // The scan sees a file ending in half a line: it stops before it.
  const half = Math.floor((cut + full.indexOf('\n', cut)) / 2);
  writeFileSync(path, full.slice(0, half));
  const view = new RolloutView(OPTS);
  const at = await view.scanNative(path);
  assert.equal(at.offset, Buffer.byteLength(full.slice(0, cut)));
  await view.scoreScanned();
  let seen = 0;
  const follower = await followRollouts(path, (b: FollowBatch) => {
    view.append(b.records, b.badLines);
    view.settle();
    seen += b.records.length + b.badLines.length;
  }, { format: 'native', polling: true, pollMs: 20, startAt: new Map([[path, at]]) });
  appendFileSync(path, full.slice(half));
  const whole = await RolloutView.load([path], OPTS);
  const deadline = Date.now() + 10_000;
  while (view.completionCount < whole.completionCount && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await follower.close();
  assert.ok(seen > 0);
  assert.deepEqual(await snapshot(view), await snapshot(whole));
  await view.close();
  await whole.close();
});
