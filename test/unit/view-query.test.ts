/**
 * The viewer's filter (a RolloutView fed as the follower reads) and the CLI's `runQuery` over a
 * scanned index run one evaluator (src/core/index/filter.ts): both give the same completions
 * and groups for the same text, a non-native source answers `grpo-studio query` as its native
 * conversion does, and the view holds numbers and places, never records.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutIndex } from '../../src/core/index/rolloutIndex';
import { columnValue, runQuery } from '../../src/core/index/filter';
import { scoreIndex } from '../../src/core/index/score';
import { parseQuery, type NumericColumn } from '../../src/core/index/query';
import { followRollouts } from '../../src/core/ingest/follow';
import { openSource } from '../../src/core/ingest/source';
import type { LocatedRecord } from '../../src/core/ingest/types';
import { RolloutView, type ScoreOptions } from '../../src/core/view/rolloutView';
import { readFilterText } from '../../src/core/view/filterText';
import { completionText, recordToJSON, type RolloutRecord } from '../../src/core/schema/record';
import { command as queryCommand } from '../../src/cli/commands/query';
import type { VerdictView } from '../../src/protocol/viewer';
import { benchLine } from '../../bench/generate';
import { pick, randomLine, seededRandom } from './index-records';

// The index scores with the grounding variant's defaults; the viewer's options must equal them.
const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 12845056 };
const ROOT = join(__dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/trainers');

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
  if (t < 0.4) {
    const column = pick(rnd, ['step', 'index', 'reward', 'advantage', 'length', 'line', 'reward.accuracy', 'reward.format', 'reward.bbox']);
    const value = pick(rnd, [0, 1, 2, 3, 10, 0.5, -0.3, 0.1, 25, 40, Math.round(rnd() * 30) / 10]);
    return `${column} ${pick(rnd, ['<', '<=', '>', '>=', '==', '!='])} ${value}`;
  }
  if (t < 0.52) return `${pick(rnd, ['format_ok', 'zero_variance', 'mismatch'])}${rnd() < 0.3 ? ' == false' : ''}`;
  if (t < 0.6) return `group ${pick(rnd, ['==', '!='])} ${JSON.stringify(pick(rnd, groups))}`;
  if (t < 0.72) {
    return pick(rnd, ['meta.t == 1.5', 'meta.t > 1', 'meta.t != 1.5', 'meta.nested ~ "{"', 'meta.acc == true', 'meta.acc != 1',
      'meta.pred == "B"', 'meta.pred != "B"', 'meta.pred ~ /^b$/i', 'meta.pred ~ "A"']);
  }
  const pattern = rnd() < 0.6
    ? JSON.stringify(pick(rnd, ['café', '東京', 'a"quote', '<b>', 'x&y', 'motorcyclist left', '</think>', 'q1 ']))
    : String(pick(rnd, [/left\s+of/i, /^<think>/, /CAR/i, /\d\d/, /answer>B/]));
  return `${pick(rnd, ['text', 'completion', 'prompt'])} ~ ${pattern}`;
}

/** Random good lines, with zero-variance groups (and meta.acc / meta.pred) mixed in. */
function randomRollouts(seed: number, count: number): string[] {
  const rnd = seededRandom(seed);
  const lines: string[] = [];
  for (let n = 0; lines.length < count; n++) {
    const l = randomLine(rnd, n);
    if (l.kind === 'good') lines.push(l.text);
  }
  for (let g = 0; g < 10; g++) {
    for (let k = 0; k < 4; k++) {
      const meta = { acc: g % 3 === 0, pred: k % 2 ? 'B' : 'b' };
      lines.splice(40 * g + k, 0, JSON.stringify({ group: `zv${g}`, step: g, completion: '<think>z</think><answer>A</answer>', reward: g % 2 ? 1 : k, meta }));
    }
  }
  return lines;
}

/**
 * A view fed as the viewer's follower feeds it while a writer appends `text` to an empty file in
 * pieces that end anywhere (mid-line, mid-group): each batch is appended and settled as it comes.
 */
async function followedView(path: string, text: string, filter?: string): Promise<{ view: RolloutView; batches: number }> {
  const view = new RolloutView(OPTS);
  view.readBack = true;
  if (filter !== undefined) await view.applyFilter({ text: filter, flags: [] });
  writeFileSync(path, '');
  let batches = 0;
  const follower = await followRollouts(path, (b) => {
    view.append(b.records, b.badLines);
    view.settle();
    batches++;
  }, { format: 'native', chunkBytes: 8192, polling: true, pollMs: 10 });
  try {
    await follower.ready;
    const rnd = seededRandom(3);
    const buf = Buffer.from(text);
    for (let at = 0; at < buf.length;) {
      const end = Math.min(buf.length, at + 2000 + Math.floor(rnd() * 20000));
      appendFileSync(path, buf.subarray(at, end));
      at = end;
      const lines = buf.subarray(0, end).toString().split('\n').length - 1;
      const deadline = Date.now() + 10_000;
      while (view.completionCount < lines && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(view.completionCount, lines, `the follower caught up with ${end} bytes`);
    }
  } finally {
    await follower.close();
  }
  return { view, batches };
}

/** The groups a list shows for matching rows, in file order, or ordered as `sort:` orders them. */
function listOf(index: RolloutIndex, rows: ArrayLike<number>, sort?: { column: NumericColumn; descending: boolean }): string[] {
  const byGroup = new Map<number, number[]>();
  for (const r of Array.from(rows)) {
    const g = index.group.data[r]!;
    byGroup.set(g, [...(byGroup.get(g) ?? []), r]);
  }
  const groups = [...byGroup.keys()].sort((a, b) => a - b);
  if (sort) {
    const key = (g: number): number => {
      const vs = byGroup.get(g)!.map((r) => columnValue(index, sort.column, r)).filter((v) => !Number.isNaN(v));
      return vs.length ? (sort.descending ? Math.max(...vs) : Math.min(...vs)) : NaN;
    };
    groups.sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
      return x === y ? a - b : (x < y ? -1 : 1) * (sort.descending ? -1 : 1);
    });
  }
  return groups.map((g) => index.groups.keys[g]!);
}

// A body-term query with a sort, in force before the first record arrives: kept up to date as batches come.
const early = 'text ~ "café" or completion ~ /CAR/i or zero_variance sort:reward desc';

test('the viewer fed by the follower and runQuery over the scanned file give the same completions and groups for 300 random queries (seeded)', async () => {
  const text = randomRollouts(91, 1200).join('\n') + '\n';
  const path = join(dir, 'q.jsonl');
  const { view, batches } = await followedView(path, text, early);
  const index = new RolloutIndex(path);
  await index.update();
  await scoreIndex(index, { variant: 'grounding' });
  assert.ok(batches > 20, `the file came in many batches (${batches})`);
  assert.equal(view.completionCount, index.count, 'both read the same completions');
  assert.equal(view.badLines.length, 0);
  assert.equal(view.groupCount, index.groups.count);
  for (let r = 0; r < index.count; r++) {
    assert.equal(view.index.line.data[r], index.line.data[r], `row ${r} is the same line in both`);
    assert.equal(view.index.groups.keys[view.index.group.data[r]!], index.groups.keys[index.group.data[r]!], `row ${r}'s group`);
  }
  const streamed = Array.from((await runQuery(index, 'text ~ "café" or completion ~ /CAR/i or zero_variance')).rows);
  assert.deepEqual(Array.from(view.matchedRows()), streamed, 'the filter in force while the records arrived');
  assert.deepEqual((await view.rows(0, view.filteredCount)).map((r) => r.key), listOf(index, streamed, { column: 'reward', descending: true }));

  const rnd = seededRandom(17);
  const groups = index.groups.keys.slice(0, 30).concat(['no-such-group']);
  let nonTrivial = 0;
  let sorted = 0;
  const seen = new Set<string>();
  for (let q = 0; q < 300; q++) {
    const src = randomQuery(rnd, 3, groups);
    for (const t of ['text', 'meta', 'mismatch', 'zero_variance', 'format_ok', 'reward']) if (src.includes(t)) seen.add(t);
    const want = Array.from((await runQuery(index, src)).rows);
    const sort = rnd() < 0.25 ? { column: pick(rnd, ['step', 'length', 'advantage', 'reward', 'reward.bbox'] as const), descending: rnd() < 0.5 } : undefined;
    const text = sort ? `${src} sort:${sort.column}${sort.descending ? ' desc' : ''}` : src;
    const n = await view.applyFilter({ text, flags: [] });
    assert.equal(view.filterProblem, null, `${text}: ${view.filterProblem?.message}`);
    assert.deepEqual(Array.from(view.matchedRows()), want, `per completion: ${text}`);
    const listed = view.listedGroups();
    assert.deepEqual(listed.flatMap((g) => Array.from(view.matchingRows(g))).sort((a, b) => a - b), want, `matching rows of the listed groups: ${text}`);
    // The list shows every group with at least one matching completion, in file order or the sort's.
    assert.deepEqual((await view.rows(0, n)).map((r) => r.key), listOf(index, want, sort), `groups: ${text}`);
    if (sort) sorted++;
    if (want.length > 0 && want.length < view.completionCount) nonTrivial++;
  }
  assert.ok(nonTrivial > 150, `most queries select some but not all completions (${nonTrivial})`);
  assert.ok(sorted > 50, `some lists were sorted (${sorted})`);
  assert.deepEqual([...seen].sort(), ['format_ok', 'meta', 'mismatch', 'reward', 'text', 'zero_variance'], 'every kind of term was drawn');
  // Plain words are one case-insensitive text term over prompt and completion.
  for (const [words, query] of [['Left Of', 'text ~ /left of/i'], ['CAFÉ', 'text ~ /café/i'], ['motorcyclist', 'text ~ /motorcyclist/i']] as const) {
    await view.applyFilter({ text: words, flags: [] });
    assert.equal(view.filterKind, 'words');
    assert.deepEqual(Array.from(view.matchedRows()), Array.from((await runQuery(index, query)).rows), words);
  }
  await index.close();
  await view.close();
});

test('filter text: queries, plain words, and errors with their column that keep the list', async () => {
  assert.equal(readFilterText('').kind, 'none');
  assert.equal(readFilterText('reward.bbox < 0.3 and step > 100').kind, 'query');
  assert.equal(readFilterText('zero_variance').kind, 'query');
  const words = readFilterText('Left Of the car');
  assert.ok(words.kind === 'words' && words.needle === 'left of the car', 'plain words: one case-insensitive needle');
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
  const view = await RolloutView.load([path], OPTS);
  const keys = async () => (await view.rows(0, 100)).map((r) => r.key);
  assert.equal(await view.applyFilter({ text: 'reward.bbox < 0.3', flags: [] }), 2);
  assert.deepEqual(await keys(), ['a', 'c']);
  // Not a query: a case-insensitive substring of prompt or completion.
  assert.equal(await view.applyFilter({ text: 'CAR', flags: [] }), 2);
  assert.equal(view.filterKind, 'words');
  // A broken query keeps the last list and says where.
  assert.equal(await view.applyFilter({ text: 'step >', flags: [] }), 2);
  assert.deepEqual(await keys(), ['a', 'c']);
  assert.equal(view.filterProblem?.column, 7);
  assert.equal(await view.applyFilter({ text: 'not format_ok', flags: [] }), 1);
  assert.deepEqual(await keys(), ['b']);
  assert.equal(view.filterProblem, null);
  assert.equal(await view.applyFilter({ text: 'step >= 2', flags: [], order: 'newest' }), 2);
  assert.deepEqual(await keys(), ['c', 'b']);
  assert.deepEqual(view.firstOfStep(2), { key: 'b', ordinal: 1 });
  assert.equal(view.ordinalOf('c'), 0);
  assert.equal(view.firstOfStep(1), undefined, 'step 1 is filtered out');
  await view.close();
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
  const view = await RolloutView.load([path], OPTS);
  // Each value from the record itself (read back from its line), not from the index's columns.
  const records: RolloutRecord[] = [];
  for (let i = 0; i < view.completionCount; i++) records.push((await view.index.readRecord(i)).record);
  const value = (i: number, column: string): number => {
    const r = records[i]!;
    const v = column === 'step' ? r.step : column === 'length' ? Buffer.byteLength(completionText(r))
      : column === 'advantage' ? (r.advantage === undefined ? undefined : Math.fround(r.advantage))
      : r.rewards?.[column.slice('reward.'.length)] === undefined ? undefined : Math.fround(r.rewards[column.slice('reward.'.length)]!);
    return v ?? NaN;
  };
  const allGroups = Array.from({ length: view.index.groups.count }, (_, g) => g);
  for (const query of ['', 'step > 3', 'format_ok']) {
    for (const column of ['step', 'length', 'advantage', 'reward.bbox']) {
      for (const desc of [false, true]) {
        const n = await view.applyFilter({ text: `${query} sort:${column}${desc ? ' desc' : rnd() < 0.5 ? ' asc' : ''}`, flags: [] });
        assert.equal(view.filterProblem, null);
        // Which completions match is the other test's business: here, how their groups are ordered.
        const groups = allGroups.filter((g) => view.matchingRows(g).length > 0);
        const key = (g: number): number => {
          const vs = Array.from(view.matchingRows(g), (i) => value(i, column)).filter((v) => !Number.isNaN(v));
          return vs.length ? (desc ? Math.max(...vs) : Math.min(...vs)) : NaN;
        };
        const want = groups.sort((a, b) => {
          const [x, y] = [key(a), key(b)];
          if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
          return x === y ? a - b : (x < y ? -1 : 1) * (desc ? -1 : 1);
        }).map((g) => view.group(g).key);
        assert.deepEqual((await view.rows(0, n)).map((r) => r.key), want, `${query} sort:${column} ${desc ? 'desc' : 'asc'}`);
        assert.equal(view.ordinalOf(want[3]!), 3);
      }
    }
  }
  await view.close();
  assert.deepEqual(readFilterText('step > 1 sort:colour'), { kind: 'error', message: 'cannot sort by "colour" (sort by step, index, reward, advantage, length, line, score, reward.<name>, score.<name>) (column 15)', column: 15 });
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
  const view = await RolloutView.load([path], OPTS);
  await view.setVerdicts((l) => states[Math.floor((l.line - 1) / 2)]!);
  const keys = async (text: string) => {
    await view.applyFilter({ text, flags: [] });
    return (await view.rows(0, 100)).map((r) => r.key);
  };
  assert.deepEqual(await keys('verdict == aligned'), ['g0']);
  assert.deepEqual(await keys('verdict == "misaligned"'), ['g1', 'g2']);
  assert.deepEqual(await keys('verdict == uncertain'), ['g3']);
  assert.deepEqual(await keys('verdict == failed'), ['g4']);
  assert.deepEqual(await keys('verdict == unjudged'), ['g5']);
  assert.deepEqual(await keys('verdict != unjudged and not verdict == aligned'), ['g1', 'g2', 'g3', 'g4']);
  assert.deepEqual(await keys('verdict_type == contradiction'), ['g1']);
  assert.deepEqual(await keys('verdict_type != contradiction'), ['g2'], 'a verdict without a type matches no comparison');
  assert.deepEqual(await keys('VERDICT_TYPE == Missing_Detail or step == 0'.toLowerCase()), ['g0', 'g2']);

  const bad = readFilterText('verdict == wrong');
  assert.equal(bad.kind, 'error');
  assert.match(bad.kind === 'error' ? bad.message : '', /"verdict" is one of aligned, misaligned, uncertain, failed, unjudged, got "wrong" \(column 12\)/);
  assert.equal(readFilterText('verdict < 1').kind, 'error');
  assert.throws(() => parseQuery('verdict == aligned'), /known only where judge verdicts are loaded \(the viewer\) \(column 1\)/);
  await assert.rejects(runQuery(view.index, 'verdict == aligned'), /known only where judge verdicts are loaded/, 'runQuery without the verdicts looked up');
  // The view's index holds the verdicts it looked up: the one evaluator reads them there.
  assert.deepEqual(Array.from((await runQuery(view.index, 'verdict == misaligned', { verdicts: true })).rows), [2, 3, 4, 5]);
  const row = await view.index.readRecord(6);
  assert.deepEqual(view.verdictOf(row), states[3]);
  await view.close();
});

/** `grpo-studio query` in this process (the real command, its output captured). */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await queryCommand.run(args, { out: (t) => void (out += t), err: (t) => void (err += t), env: process.env, cwd: ROOT });
  return { code, out, err };
}

/** JSON for a record as the spill file writes it: int64 parquet cells (bigint) become numbers. */
const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));

/** What an adapter emits for a source, in reading order, and the same records as one native v1 file. */
async function adapterRecords(source: string, native: string): Promise<LocatedRecord[]> {
  const items: LocatedRecord[] = [];
  await (await openSource(source)).read((record, loc) => items.push({ record, loc }));
  writeFileSync(native, items.map((i) => JSON.stringify(plain(recordToJSON(i.record)))).join('\n') + '\n');
  return items;
}

const SOURCE_QUERIES: Record<string, string[]> = {
  verl: ['', 'reward > 0', 'reward == -1 and step >= 2', 'step == 3 and index > 0', 'length < 60', 'mismatch', 'not format_ok', 'zero_variance',
    'completion ~ /boxed\\{\\d+\\}/', 'text ~ "sûr"', 'prompt ~ /Q1\\d /', 'meta.acc == true', 'meta.pred == "41" or meta.pred == ""', 'meta.format_score > 0 and not meta.acc == 1',
    'group == "3/11"', 'not (zero_variance or completion ~ "think")'],
  trl: ['', 'reward >= 1.5', 'reward.accuracy_reward == 1 and reward.format_reward == 0', 'advantage < 0', 'mismatch', 'format_ok', 'zero_variance',
    'completion ~ /<answer>\\d+<\\/answer>/', 'prompt ~ "10 + 13"', 'meta.iou > 0.5', 'meta.answer_len == 2 or meta.num_generations_from ~ "infer"', 'step > 2 and index == 0'],
};

test('a non-native source answers grpo-studio query as its native conversion does (verl folder, TRL parquet): matches, values, records, counts', async () => {
  for (const [name, source] of [['verl', join(FIXTURES, 'verl/rollout')], ['trl', join(FIXTURES, 'trl/plain')]] as const) {
    const native = join(dir, `${name}.rollouts.jsonl`);
    const items = await adapterRecords(source, native);
    assert.ok(items.length >= 32, `${name}: ${items.length} records`);
    let some = 0;
    for (const q of SOURCE_QUERIES[name]!) {
      // The source goes through the viewer's model; the native file through the index's scan.
      const [a, b] = [await cli(source, q, '--json'), await cli(native, q, '--json')];
      assert.equal(a.code, b.code, `${name} exit: ${q}\n${a.err}\n${b.err}`);
      const got = a.out.trim() ? a.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
      const want = b.out.trim() ? b.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
      // Line k of the native file is the adapter's k-th record: the same place in the source.
      const where = (m: Record<string, unknown>): string => { const l = items[(m.line as number) - 1]!.loc; return `${l.file}:${l.line}`; };
      assert.deepEqual(got.map((m) => `${join(source, m.file as string)}:${m.line}`), want.map(where), `${name} places: ${q}`);
      const values = (m: Record<string, unknown>) => [m.group, m.step, m.index, m.reward, m.advantage];
      assert.deepEqual(got.map(values), want.map(values), `${name} values: ${q}`);
      const [ra, rb] = [await cli(source, q, '--records'), await cli(native, q, '--records')];
      assert.deepEqual(ra.out.split('\n').map((l) => (l ? plain(JSON.parse(l)) : l)), rb.out.split('\n').map((l) => (l ? plain(JSON.parse(l)) : l)), `${name} records: ${q}`);
      assert.equal((await cli(source, q, '--count')).out, `${want.length}\n`);
      if (want.length > 0 && want.length < items.length) some++;
    }
    assert.ok(some >= SOURCE_QUERIES[name]!.length / 2, `${name}: most queries select some but not all (${some})`);
  }
});

test('the view holds no records: a non-native source\'s bodies are read back from the spill file as the adapter emitted them, a native file\'s from its own lines', async () => {
  for (const source of [join(FIXTURES, 'verl/rollout'), join(FIXTURES, 'trl/plain')]) {
    const items = await adapterRecords(source, join(dir, 'spilled.rollouts.jsonl'));
    const view = new RolloutView(OPTS);
    for (let k = 0; k < items.length; k += 7) view.append(items.slice(k, k + 7));
    view.settle();
    assert.equal(view.completionCount, items.length);
    assert.deepEqual(view.index.bodies.map((b) => /grpo-studio-spill-/.test(b)), [true], `${source}: one spill file holds every body`);
    for (let r = 0; r < items.length; r++) {
      const back = await view.index.readRecord(r);
      assert.deepEqual(plain(back.record), plain(items[r]!.record), `${source} row ${r}`);
      assert.deepEqual([back.loc.file, back.loc.line], [items[r]!.loc.file, items[r]!.loc.line], `${source} row ${r}'s place`);
    }
    const spill = view.index.bodies[0]!;
    await view.close();
    assert.equal(existsSync(spill), false, 'close removes the spill file');
  }

  // 5,000 generated completions: the view keeps typed columns (under 100 bytes a completion), no record.
  const rnd = seededRandom(5);
  const path = join(dir, 'bench.rollouts.jsonl');
  writeFileSync(path, Array.from({ length: 5000 }, (_, n) => benchLine(n, rnd)).join('\n') + '\n');
  const view = await RolloutView.load([path], OPTS);
  assert.equal(view.completionCount, 5000);
  assert.deepEqual(view.index.bodies, [path], 'a native file\'s bodies are its own lines');
  const perCompletion = view.memoryBytes() / view.completionCount;
  assert.ok(perCompletion <= 100, `${perCompletion.toFixed(1)} bytes per completion`);
  const first = await view.membersOf(0);
  assert.equal(first.rows.length, 8);
  assert.equal(first.rows[0]!.record.completion, (JSON.parse(benchLine(0, seededRandom(5))) as { completion: string }).completion, 'a member is read back whole');
  await view.close();
});
