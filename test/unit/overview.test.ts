// The run overview's per-step numbers, read from the viewer's model (RolloutView and its index)
// as records arrive, against a brute-force computation over all records at once; records arrive
// in random batch splits (a group's completions often in different batches), with steps absent,
// written and derived group keys, and logged rewards. The index keeps rewards as 32-bit floats,
// so the brute force rounds each value as the index stores it; zero variance is the viewer's rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RolloutRecord } from '../../src/core/schema/record';
import type { VariantName } from '../../src/core/rewards/variants';
import { RunOverview } from '../../src/core/overview/runOverview';
import { LiveOverview, type OverviewUpdate } from '../../src/core/overview/liveOverview';
import type { StepSummary } from '../../src/core/overview/stepSummary';
import { LiveSources } from '../../src/viewer/liveSources';
import { assertClose, bruteForce, randomRecords, rng } from './overview-brute';

const OPTIONS = { variant: 'grounding', matching: 'seed' as const, minPixels: 3136, maxPixels: 3686400 };

test('per-step numbers equal a brute-force computation, whatever the batch splits', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(seed);
    const records = randomRecords(r, 150 + Math.floor(r() * 250));
    const variant: VariantName = (['grounding', 'scaleup', 'vsr', 'seed-llama'] as const)[seed % 4]!;
    const want = bruteForce(records, variant);
    const overview = new RunOverview({ ...OPTIONS, variant });
    const seen = new Map<number, StepSummary>();
    for (let i = 0; i < records.length; ) {
      const n = 1 + Math.floor(r() * 9);
      overview.add(records.slice(i, i + n));
      i += n;
      // Sometimes look in between: only what changed comes back, and it stays right.
      if (r() < 0.4) for (const s of overview.take()) seen.set(s.step, s);
    }
    for (const s of overview.take()) seen.set(s.step, s);
    assertClose([...seen.values()].sort((a, b) => a.step - b.step), want.steps, `seed ${seed}`);
    assertClose(overview.all(), want.steps, `seed ${seed} all`);
    assert.equal(overview.unstepped, want.unstepped);
    assert.ok(want.steps.some((s) => s.zeroVarianceGroups > 0), 'the data has zero-variance groups');
    if (variant === 'grounding' || variant === 'scaleup') assert.ok(want.steps.some((s) => s.iou !== null), 'the data has matched boxes');
    // The charts count exactly the groups the viewer's list flags, from the same model.
    const flagged = (await overview.view.rows(0, await overview.view.applyFilter({ text: '', flags: ['zero_variance'] }))).filter((g) => g.step !== null);
    assert.equal(overview.all().reduce((n, s) => n + s.zeroVarianceGroups, 0), flagged.length, `seed ${seed}: zero-variance groups`);
    await overview.close();
  }
});

test('take() returns only the steps touched since the last call', () => {
  const overview = new RunOverview(OPTIONS);
  const rec = (step: number, text: string): RolloutRecord => ({ v: 1, step, completion: text, group: `s${step}` });
  overview.add([rec(1, 'a'), rec(2, 'b')]);
  assert.deepEqual(overview.take().map((s) => s.step), [1, 2]);
  assert.deepEqual(overview.take(), []);
  overview.add([rec(2, 'ccc')]);
  const [two] = overview.take();
  assert.equal(two!.step, 2);
  assert.equal(two!.completions, 2);
  assert.equal(two!.groups, 1);
  assert.equal(two!.length.max, 3);
  assert.deepEqual(overview.all().map((s) => s.step), [1, 2]);
});

test('records without a step are counted, not charted', () => {
  const overview = new RunOverview(OPTIONS);
  overview.add([{ v: 1, completion: 'x' }, { v: 1, completion: 'y', step: 3 }]);
  assert.equal(overview.unstepped, 1);
  assert.deepEqual(overview.all().map((s) => s.step), [3]);
});

test('LiveOverview follows a growing file: coalesced updates carry only new steps; truncation recounts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'overview-'));
  const file = join(dir, 'run.rollouts.jsonl');
  const line = (step: number, i: number) => JSON.stringify({ v: 1, step, group: `${step}/0`, index: i, completion: `<think>t</think><answer>${i}</answer>`, solution: '<answer>0</answer>' }) + '\n';
  writeFileSync(file, line(0, 0) + line(0, 1) + line(1, 0));
  const updates: OverviewUpdate[] = [];
  const sources = new LiveSources({ follow: { polling: true, pollMs: 30 } });
  const lease = sources.acquire(file, OPTIONS);
  const live = new LiveOverview(lease.live, (u) => updates.push(u), { intervalMs: 50 });
  const until = async (pred: () => boolean) => {
    for (let t = 0; t < 200 && !pred(); t++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(pred(), 'timed out: ' + JSON.stringify(updates.map((u) => ({ reset: u.reset, reading: u.reading, steps: u.steps.map((s) => [s.step, s.completions]) }))));
  };
  try {
    await lease.started;
    await until(() => updates.some((u) => !u.reading));
    // A native file is listed from a scan, then scored: the steps it re-sends while the scores
    // fill in carry the same counts. Quiet for a few intervals, the first read is over.
    for (let n = -1; n !== updates.length; ) {
      n = updates.length;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(updates[0]!.reset, true);
    const first = updates.flatMap((u) => u.steps);
    assert.deepEqual([...new Map(first.map((s) => [s.step, s.completions]))], [[0, 2], [1, 1]]);
    updates.length = 0;
    appendFileSync(file, line(1, 1) + line(2, 0));
    await until(() => updates.some((u) => u.steps.some((s) => s.step === 2)));
    const grown = updates.flatMap((u) => u.steps);
    assert.deepEqual([...new Set(grown.map((s) => s.step))].sort(), [1, 2], 'step 0 did not change and is not sent again');
    assert.ok(updates.every((u) => !u.reset));
    assert.equal(grown.filter((s) => s.step === 1).at(-1)!.completions, 2);
    // A much shorter file: the run was restarted over it.
    updates.length = 0;
    writeFileSync(file, line(5, 0));
    // After the reset, the panel holds what the reset and the updates after it carried.
    const sinceReset = () => updates.slice(updates.findLastIndex((u) => u.reset)).flatMap((u) => u.steps.map((s) => s.step));
    await until(() => updates.some((u) => u.reset) && sinceReset().length > 0);
    assert.deepEqual(sinceReset(), [5]);
    assert.deepEqual(live.snapshot().steps.map((s) => s.step), [5]);
  } finally {
    await live.close();
    lease.release();
    await sources.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
