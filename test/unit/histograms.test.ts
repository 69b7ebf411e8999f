/**
 * The viewer's reward histograms (src/core/view/histograms.ts): every bar's counts equal an
 * independent count over the records as written (the clause's numbers rounded to float32, as
 * docs/query.md says a query rounds them), and every bar's clause, run through the viewer's own
 * filter path, selects exactly the bar's completions and groups — on a generated native file
 * (scanned as the viewer opens one) and on non-native sources (a TRL run, a verl folder).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutView, type ScoreOptions } from '../../src/core/view/rolloutView';
import { andClause, computeHistograms, float32Text, type HistogramSet } from '../../src/core/view/histograms';
import { openSource } from '../../src/core/ingest/source';
import type { LocatedRecord } from '../../src/core/ingest/types';
import type { RolloutRecord } from '../../src/core/schema/record';
import type { RowFilter } from '../../src/core/view/types';
import { benchLine } from '../../bench/generate';
import { seededRandom } from './index-records';
import { scoreRecord, type RewardName } from '../../src/core/rewards/variants';

const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 12845056 };
const FIXTURES = join(__dirname, '../fixtures/trainers');

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-histograms-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A record's value of a column as written (the total: `reward`, else the sum of the rewards), or undefined. */
function valueOf(rec: RolloutRecord, column: string): number | undefined {
  if (column === 'advantage') return rec.advantage ?? undefined;
  // Recomputed: the reward functions applied to the record here, not read from the index.
  if (column === 'score') return scoreRecord(rec, 'grounding', OPTS).reward;
  if (column.startsWith('score.')) return scoreRecord(rec, 'grounding', OPTS).rewards[column.slice('score.'.length) as RewardName];
  if (column === 'reward') {
    if (rec.reward !== undefined && rec.reward !== null) return rec.reward;
    const vs = Object.values(rec.rewards ?? {});
    return vs.length ? vs.reduce((a, b) => a + b, 0) : undefined;
  }
  return rec.rewards?.[column.slice('reward.'.length)];
}

/** Does the clause hold for `v`? Read from its text alone: `c >= a and c < b`, `c >= a and c <= b`, `c == a`; literals and values rounded to float32. */
function clauseHolds(clause: string, v: number): boolean {
  const x = Math.fround(v);
  const eq = /^\S+ == (\S+)$/.exec(clause);
  if (eq) return x === Math.fround(Number(eq[1]));
  const m = /^\S+ >= (\S+) and \S+ (<=|<) (\S+)$/.exec(clause);
  assert.ok(m, `clause shape: ${clause}`);
  const [lo, hi] = [Math.fround(Number(m[1])), Math.fround(Number(m[3]))];
  return x >= lo && (m[2] === '<' ? x < hi : x <= hi);
}

/** The viewer's filtered list: completions (matching rows of listed groups) and groups. */
function listed(view: RolloutView): { completions: Set<number>; groups: number } {
  const groups = view.listedGroups();
  return { completions: new Set(groups.flatMap((g) => Array.from(view.matchingRows(g)))), groups: groups.length };
}

/**
 * Checks `set` (computed under `filter`) against the records, independently, and each bar's
 * `apply` text through the viewer's filter: the list it gives is the bar's completions and groups.
 */
async function checkAgainst(view: RolloutView, records: readonly RolloutRecord[], filter: RowFilter, set: HistogramSet, label: string): Promise<void> {
  const { completions: inFilter } = listed(view);
  assert.equal(set.total, records.length, `${label}: whole list`);
  assert.equal(set.filtered, inFilter.size, `${label}: filtered list`);
  assert.equal(set.filterText, filter.text);
  for (const h of set.histograms) {
    let missing = 0;
    let filteredMissing = 0;
    const counts = h.bars.map(() => 0);
    const filtered = h.bars.map(() => 0);
    records.forEach((rec, row) => {
      const v = valueOf(rec, h.column);
      if (v === undefined) {
        missing++;
        if (inFilter.has(row)) filteredMissing++;
        return;
      }
      const hits = h.bars.flatMap((b, k) => (clauseHolds(b.clause, v) ? [k] : []));
      assert.equal(hits.length, 1, `${label} ${h.column}: ${v} is in exactly one bar (${hits.map((k) => h.bars[k]!.label).join(', ')})`);
      counts[hits[0]!]!++;
      if (inFilter.has(row)) filtered[hits[0]!]!++;
    });
    assert.deepEqual(h.bars.map((b) => b.count), counts, `${label} ${h.column}: whole-list counts`);
    assert.deepEqual(h.bars.map((b) => b.filtered), filtered, `${label} ${h.column}: filtered counts`);
    assert.equal(h.missing, missing, `${label} ${h.column}: missing`);
    assert.equal(h.filteredMissing, filteredMissing, `${label} ${h.column}: filtered missing`);
    for (const b of h.bars) {
      const n = await view.applyFilter({ ...filter, text: b.apply });
      assert.equal(view.filterProblem, null, `${label}: ${b.apply}: ${view.filterProblem?.message}`);
      const after = listed(view);
      assert.equal(after.completions.size, b.filtered, `${label}: ${b.apply} lists the bar's completions`);
      assert.equal(n, b.filteredGroups, `${label}: ${b.apply} lists the bar's groups`);
      for (const r of after.completions) assert.ok(inFilter.has(r) && clauseHolds(b.clause, valueOf(records[r]!, h.column)!), `${label}: row ${r} is in the bar`);
    }
  }
  await view.applyFilter(filter);
}

test('float32 literals and AND-ing a clause onto the filter in force', () => {
  for (const v of [0, 0.1, 0.2, 0.3, 1 / 3, -0.5, 1e-7, 123456.789, 3.4e38, -2.5e-12]) {
    const f = Math.fround(v);
    const t = float32Text(f);
    assert.equal(Math.fround(Number(t)), f, `${v} → ${t}`);
    assert.ok(t.length <= 14, t);
  }
  assert.equal(float32Text(Math.fround(0.2)), '0.2');
  const c = 'reward.bbox >= 0.2 and reward.bbox < 0.3';
  assert.equal(andClause('', c), c);
  assert.equal(andClause('   ', c), c);
  assert.equal(andClause('step > 1 or zero_variance', c), `(step > 1 or zero_variance) and ${c}`);
  assert.equal(andClause('step > 1 sort:reward desc', c), `(step > 1) and ${c} sort:reward desc`);
  assert.equal(andClause('sort:advantage', c), `${c} sort:advantage`);
  assert.equal(andClause('Left/Of the car.', c), `text ~ /left\\/of the car\\./i and ${c}`);
});

test('a generated native file, scanned and scored as the viewer opens it: bars equal an independent count, clauses select exactly the bars', { timeout: 120_000 }, async () => {
  const rnd = seededRandom(41);
  const path = join(dir, 'bench.rollouts.jsonl');
  const lines = Array.from({ length: 3000 }, (_, n) => benchLine(n, rnd));
  writeFileSync(path, lines.join('\n') + '\n');
  const records = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RolloutRecord);
  const view = new RolloutView(OPTS);
  await view.scanNative(path);
  await view.scoreScanned();
  try {
    const set = computeHistograms(view);
    assert.deepEqual(set.histograms.map((h) => [h.column, h.kind]), [
      ['reward', 'range'], ['reward.accuracy', 'values'], ['reward.format', 'values'], ['reward.bbox', 'range'],
      ['score', 'range'], ['score.accuracy', 'values'], ['score.format', 'values'], ['score.bbox', 'range'], ['advantage', 'range'],
    ]);
    const bbox = set.histograms.find((h) => h.column === 'reward.bbox')!;
    assert.deepEqual(bbox.bars.map((b) => b.label), ['[0, 0.1)', '[0.1, 0.2)', '[0.2, 0.3)', '[0.3, 0.4)', '[0.4, 0.5)', '[0.5, 0.6)', '[0.6, 0.7)', '[0.7, 0.8)', '[0.8, 0.9)', '[0.9, 1]']);
    assert.equal(bbox.bars[2]!.clause, 'reward.bbox >= 0.2 and reward.bbox < 0.3');
    assert.equal(bbox.bars[9]!.clause, 'reward.bbox >= 0.9 and reward.bbox <= 1');
    // Values on the edges exist (0.001 steps): the float32 rounding is what puts them in the upper bar.
    assert.ok(records.filter((r) => r.rewards?.bbox === 0.3).length > 0, 'some bbox is exactly 0.3');
    assert.deepEqual(set.histograms.find((h) => h.column === 'reward.format')!.bars.map((b) => b.clause), ['reward.format == 0', 'reward.format == 0.5']);
    const adv = set.histograms.find((h) => h.column === 'advantage')!;
    assert.ok(adv.bars[0]!.lo < 0 && /^advantage >= -\d/.test(adv.bars[0]!.clause), adv.bars[0]!.clause);
    assert.ok(set.histograms.every((h) => h.bars.length <= 12 && h.bars.every((b) => b.filtered === b.count)), 'no filter: filtered = whole');
    await checkAgainst(view, records, { text: '', flags: [] }, set, 'native, unfiltered');

    for (const filter of [
      { text: 'step < 3 sort:reward desc', flags: [] },
      { text: 'HELMET', flags: [] },
      { text: 'reward.accuracy == 1 or advantage < -1', flags: [], order: 'newest' as const },
    ]) {
      await view.applyFilter(filter);
      assert.equal(view.filterProblem, null);
      const f = computeHistograms(view);
      assert.ok(f.filtered > 0 && f.filtered < f.total, `${filter.text}: some completions (${f.filtered} of ${f.total})`);
      await checkAgainst(view, records, filter, f, `native, ${filter.text}`);
    }
    // A filter that does not parse keeps the last that worked: the bars build on that one.
    await view.applyFilter({ text: 'step < 3', flags: [] });
    await view.applyFilter({ text: 'step < ', flags: [] });
    assert.ok(view.filterProblem);
    assert.equal(computeHistograms(view).histograms[0]!.bars[0]!.apply.startsWith('(step < 3) and reward >= '), true);
  } finally {
    await view.close();
  }
});

/** A non-native source fed to the view as the viewer's follower feeds it, in batches. */
async function sourceView(source: string): Promise<{ view: RolloutView; records: RolloutRecord[] }> {
  const items: LocatedRecord[] = [];
  await (await openSource(source)).read((record, loc) => items.push({ record, loc }));
  const view = new RolloutView(OPTS);
  for (let k = 0; k < items.length; k += 5) {
    view.append(items.slice(k, k + 5));
    view.settle();
  }
  return { view, records: items.map((i) => i.record) };
}

test('non-native sources (a TRL run, a verl folder): bars equal an independent count, clauses select exactly the bars', { timeout: 120_000 }, async () => {
  for (const [name, source, want] of [
    ['trl', join(FIXTURES, 'trl/plain'), ['reward', 'reward.accuracy_reward', 'reward.format_reward', 'score', 'score.accuracy', 'score.format', 'score.bbox', 'advantage']],
    ['verl', join(FIXTURES, 'verl/rollout'), ['reward', 'score', 'score.accuracy', 'score.format', 'score.bbox']],
  ] as const) {
    const { view, records } = await sourceView(source);
    try {
      assert.ok(records.length >= 32, `${name}: ${records.length} records`);
      const set = computeHistograms(view);
      assert.deepEqual(set.histograms.map((h) => h.column), want, name);
      await checkAgainst(view, records, { text: '', flags: [] }, set, name);
      // Flags are part of the filtered list: a bar's click keeps them.
      for (const filter of [{ text: 'step >= 2', flags: [] }, { text: '', flags: ['zero_variance' as const] }, { text: 'index > 0', flags: ['format_failure' as const] }]) {
        await view.applyFilter(filter);
        const f = computeHistograms(view);
        if (f.filtered === 0) continue;
        await checkAgainst(view, records, filter, f, `${name}, ${filter.text} [${filter.flags.join()}]`);
      }
    } finally {
      await view.close();
    }
  }
});

test('few distinct values get a bar each; a range histogram has at most `bins` bars and never drops a value', async () => {
  const path = join(dir, 'mixed.rollouts.jsonl');
  const rnd = seededRandom(7);
  const lines: string[] = [];
  for (let n = 0; n < 400; n++) {
    const g = Math.floor(n / 4);
    const rewards: Record<string, number> = { format: n % 3 === 0 ? 1 : 0, tiny: 1000 + Math.fround(rnd() * 1e-3), 'odd/name': 1 };
    lines.push(JSON.stringify({ v: 1, step: Math.floor(g / 10), group: `${g}`, index: n % 4, completion: '<think>a</think> <answer>A</answer>', rewards, ...(n % 5 ? { advantage: rnd() * 1e-6 } : {}) }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
  const records = lines.map((l) => JSON.parse(l) as RolloutRecord);
  const view = await RolloutView.load([path], OPTS);
  try {
    const set = computeHistograms(view, { bins: 8 });
    assert.deepEqual(set.unfilterable, ['odd/name'], 'a name the query cannot spell has no histogram');
    assert.deepEqual(set.histograms.map((h) => [h.column, h.kind]), [['reward', 'range'], ['reward.format', 'values'], ['reward.tiny', 'range'], ['score', 'values'], ['score.accuracy', 'values'], ['score.format', 'values'], ['score.bbox', 'values'], ['advantage', 'range']]);
    const adv = set.histograms.find((h) => h.column === 'advantage')!;
    assert.equal(adv.missing, 80);
    for (const h of set.histograms) if (h.kind === 'range') assert.ok(h.bars.length >= 2 && h.bars.length <= 8, `${h.column}: ${h.bars.length} bars`);
    await checkAgainst(view, records, { text: '', flags: [] }, set, 'mixed');
  } finally {
    await view.close();
  }
});

test('protocol: requestHistograms and histograms are checked like every message', async () => {
  const { isHostMessage, isWebviewMessage } = await import('../../src/protocol/viewer');
  assert.equal(isWebviewMessage({ type: 'requestHistograms', open: true }), true);
  assert.equal(isWebviewMessage({ type: 'requestHistograms', open: 'yes' }), false);
  const path = join(dir, 'proto.rollouts.jsonl');
  writeFileSync(path, Array.from({ length: 64 }, (_, n) => benchLine(n, seededRandom(n))).join('\n') + '\n');
  const view = await RolloutView.load([path], OPTS);
  try {
    const set = computeHistograms(view);
    assert.equal(isHostMessage({ type: 'histograms', set: JSON.parse(JSON.stringify(set)) }), true);
    const broken = JSON.parse(JSON.stringify(set)) as { histograms: { bars: { clause: unknown }[] }[] };
    broken.histograms[0]!.bars[0]!.clause = { toString: 'x' };
    assert.equal(isHostMessage({ type: 'histograms', set: broken }), false);
    assert.equal(isHostMessage({ type: 'histograms', set: { ...set, unfilterable: [1] } }), false);
  } finally {
    await view.close();
  }
});
