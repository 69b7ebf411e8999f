/**
 * The Run Overview's numbers computed the obvious way, all records at once, for the overview
 * tests: random records (steps absent, written and derived group keys, logged rewards, boxes),
 * the brute force, and a deep comparison with a tolerance for sums taken in another order.
 */
import assert from 'node:assert/strict';
import type { RolloutRecord } from '../../src/core/schema/record';
import { completionText } from '../../src/core/schema/record';
import { groupRecords } from '../../src/core/rollouts/groups';
import { scoreRecord, type VariantName } from '../../src/core/rewards/variants';
import type { Spread, StepSummary } from '../../src/core/overview/stepSummary';

export function rng(seed: number): () => number {
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

export function randomRecords(r: () => number, count: number): RolloutRecord[] {
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

const f32 = Math.fround;

/** The logged total as the index keeps it: `reward`, else the sum of the logged functions (by name); undefined when neither. */
function loggedTotalOf(r: RolloutRecord): number | undefined {
  if (r.reward !== undefined) return f32(r.reward);
  const ks = Object.keys(r.rewards ?? {}).sort();
  return ks.length ? f32(ks.reduce((a, k) => a + r.rewards![k]!, 0)) : undefined;
}

/** The viewer's zero variance: ≥ 2 members, all totals equal: the logged ones when every member logged one, else the recomputed. */
function zeroVariance(recs: RolloutRecord[], scored: number[]): boolean {
  if (recs.length < 2) return false;
  const logged = recs.map(loggedTotalOf);
  const totals = logged.every((t) => t !== undefined) ? (logged as number[]) : scored;
  return totals.every((t) => t === totals[0]);
}

/** Everything at once, the obvious way. */
export function bruteForce(records: RolloutRecord[], variant: VariantName): { steps: StepSummary[]; unstepped: number } {
  const groups = groupRecords(records.map((record, i) => ({ record, loc: { line: i + 1 } as never })));
  const byStep = new Map<number, { recs: RolloutRecord[]; groupTotals: number[][]; zero: number }>();
  let unstepped = 0;
  for (const g of groups) {
    const step = g.items[0]!.record.step;
    if (step === undefined) {
      unstepped += g.items.length;
      continue;
    }
    let s = byStep.get(step);
    if (!s) byStep.set(step, (s = { recs: [], groupTotals: [], zero: 0 }));
    const recs = g.items.map((i) => i.record);
    const totals = recs.map((r) => f32(scoreRecord(r, variant).reward));
    s.recs.push(...recs);
    s.groupTotals.push(totals);
    if (zeroVariance(recs, totals)) s.zero++;
  }
  const steps = [...byStep].sort(([a], [b]) => a - b).map(([step, s]): StepSummary => {
    const scores = s.recs.map((r) => scoreRecord(r, variant));
    const names = [...new Set(scores.flatMap((x) => Object.keys(x.rewards)))].sort();
    const loggedNames = [...new Set(s.recs.flatMap((r) => Object.keys(r.rewards ?? {})))].sort();
    const loggedTotals = s.recs.flatMap((r) => {
      const t = loggedTotalOf(r);
      return t === undefined ? [] : [t];
    });
    const lengths = s.recs.map((r) => Buffer.byteLength(completionText(r)));
    const ious = scores.flatMap((x) => x.boxes.ious.filter((_, k) => x.boxes.matched[k] !== null));
    const groupStds = s.groupTotals.map((t) => spread(t).std);
    return {
      step,
      completions: s.recs.length,
      groups: s.groupTotals.length,
      zeroVarianceGroups: s.zero,
      groupStd: groupStds.reduce((a, b) => a + b, 0) / groupStds.length,
      total: spread(scores.map((x) => f32(x.reward))),
      rewards: Object.fromEntries(names.map((n) => [n, spread(scores.map((x) => f32(x.rewards[n as 'format']!)))])),
      logged: {
        total: loggedTotals.length ? spread(loggedTotals) : null,
        rewards: Object.fromEntries(loggedNames.map((n) => [n, spread(s.recs.flatMap((r) => (r.rewards?.[n] !== undefined ? [f32(r.rewards[n]!)] : [])))])),
      },
      formatFailures: scores.filter((x) => x.rewards.format === 0).length,
      length: { mean: lengths.reduce((a, b) => a + b, 0) / lengths.length, p90: quantile(lengths, 0.9), max: Math.max(...lengths) },
      iou: ious.length ? { n: ious.length, p10: quantile(ious, 0.1), p50: quantile(ious, 0.5), p90: quantile(ious, 0.9) } : null,
    };
  });
  return { steps, unstepped };
}

/** Deep equality with a tolerance for floating-point sums taken in another order. */
export function assertClose(actual: unknown, expected: unknown, path = ''): void {
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
