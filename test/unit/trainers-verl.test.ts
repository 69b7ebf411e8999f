// verl dumps written by test/fixtures/trainers/verl/make_fixtures.py, a copy of verl's own
// _dump_generations after _balance_batch's reordering (and _validate's dump). The expected
// groups come from truth.json: each dumped row's prompt uid, which the dump itself does not hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSource } from '../../src/core/ingest/source';
import type { LocatedRecord, RecordSink, SourceNote } from '../../src/core/ingest/types';
import { verlParser } from '../../src/core/ingest/verl';
import type { BadLine } from '../../src/core/schema/record';

const HERE = join(__dirname, '..', 'fixtures', 'trainers', 'verl');
interface Truth {
  n: number;
  val_n: number;
  torn_line: number;
  files: Record<string, { rows: { uid: string; output: string }[]; order: number[] }>;
}
const truth = JSON.parse(readFileSync(join(HERE, 'truth.json'), 'utf8')) as Truth;

async function read(path: string): Promise<{ recs: LocatedRecord[]; bad: BadLine[]; notes: SourceNote[]; format: string }> {
  const src = await openSource(path);
  const recs: LocatedRecord[] = [];
  const r = await src.read((record, loc) => recs.push({ record, loc }));
  return { recs, bad: r.badLines, notes: r.notes, format: src.format };
}

/** Each dumped line's uid, from the construction: line i+1 is rows[order[i]]. */
function uidsOf(rel: string): string[] {
  const f = truth.files[rel]!;
  return f.order.map((j) => f.rows[j]!.uid);
}

/** The dump's rows as verl wrote them, parsed here (not by the reader under test). */
function rawRows(rel: string): Record<string, unknown>[] {
  return readFileSync(join(HERE, rel), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

/** Our groups as sets of line numbers, against the uids' groups as sets of line numbers. */
function partitions(recs: LocatedRecord[], key: (r: LocatedRecord) => string): string[] {
  const by = new Map<string, number[]>();
  for (const r of recs) {
    const k = key(r);
    if (!by.has(k)) by.set(k, []);
    by.get(k)!.push(r.loc.line);
  }
  return [...by.values()].map((ls) => ls.join(',')).sort();
}

test('verl rollout dir: 3 balanced steps, one record per dumped row, each at its line, steps from the dump', async () => {
  const { recs, bad, format } = await read(join(HERE, 'rollout'));
  assert.equal(format, 'verl');
  assert.deepEqual(bad, []);
  const perStep = [1, 2, 3].map((s) => truth.files[`rollout/${s}.jsonl`]!.rows.length);
  assert.deepEqual(perStep, [48, 48, 52]);
  assert.equal(recs.length, 48 + 48 + 52);
  assert.deepEqual([...new Set(recs.map((r) => r.record.step))], [1, 2, 3]);
  for (const s of [1, 2, 3]) {
    const rel = `rollout/${s}.jsonl`;
    const mine = recs.filter((r) => r.record.step === s);
    const f = truth.files[rel]!;
    assert.deepEqual(mine.map((r) => r.record.completion), f.order.map((j) => f.rows[j]!.output));
    assert.deepEqual(mine.map((r) => r.loc.line), f.order.map((_, i) => i + 1));
    assert.ok(mine.every((r) => r.loc.file === join(HERE, rel)));
  }
});

test('verl: the balanced rows regroup into 12 groups of n = 4 per step, the uids of the run', async () => {
  const { recs, notes } = await read(join(HERE, 'rollout'));
  for (const s of [1, 2]) {
    const rel = `rollout/${s}.jsonl`;
    const mine = recs.filter((r) => r.record.step === s);
    const uids = uidsOf(rel);
    // The dump is not in group order: consecutive-row grouping would be wrong here.
    const runs = uids.filter((u, i) => i === 0 || u !== uids[i - 1]).length;
    assert.ok(runs > 12 * 2, `balance_batch scattered the rollouts (${runs} runs)`);
    assert.deepEqual(partitions(mine, (r) => r.record.group!), partitions(mine, (r) => uids[r.loc.line - 1]!));
    const sizes = new Map<string, number>();
    for (const r of mine) sizes.set(r.record.group!, (sizes.get(r.record.group!) ?? 0) + 1);
    assert.equal(sizes.size, 12);
    assert.ok([...sizes.values()].every((n) => n === truth.n));
    // index counts the group's completions in file order.
    for (const g of sizes.keys()) assert.deepEqual(mine.filter((r) => r.record.group === g).map((r) => r.record.index), [0, 1, 2, 3]);
  }
  assert.ok(notes.every((n) => n.file.endsWith('3.jsonl')), 'steps 1 and 2 agree on n: no note');
});

test('verl: a prompt twice in one batch (same text, two uids) is one group of 8, and a note names it', async () => {
  const { recs, notes } = await read(join(HERE, 'rollout', '3.jsonl'));
  const uids = uidsOf('rollout/3.jsonl');
  const dupLines = uids.flatMap((u, i) => (u === 'train-dup' || u === 'train-24' ? [i + 1] : []));
  assert.equal(dupLines.length, 8);
  const merged = recs.find((r) => r.loc.line === dupLines[0])!.record.group;
  assert.deepEqual(recs.filter((r) => r.record.group === merged).map((r) => r.loc.line), dupLines);
  assert.equal(new Set(recs.map((r) => r.record.group)).size, 12);
  assert.equal(notes.length, 1);
  assert.equal(notes[0]!.line, dupLines[0]);
  assert.match(notes[0]!.message, new RegExp(`^step 3: 1 of 12 groups disagree with n = 4 .*: ${merged!.replace('/', '\\/')} \\(input ".*Q24 \\(train\\).*"\\) has 8`));
});

test('verl: score is the total reward; every reward_extra_info key is meta, never a reward component', async () => {
  const { recs } = await read(join(HERE, 'rollout', '1.jsonl'));
  const raw = rawRows('rollout/1.jsonl');
  assert.equal(recs.length, raw.length);
  recs.forEach((r, i) => {
    const row = raw[i]!;
    assert.equal(r.record.reward, row.score);
    assert.equal(r.record.rewards, undefined);
    assert.equal(r.record.prompt?.text, row.input);
    assert.equal(r.record.solution, row.gts);
    assert.deepEqual({ ...r.record.meta }, { acc: row.acc, pred: row.pred, boxed: row.boxed, judge: row.judge, format_score: row.format_score });
  });
  const total = recs.reduce((s, r) => s + r.record.reward!, 0);
  assert.equal(total, raw.reduce((s, row) => s + (row.score as number), 0));
  assert.ok(recs.some((r) => r.record.meta?.acc === true) && recs.some((r) => r.record.meta?.acc === false), 'acc stays a bool');
});

test('verl validation dir: not balanced, groups of val n = 2, extra "reward" kept as meta, each file noted as a validation dump', async () => {
  const { recs, bad, notes } = await read(join(HERE, 'val'));
  assert.deepEqual(bad, []);
  assert.deepEqual([...new Set(recs.map((r) => r.record.step))], [0, 2]);
  for (const s of [0, 2]) {
    const mine = recs.filter((r) => r.record.step === s);
    const uids = uidsOf(`val/${s}.jsonl`);
    assert.equal(mine.length, 5 * truth.val_n);
    assert.deepEqual(partitions(mine, (r) => r.record.group!), partitions(mine, (r) => uids[r.loc.line - 1]!));
    for (const r of mine) assert.equal(r.record.meta?.reward, r.record.reward);
  }
  assert.deepEqual(notes.map((n) => n.file), [join(HERE, 'val', '0.jsonl'), join(HERE, 'val', '2.jsonl')]);
  assert.ok(notes.every((n) => /validation dump/.test(n.message)));
});

test('verl: a torn line is one bad line at its line; the other 47 rows stay, and the short group is noted', async () => {
  const { recs, bad, notes } = await read(join(HERE, 'torn'));
  const file = join(HERE, 'torn', '1.jsonl');
  assert.deepEqual(bad.map((b) => [b.file, b.line]), [[file, truth.torn_line]]);
  assert.match(bad[0]!.error, /^invalid JSON/);
  assert.equal(recs.length, 47);
  assert.deepEqual(recs.map((r) => r.loc.line), [...Array(48).keys()].map((i) => i + 1).filter((l) => l !== truth.torn_line));
  const uids = uidsOf('rollout/1.jsonl');
  const lostUid = uids[truth.torn_line - 1]!;
  const short = uids.flatMap((u, i) => (u === lostUid && i + 1 !== truth.torn_line ? [i + 1] : []));
  assert.equal(notes.length, 1);
  assert.equal(notes[0]!.line, short[0]);
  assert.match(notes[0]!.message, /^step 1: 1 of 12 groups disagree with n = 4 .* has 3 \(from line \d+\)$/);
});

test('verl: keys from the file such as __proto__ stay data; a tie in group sizes is named as such', () => {
  const recs: LocatedRecord[] = [];
  const notes: SourceNote[] = [];
  const bad: BadLine[] = [];
  const sink: RecordSink = { record: (record, loc) => recs.push({ record, loc }), bad: (b) => bad.push(b), note: (n) => notes.push(n) };
  const p = verlParser(sink, 7);
  const rows = ['{"input":"a","output":"x","score":1,"__proto__":{"polluted":true}}', '{"input":"a","output":"y","score":0}', '{"input":"b","output":"z","score":0}'];
  rows.forEach((text, i) => p.line(text, { file: 'f.jsonl', line: i + 1, offset: 0 }));
  assert.equal(p.holding, true, 'a size check waits for the file to end or go quiet');
  p.end();
  assert.equal(p.holding, false);
  assert.deepEqual(bad, []);
  const meta = recs[0]!.record.meta!;
  assert.ok(Object.hasOwn(meta, '__proto__'));
  assert.equal((meta as { polluted?: unknown }).polluted, undefined);
  assert.deepEqual(recs.map((r) => [r.record.step, r.record.group, r.record.index]), [[7, '7/0', 0], [7, '7/0', 1], [7, '7/1', 0]]);
  assert.equal(notes.length, 1);
  assert.match(notes[0]!.message, /^step 7: group sizes disagree and none is most common \(1 of size 2, 1 of size 1 of 2 groups\)/);
});
