// One followed model per source: a viewer-side consumer and the Run Overview of one file or
// folder share one LiveRollouts (LiveSources, as the extension host holds them), the overview's
// zero-variance count is exactly the viewer's flagged groups (on trainers' own logged scores,
// where the recomputed totals say otherwise), a settings change rescores the source once and
// both redraw, and an overview opened after the viewer read the file still gets every box IoU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveOverview, type OverviewUpdate } from '../../src/core/overview/liveOverview';
import { LiveSources } from '../../src/viewer/liveSources';
import { LiveRollouts, type LiveUpdate } from '../../src/core/view/liveRollouts';
import type { FollowBatch } from '../../src/core/ingest/follow';
import type { RolloutRecord } from '../../src/core/schema/record';
import { GROUP_FLAG_BITS } from '../../src/core/index/score';
import { assertClose, bruteForce, randomRecords, rng } from './overview-brute';

const OPTS = { variant: 'grounding', matching: 'seed' as const, minPixels: 3136, maxPixels: 3686400 };
const FIXTURES = join(__dirname, '../fixtures/trainers');

async function until(what: string, pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Groups (with members) whose recomputed totals are all equal: what the overview counted before it read the viewer's flag. */
function recomputedFlat(live: LiveRollouts): number {
  const ix = live.set.index;
  let n = 0;
  for (let g = 0; g < ix.groups.count; g++) {
    const rows = ix.groupRows(g);
    if (rows.length > 1 && rows.every((r) => ix.scoredTotal.data[r] === ix.scoredTotal.data[rows[0]!])) n++;
  }
  return n;
}

for (const [name, folder] of [['verl', 'verl/rollout'], ['TRL', 'trl/ambiguous']] as const) {
  test(`a viewer and an overview of a ${name} folder run one follower; the overview counts the viewer's zero-variance groups`, async () => {
    const target = join(FIXTURES, folder);
    const sources = new LiveSources({ intervalMs: 20, follow: { pollMs: 30 } });
    const viewer = sources.acquire(target, OPTS, { list: true });
    const seen: LiveUpdate[] = [];
    const stop = viewer.live.subscribe((u) => seen.push(u));
    await viewer.started;
    await until('the first read', () => viewer.live.loaded);
    const overview = sources.acquire(join(target, '.'), OPTS);
    assert.equal(overview.live, viewer.live, 'the overview joins the viewer\'s source');
    assert.equal(sources.size, 1, 'one follower');
    // A second viewer of the same folder (a split editor) lists on its own model.
    const second = sources.acquire(target, OPTS, { list: true });
    assert.notEqual(second.live, viewer.live);
    assert.equal(sources.size, 2);
    second.release();
    second.release();
    assert.equal(sources.size, 1, 'released twice, counted once');

    const updates: OverviewUpdate[] = [];
    const chart = new LiveOverview(overview.live, (u) => updates.push(u), { intervalMs: 20 });
    await until('the overview\'s first read', () => updates.some((u) => !u.reading));
    const steps = chart.snapshot().steps;
    const zero = steps.reduce((n, s) => n + s.zeroVarianceGroups, 0);
    const set = viewer.live.set;
    const flagged = await set.applyFilter({ text: '', flags: ['zero_variance'] });
    assert.equal(zero, flagged, 'the zero-variance chart counts the groups the viewer flags');
    let bits = 0;
    for (let g = 0; g < set.index.groups.count; g++) if (set.index.groups.flags.data[g]! & GROUP_FLAG_BITS.zero_variance) bits++;
    assert.equal(zero, bits);
    assert.notEqual(zero, recomputedFlat(viewer.live), 'the logged totals differ from the recomputed ones here');
    assert.equal(steps.reduce((n, s) => n + s.completions, 0), set.completionCount);
    assert.equal(steps.reduce((n, s) => n + s.groups, 0), set.groupCount);
    assert.ok(seen.length > 0, 'the viewer-side consumer was told');

    stop();
    await chart.close();
    overview.release();
    assert.equal(sources.size, 1, 'the viewer still holds it');
    viewer.release();
    assert.equal(sources.size, 0, 'the last release closes the follower');
    await sources.close();
  });
}

function writeRandom(dir: string, seed: number, count: number) {
  const records = randomRecords(rng(seed), count);
  const file = join(dir, `run-${seed}.rollouts.jsonl`);
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { file, records };
}

test('a settings change rescores a shared source once; the viewer and the overview both redraw from it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'overview-shared-'));
  const sources = new LiveSources({ intervalMs: 20, follow: { pollMs: 30 } });
  try {
    const { file, records } = writeRandom(dir, 3, 300);
    const viewer = sources.acquire(file, OPTS, { list: true });
    const overview = sources.acquire(file, OPTS);
    const live = viewer.live;
    const told: LiveUpdate[] = [];
    let rescoring = 0;
    live.subscribe({ update: (u) => told.push(u), rescoring: () => rescoring++ });
    const updates: OverviewUpdate[] = [];
    const chart = new LiveOverview(overview.live, (u) => updates.push(u), { intervalMs: 20 });
    await until('the first read', () => live.loaded && live.set.completionCount === records.length && updates.some((u) => !u.reading));
    assertClose(chart.snapshot().steps, bruteForce(records, 'grounding').steps, 'grounding');

    let scored = 0;
    live.set.onScored(() => scored++);
    told.length = 0;
    updates.length = 0;
    await sources.rescoreAll({ ...OPTS, variant: 'scaleup' });
    assert.equal(rescoring, 1, 'one rescore for the source');
    assert.equal(scored, records.length, 'every row scored once');
    await until('both redrawn', () => told.some((u) => u.recount && u.replaced) && updates.some((u) => u.reset));
    const after = updates.find((u) => u.reset)!;
    assertClose(after.steps, bruteForce(records, 'scaleup').steps, 'scaleup');
    assert.equal(chart.overview.variant, 'scaleup');

    // A setting that changes no score (the box frame): drawn again, nothing rescored.
    scored = 0;
    told.length = 0;
    await sources.rescoreAll({ ...OPTS, variant: 'scaleup' });
    await until('a redraw', () => told.some((u) => u.replaced));
    assert.equal(scored, 0);
    assert.ok(told.every((u) => !u.recount));
    await chart.close();
    overview.release();
    viewer.release();
  } finally {
    await sources.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an overview opened after the viewer read the file gets every box IoU (the bodies read back once)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'overview-late-'));
  const sources = new LiveSources({ intervalMs: 20, follow: { pollMs: 30 } });
  try {
    const { file, records } = writeRandom(dir, 5, 400);
    const viewer = sources.acquire(file, OPTS, { list: true });
    await until('the viewer\'s read', () => viewer.live.loaded && viewer.live.set.completionCount === records.length);
    const overview = sources.acquire(file, OPTS);
    const updates: OverviewUpdate[] = [];
    const chart = new LiveOverview(overview.live, (u) => updates.push(u), { intervalMs: 20 });
    await until('the box IoUs', () => updates.some((u) => !u.reading) && !chart.overview.readingBoxes);
    const want = bruteForce(records, 'grounding');
    assert.ok(want.steps.some((s) => s.iou !== null), 'the data has matched boxes');
    assertClose(chart.snapshot().steps, want.steps, 'late overview');
    assert.equal(chart.snapshot().unstepped, want.unstepped);
    await chart.close();
    overview.release();
    viewer.release();
  } finally {
    await sources.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const batch = (b: Partial<FollowBatch>): FollowBatch => ({ records: [], badLines: [], metrics: [], events: [], notes: [], ...b });

/** Records with written group keys under `prefix` (a new group where `index` restarts), located in `file`. */
function located(records: RolloutRecord[], prefix: string, file: string) {
  let g = -1;
  return records.map((record, k) => {
    if (record.index === 0) g++;
    record.group = `${prefix}-${g}`;
    return { record, loc: { file, line: k + 1 } };
  });
}

test('a truncated file of a folder leaves the charts, its box IoUs too; the other file\'s rows stay', async () => {
  const live = new LiveRollouts('/runs/x', OPTS, undefined, { intervalMs: 5 });
  const updates: OverviewUpdate[] = [];
  const chart = new LiveOverview(live, (u) => updates.push(u), { intervalMs: 5 });
  try {
    const a = located(randomRecords(rng(11), 150), 'a', '/runs/x/a.jsonl');
    const b = located(randomRecords(rng(12), 150), 'b', '/runs/x/b.jsonl');
    live.take(batch({ records: a }));
    live.take(batch({ records: b }));
    await until('both files charted', () => updates.some((u) => u.steps.length > 0) && !chart.overview.readingBoxes);
    assertClose(chart.snapshot().steps, bruteForce([...a, ...b].map((x) => x.record), 'grounding').steps, 'a + b');
    // a.jsonl is rewritten shorter: its rows leave their groups, what it holds now comes in.
    const a2 = located(randomRecords(rng(13), 80), 'a2', '/runs/x/a.jsonl');
    updates.length = 0;
    live.take(batch({ events: [{ file: '/runs/x/a.jsonl', event: 'truncated' }], records: a2 }));
    await until('the recount', () => updates.some((u) => u.reset));
    const want = bruteForce([...b, ...a2].map((x) => x.record), 'grounding');
    assert.ok(want.steps.some((s) => s.iou !== null));
    assertClose(chart.snapshot().steps, want.steps, 'b + rewritten a');
    assert.equal(chart.snapshot().unstepped, want.unstepped);
  } finally {
    await chart.close();
    await live.close();
  }
});

test('an overview attached while a rescore runs counts every row once, under the new variant', async () => {
  const live = new LiveRollouts('/runs/y', OPTS, undefined, { intervalMs: 5 });
  const records = located(randomRecords(rng(21), 600), 'y', '/runs/y/a.jsonl');
  live.take(batch({ records }));
  const updates: OverviewUpdate[] = [];
  let chart: LiveOverview | undefined;
  // Attached once the rescore has begun reading the bodies back (the first await after its start).
  live.subscribe({ update: () => undefined, rescoring: () => queueMicrotask(() => {
    assert.equal(live.rescoring, true);
    chart = new LiveOverview(live, (u) => updates.push(u), { intervalMs: 5 });
  }) });
  const rescore = live.rescore({ ...OPTS, variant: 'scaleup' });
  await until('the overview attached', () => chart !== undefined, 5000);
  try {
    await rescore;
    await until('the IoUs read back', () => !live.rescoring && !chart!.overview.readingBoxes && updates.some((u) => u.reset));
    await new Promise((r) => setTimeout(r, 30));
    const want = bruteForce(records.map((x) => x.record), 'scaleup');
    assert.ok(want.steps.some((s) => s.iou !== null));
    assertClose(chart!.snapshot().steps, want.steps, 'scaleup');
  } finally {
    await chart?.close();
    await live.close();
  }
});
