import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutIndex } from '../../src/core/index/rolloutIndex';
import { runQuery } from '../../src/core/index/filter';
import { scoreIndex } from '../../src/core/index/score';
import { parseQuery } from '../../src/core/index/query';
import { RolloutSet, type ScoreOptions } from '../../src/core/view/rolloutSet';
import { readFilterText } from '../../src/core/view/recordQuery';
import { completionText } from '../../src/core/schema/record';
import type { VerdictView } from '../../src/protocol/viewer';
import { pick, randomLine, seededRandom } from './index-records';

// The index scores with the grounding variant's defaults; the viewer's options must equal them.
const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 12845056 };

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-view-query-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A random query as text, over the columns the random data has. */
function randomQuery(rnd: () => number, depth: number, groups: string[]): string {
  const r = rnd();
  if (depth > 0 && r < 0.35) return `(${randomQuery(rnd, depth - 1, groups)} ${pick(rnd, ['and', 'or', '&&', '||'])} ${randomQuery(rnd, depth - 1, groups)})`;
  if (depth > 0 && r < 0.45) return `not ${randomQuery(rnd, depth - 1, groups)}`;
  const t = rnd();
  if (t < 0.45) {
    const column = pick(rnd, ['step', 'index', 'reward', 'advantage', 'length', 'line', 'reward.accuracy', 'reward.format', 'reward.bbox']);
    const value = pick(rnd, [0, 1, 2, 3, 10, 0.5, -0.3, 0.1, 25, 40, Math.round(rnd() * 30) / 10]);
    return `${column} ${pick(rnd, ['<', '<=', '>', '>=', '==', '!='])} ${value}`;
  }
  if (t < 0.6) return `${pick(rnd, ['format_ok', 'zero_variance', 'mismatch'])}${rnd() < 0.3 ? ' == false' : ''}`;
  if (t < 0.7) return `group ${pick(rnd, ['==', '!='])} ${JSON.stringify(pick(rnd, groups))}`;
  const pattern = rnd() < 0.6
    ? JSON.stringify(pick(rnd, ['café', '東京', 'a"quote', '<b>', 'x&y', 'motorcyclist left', '</think>', 'q1 ']))
    : String(pick(rnd, [/left\s+of/i, /^<think>/, /CAR/i, /\d\d/, /answer>B/]));
  return `${pick(rnd, ['text', 'completion', 'prompt'])} ~ ${pattern}`;
}

test('the viewer evaluates 300 random queries exactly as the index does, per completion and per group (seeded)', async () => {
  const rnd = seededRandom(91);
  const lines: string[] = [];
  for (let n = 0; lines.length < 1200; n++) {
    const l = randomLine(rnd, n);
    if (l.kind === 'good') lines.push(l.text);
  }
  for (let g = 0; g < 10; g++) {
    for (let k = 0; k < 4; k++) lines.splice(40 * g + k, 0, JSON.stringify({ group: `zv${g}`, step: g, completion: '<think>z</think><answer>A</answer>', reward: g % 2 ? 1 : k }));
  }
  const path = join(dir, 'q.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  const set = await RolloutSet.load([path], OPTS);
  const index = new RolloutIndex(path);
  await index.update();
  await scoreIndex(index, { variant: 'grounding' });
  assert.equal(index.count, set.completionCount, 'both read the same completions');
  assert.equal(set.badLines.length, 0);

  // Record i of the set is row i of the index (both in file order); its group in the set:
  const groupOf = new Int32Array(set.completionCount);
  set.groups.forEach((g, gi) => g.members.forEach((i) => (groupOf[i] = gi)));
  const groups = set.groups.slice(0, 30).map((g) => g.key).concat(['no-such-group']);
  let nonTrivial = 0;
  for (let q = 0; q < 300; q++) {
    const src = randomQuery(rnd, 3, groups);
    const node = parseQuery(src);
    const want = Array.from((await runQuery(index, src)).rows);
    const got = set.groups.flatMap((_, gi) => set.matchingMembers(gi, node)).sort((a, b) => a - b);
    assert.deepEqual(got, want, `per completion: ${src}`);
    // The list shows every group with at least one matching completion, in file order.
    const wantGroups = [...new Set(want.map((i) => groupOf[i]!))].sort((a, b) => a - b).map((gi) => set.groups[gi]!.key);
    const n = set.applyFilter({ text: src, flags: [] });
    assert.equal(set.filterProblem, null, src);
    assert.deepEqual(set.rows(0, n).map((r) => r.key), wantGroups, `groups: ${src}`);
    if (want.length > 0 && want.length < set.completionCount) nonTrivial++;
  }
  assert.ok(nonTrivial > 150, `most queries select some but not all completions (${nonTrivial})`);
  await index.close();
});

test('filter text: queries, plain words, and errors with their column that keep the list', async () => {
  assert.equal(readFilterText('').kind, 'none');
  assert.equal(readFilterText('reward.bbox < 0.3 and step > 100').kind, 'query');
  assert.equal(readFilterText('zero_variance').kind, 'query');
  assert.deepEqual(readFilterText('Left Of the car'), { kind: 'words', needle: 'left of the car' });
  assert.deepEqual(readFilterText('  step > '), { kind: 'error', message: 'expected a number after ">", got the end of the query (column 7)', column: 9 });
  const e = readFilterText('reward.bboxx < 1', new Set(['bbox', 'format']));
  assert.ok(e.kind === 'error' && /no reward function "bboxx" in these rollouts \(logged: bbox, format\)/.test(e.message) && e.column === 8);

  const path = join(dir, 'small.jsonl');
  const rec = (step: number, group: string, completion: string, reward: number) => JSON.stringify({ step, group, completion, reward, rewards: { bbox: reward } });
  writeFileSync(path, [
    rec(1, 'a', '<think>left of the car</think> <answer>A</answer>', 0.1),
    rec(1, 'a', '<think>right</think> <answer>B</answer>', 0.9),
    rec(2, 'b', 'no format at all', 0.5),
    rec(3, 'c', '<think>Car</think> <answer>C</answer>', 0.2),
  ].join('\n') + '\n');
  const set = await RolloutSet.load([path], OPTS);
  const keys = () => set.rows(0, 100).map((r) => r.key);
  assert.equal(set.applyFilter({ text: 'reward.bbox < 0.3', flags: [] }), 2);
  assert.deepEqual(keys(), ['a', 'c']);
  // Not a query: a case-insensitive substring of prompt or completion.
  assert.equal(set.applyFilter({ text: 'CAR', flags: [] }), 2);
  assert.equal(set.filterKind, 'words');
  // A broken query keeps the last list and says where.
  assert.equal(set.applyFilter({ text: 'step >', flags: [] }), 2);
  assert.deepEqual(keys(), ['a', 'c']);
  assert.equal(set.filterProblem?.column, 7);
  assert.equal(set.applyFilter({ text: 'not format_ok', flags: [] }), 1);
  assert.deepEqual(keys(), ['b']);
  assert.equal(set.filterProblem, null);
  assert.equal(set.applyFilter({ text: 'step >= 2', flags: [], order: 'newest' }), 2);
  assert.deepEqual(keys(), ['c', 'b']);
  assert.deepEqual(set.firstOfStep(2), { key: 'b', ordinal: 1 });
  assert.equal(set.ordinalOf('c'), 0);
  assert.equal(set.firstOfStep(1), undefined, 'step 1 is filtered out');
});

test('sort:<column> asc|desc orders groups by their matching completions\' values, absent last, ties in file order', async () => {
  const rnd = seededRandom(12);
  const lines: string[] = [];
  for (let n = 0; lines.length < 600; n++) {
    const l = randomLine(rnd, n);
    if (l.kind === 'good') lines.push(l.text);
  }
  const path = join(dir, 'sort.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  const set = await RolloutSet.load([path], OPTS);
  const value = (i: number, column: string): number => {
    const r = set.records[i]!.record;
    const v = column === 'step' ? r.step : column === 'length' ? Buffer.byteLength(completionText(r))
      : column === 'advantage' ? (r.advantage === undefined ? undefined : Math.fround(r.advantage))
      : r.rewards?.[column.slice('reward.'.length)] === undefined ? undefined : Math.fround(r.rewards[column.slice('reward.'.length)]!);
    return v ?? NaN;
  };
  for (const query of ['', 'step > 3', 'format_ok']) {
    for (const column of ['step', 'length', 'advantage', 'reward.bbox']) {
      for (const desc of [false, true]) {
        const n = set.applyFilter({ text: `${query} sort:${column}${desc ? ' desc' : rnd() < 0.5 ? ' asc' : ''}`, flags: [] });
        assert.equal(set.filterProblem, null);
        const node = query ? parseQuery(query) : null;
        const groups = set.groups.map((_, gi) => gi).filter((gi) => set.matchingMembers(gi, node).length > 0);
        const key = (gi: number): number => {
          const vs = set.matchingMembers(gi, node).map((i) => value(i, column)).filter((v) => !Number.isNaN(v));
          return vs.length ? (desc ? Math.max(...vs) : Math.min(...vs)) : NaN;
        };
        const want = groups.sort((a, b) => {
          const [x, y] = [key(a), key(b)];
          if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
          return x === y ? a - b : (x < y ? -1 : 1) * (desc ? -1 : 1);
        }).map((gi) => set.groups[gi]!.key);
        assert.deepEqual(set.rows(0, n).map((r) => r.key), want, `${query} sort:${column} ${desc ? 'desc' : 'asc'}`);
        assert.equal(set.ordinalOf(want[3]!), 3);
      }
    }
  }
  assert.deepEqual(readFilterText('step > 1 sort:colour'), { kind: 'error', message: 'cannot sort by "colour" (sort by step, index, reward, advantage, length, line, reward.<name>) (column 15)', column: 15 });
});

test('verdict and verdict_type in the viewer\'s filter: each state and type against the verdicts set, refused by the index', async () => {
  const states: Array<VerdictView | null> = [
    { aligns: true, type: null, why: 'ok', tier: 'rules' },
    { aligns: false, type: 'contradiction', why: 'no', tier: 'llm' },
    { aligns: false, type: 'missing_detail', why: 'no', tier: 'local' },
    { aligns: null, type: null, why: 'cannot tell', tier: 'local' },
    { aligns: null, type: null, why: '', tier: 'llm', failed: 'HTTP 500 after 4 tries' },
    null,
  ];
  // Group g holds two completions, both with verdict g (g = 0..5).
  const lines = states.flatMap((_, g) => [0, 1].map((k) => JSON.stringify({ group: `g${g}`, step: g, index: k, completion: `<think>t${g}</think> <answer>A</answer>` })));
  const path = join(dir, 'verdicts.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  const set = await RolloutSet.load([path], OPTS);
  set.setVerdicts((l) => states[Math.floor((l.line - 1) / 2)]!);
  const keys = (text: string) => {
    set.applyFilter({ text, flags: [] });
    return set.rows(0, 100).map((r) => r.key);
  };
  assert.deepEqual(keys('verdict == aligned'), ['g0']);
  assert.deepEqual(keys('verdict == "misaligned"'), ['g1', 'g2']);
  assert.deepEqual(keys('verdict == uncertain'), ['g3']);
  assert.deepEqual(keys('verdict == failed'), ['g4']);
  assert.deepEqual(keys('verdict == unjudged'), ['g5']);
  assert.deepEqual(keys('verdict != unjudged and not verdict == aligned'), ['g1', 'g2', 'g3', 'g4']);
  assert.deepEqual(keys('verdict_type == contradiction'), ['g1']);
  assert.deepEqual(keys('verdict_type != contradiction'), ['g2'], 'a verdict without a type matches no comparison');
  assert.deepEqual(keys('VERDICT_TYPE == Missing_Detail or step == 0'.toLowerCase()), ['g0', 'g2']);

  const bad = readFilterText('verdict == wrong');
  assert.equal(bad.kind, 'error');
  assert.match(bad.kind === 'error' ? bad.message : '', /"verdict" is one of aligned, misaligned, uncertain, failed, unjudged, got "wrong" \(column 12\)/);
  assert.equal(readFilterText('verdict < 1').kind, 'error');
  assert.throws(() => parseQuery('verdict == aligned'), /known only where judge verdicts are loaded \(the viewer\) \(column 1\)/);
});
