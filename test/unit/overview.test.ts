// The run overview's per-step numbers, incrementally built, against a brute-force computation
// over all records at once; records arrive in random batch splits (a group's completions often
// in different batches), with steps absent, written and derived group keys, and logged rewards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RolloutRecord } from '../../src/core/schema/record';
import { completionText } from '../../src/core/schema/record';
import { groupRecords } from '../../src/core/rollouts/groups';
import { scoreRecord, type VariantName } from '../../src/core/rewards/variants';
import { RunOverview } from '../../src/core/overview/runOverview';
import { LiveOverview, type OverviewUpdate } from '../../src/core/overview/liveOverview';
import type { Spread, StepSummary } from '../../src/core/overview/stepSummary';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LABELS = ['dog', 'car', 'bus'];

function randomRecords(r: () => number, count: number): RolloutRecord[] {
  const out: RolloutRecord[] = [];
  let step = 0;
  while (out.length < count) {
    if (r() < 0.3) step += 1 + Math.floor(r() * 3);
    const noStep = r() < 0.08;
    const written = r() < 0.5;
    const size = 1 + Math.floor(r() * 5);
    const prompt = `q${Math.floor(r() * 1000)}`;
    const gold = [20 + Math.floor(r() * 50), 20 + Math.floor(r() * 50)];
    const label = LABELS[Math.floor(r() * LABELS.length)]!;
    const answer = r() < 0.5 ? 'A' : 'B';
    const solution = `<think>[${gold[0]},${gold[1]},${gold[0]! + 40},${gold[1]! + 40} ${label}]</think><answer>${answer}</answer>`;
    const same = r() < 0.2; // a group whose completions are all identical: zero variance
    const shared = same ? completion(r, gold, label) : '';
    for (let i = 0; i < size; i++) {
      const rec: RolloutRecord = { v: 1, completion: same ? shared : completion(r, gold, label), prompt: { text: prompt }, solution, index: i };
      if (!noStep) rec.step = step;
      if (written) rec.group = `g${out.length}-${prompt}`;
      if (r() < 0.6) rec.rewards = { accuracy: Math.round(r() * 2) / 2, format: r() < 0.5 ? 0.5 : 0 };
      if (r() < 0.3) rec.reward = r() * 3;
      out.push(rec);
    }
  }
  return out;
}

function completion(r: () => number, gold: number[], label: string): string {
  const j = () => Math.floor((r() - 0.5) * 30);
  const box = `[${gold[0]! + j()},${gold[1]! + j()},${gold[0]! + 40 + j()},${gold[1]! + 40 + j()} ${r() < 0.8 ? label : 'cat'}]`;
  const think = r() < 0.7 ? `I see ${box} here é${'x'.repeat(Math.floor(r() * 40))}` : 'no boxes';
  const answer = r() < 0.5 ? 'A' : 'B';
  return r() < 0.8 ? `<think>${think}</think><answer>${answer}</answer>` : `${think} so ${answer}`;
}

const spread = (xs: number[]): Spread => {
  const n = xs.length;
  const mean = n ? xs.reduce((a, b) => a + b, 0) / n : 0;
  const std = n < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  return { n, mean, std };
};

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

/** Everything at once, the obvious way. */
function bruteForce(records: RolloutRecord[], variant: VariantName): { steps: StepSummary[]; unstepped: number } {
  const groups = groupRecords(records.map((record, i) => ({ record, loc: { line: i + 1 } as never })));
  const byStep = new Map<number, { recs: RolloutRecord[]; groupTotals: number[][] }>();
  let unstepped = 0;
  for (const g of groups) {
    const step = g.items[0]!.record.step;
    if (step === undefined) {
      unstepped += g.items.length;
      continue;
    }
    let s = byStep.get(step);
    if (!s) byStep.set(step, (s = { recs: [], groupTotals: [] }));
    s.recs.push(...g.items.map((i) => i.record));
    s.groupTotals.push(g.items.map((i) => scoreRecord(i.record, variant).reward));
  }
  const steps = [...byStep].sort(([a], [b]) => a - b).map(([step, s]): StepSummary => {
    const scores = s.recs.map((r) => scoreRecord(r, variant));
    const names = [...new Set(scores.flatMap((x) => Object.keys(x.rewards)))].sort();
    const loggedNames = [...new Set(s.recs.flatMap((r) => Object.keys(r.rewards ?? {})))].sort();
    const loggedTotals = s.recs.flatMap((r) => {
      if (r.reward !== undefined) return [r.reward];
      const ks = Object.keys(r.rewards ?? {}).sort();
      return ks.length ? [ks.reduce((a, k) => a + r.rewards![k]!, 0)] : [];
    });
    const lengths = s.recs.map((r) => Buffer.byteLength(completionText(r)));
    const ious = scores.flatMap((x) => x.boxes.ious.filter((_, k) => x.boxes.matched[k] !== null));
    const groupStds = s.groupTotals.map((t) => spread(t).std);
    return {
      step,
      completions: s.recs.length,
      groups: s.groupTotals.length,
      zeroVarianceGroups: s.groupTotals.filter((t) => t.length > 1 && t.every((x) => x === t[0])).length,
      groupStd: groupStds.reduce((a, b) => a + b, 0) / groupStds.length,
      total: spread(scores.map((x) => x.reward)),
      rewards: Object.fromEntries(names.map((n) => [n, spread(scores.map((x) => x.rewards[n as 'format']!))])),
      logged: {
        total: loggedTotals.length ? spread(loggedTotals) : null,
        rewards: Object.fromEntries(loggedNames.map((n) => [n, spread(s.recs.flatMap((r) => (r.rewards?.[n] !== undefined ? [r.rewards[n]!] : [])))])),
      },
      formatFailures: scores.filter((x) => x.rewards.format === 0).length,
      length: { mean: lengths.reduce((a, b) => a + b, 0) / lengths.length, p90: quantile(lengths, 0.9), max: Math.max(...lengths) },
      iou: ious.length ? { n: ious.length, p10: quantile(ious, 0.1), p50: quantile(ious, 0.5), p90: quantile(ious, 0.9) } : null,
    };
  });
  return { steps, unstepped };
}

/** Deep equality with a tolerance for floating-point sums taken in another order. */
function assertClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', path);
    assert.ok(Math.abs((actual as number) - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${path}: ${actual} vs ${expected}`);
    return;
  }
  if (expected === null || typeof expected !== 'object') {
    assert.equal(actual, expected, path);
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object', path);
  assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path} keys`);
  for (const k of Object.keys(expected)) assertClose((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`);
}

const OPTIONS = { variant: 'grounding', matching: 'seed' as const, minPixels: 3136, maxPixels: 3686400 };

test('per-step numbers equal a brute-force computation, whatever the batch splits', () => {
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
  const live = new LiveOverview(file, OPTIONS, (u) => updates.push(u), { intervalMs: 50, follow: { polling: true, pollMs: 30 } });
  const until = async (pred: () => boolean) => {
    for (let t = 0; t < 200 && !pred(); t++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(pred(), 'timed out: ' + JSON.stringify(updates.map((u) => ({ reset: u.reset, reading: u.reading, steps: u.steps.map((s) => [s.step, s.completions]) }))));
  };
  try {
    await live.start();
    await until(() => updates.some((u) => !u.reading));
    assert.equal(updates[0]!.reset, true);
    const first = updates.flatMap((u) => u.steps);
    assert.deepEqual(first.map((s) => [s.step, s.completions]), [[0, 2], [1, 1]]);
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
    rmSync(dir, { recursive: true, force: true });
  }
});
