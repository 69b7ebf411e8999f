// ms-swift completions.jsonl written by test/fixtures/trainers/swift/make_fixtures.py, a copy of
// ms-swift's JsonlWriter and GRPOTrainer.log() (plus the Megatron and Ray writers). The expected
// groups, steps and eval lines come from truth.json (each row's prompt uid), which the file lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectFormat, sniff } from '../../src/core/ingest/detect';
import { openSource, type OpenOptions } from '../../src/core/ingest/source';
import { pythonJson } from '../../src/core/ingest/swift';
import type { LocatedRecord, SourceNote } from '../../src/core/ingest/types';
import type { BadLine } from '../../src/core/schema/record';

const HERE = join(__dirname, '..', 'fixtures', 'trainers', 'swift');
interface Line {
  step: number;
  uids: string[];
  eval: boolean;
  repeats?: number;
}
interface Truth {
  n: number;
  n_eval: number;
  weights: Record<string, number>;
  run: Line[];
  megatron: Line[];
  ray: { step: number; uid: string }[];
  bad: { ragged_line: number; torn_line: number };
}
const truth = JSON.parse(readFileSync(join(HERE, 'truth.json'), 'utf8')) as Truth;

async function read(path: string, opts: OpenOptions = {}): Promise<{ recs: LocatedRecord[]; bad: BadLine[]; notes: SourceNote[]; format: string }> {
  const src = await openSource(path, opts);
  const recs: LocatedRecord[] = [];
  const r = await src.read((record, loc) => recs.push({ record, loc }));
  return { recs, bad: r.badLines, notes: r.notes, format: src.format };
}

/** The file's tables as ms-swift wrote them, parsed here: Python's NaN read as null. */
function tables(dir: string): Record<string, unknown[]>[] {
  return readFileSync(join(HERE, dir, 'completions.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l.replace(/\bNaN\b/g, 'null')));
}

/** Partition of row positions into groups, as sorted "a,b,c" strings. */
function partition<T>(items: T[], key: (x: T) => string): string[] {
  const by = new Map<string, number[]>();
  items.forEach((x, i) => {
    const k = key(x);
    if (!by.has(k)) by.set(k, []);
    by.get(k)!.push(i);
  });
  return [...by.values()].map((xs) => xs.join(',')).sort();
}

function checkGroups(recs: LocatedRecord[], lines: Line[]): void {
  const all = new Set<string>();
  lines.forEach((line, i) => {
    const mine = recs.filter((r) => r.loc.line === i + 1);
    assert.equal(mine.length, line.uids.length, `line ${i + 1}: one record per row`);
    assert.deepEqual(mine.map((r) => r.record.meta?.row), line.uids.map((_, k) => k));
    assert.ok(mine.every((r) => r.record.step === line.step));
    assert.deepEqual(partition(mine, (r) => r.record.group!), partition(line.uids, (u) => u), `line ${i + 1}: groups are the prompts' uids`);
    const size = line.eval ? truth.n_eval : truth.n;
    assert.ok(mine.every((r) => r.record.meta?.num_generations === size), `line ${i + 1}: groups of ${size}`);
    const ids = new Set(mine.map((r) => r.record.group!));
    for (const g of ids) assert.ok(!all.has(g), `group ${g} of line ${i + 1} is not merged with an earlier line's`);
    for (const g of ids) all.add(g);
  });
}

test('ms-swift run dir: detected, one record per table row at its line, steps, groups of num_generations from args.json', async () => {
  const { recs, bad, notes, format } = await read(join(HERE, 'run'));
  assert.equal(format, 'swift');
  assert.equal((await detectFormat(join(HERE, 'run', 'completions.jsonl')))?.format, 'swift');
  assert.deepEqual(bad, []);
  assert.equal(recs.length, truth.run.reduce((s, l) => s + l.uids.length, 0));
  checkGroups(recs, truth.run);
  assert.ok(recs.every((r) => r.record.meta?.num_generations_from === 'args.json' || r.record.meta?.num_generations_from === 'args.json (eval)'));
  // The eval pass (a second table for step 2) and the re-logged batch are told, not hidden.
  const evalLine = truth.run.findIndex((l) => l.eval) + 1;
  const repeatLine = truth.run.findIndex((l) => l.repeats !== undefined) + 1;
  assert.deepEqual(notes.map((n) => n.line), [evalLine, repeatLine]);
  assert.match(notes[0]!.message, /evaluation pass/);
  assert.match(notes[1]!.message, new RegExp(`same rows as line ${truth.run[repeatLine - 1]!.repeats}`));
  assert.ok(recs.filter((r) => r.loc.line === repeatLine).every((r) => r.record.meta?.repeat_of_line === repeatLine - 1));
});

test('ms-swift: reward columns are the reward functions; NaN is a missing reward; total = Σ reward_weights·reward; extras are meta', async () => {
  const { recs } = await read(join(HERE, 'run'));
  const raw = tables('run');
  const names = Object.keys(truth.weights);
  let missing = 0;
  for (const r of recs) {
    const t = raw[r.loc.line - 1]!;
    const i = r.record.meta!.row as number;
    const values = names.map((n) => t[n]![i] as number | null);
    assert.deepEqual({ ...r.record.rewards }, Object.fromEntries(names.flatMap((n, j) => (values[j] === null ? [] : [[n, values[j]]]))));
    const absent = names.filter((_, j) => values[j] === null);
    if (absent.length) missing++;
    assert.deepEqual(r.record.meta?.rewards_missing, absent.length ? absent : undefined);
    const total = names.reduce((s, n, j) => s + (values[j] ?? 0) * truth.weights[n]!, 0);
    assert.ok(Math.abs(r.record.reward! - total) < 1e-9, `reward ${r.record.reward} = ${total}`);
    assert.equal(r.record.advantage, t.advantages![i]);
    assert.equal(r.record.solution, t.solution![i]);
    assert.equal(r.record.meta?.entropy, t.entropy![i]);
    assert.equal(r.record.completion, t.completion![i]);
    assert.equal(r.record.prompt?.text, t.prompt![i]);
  }
  assert.ok(missing > 0, 'the fixture has rows where the IoU plugin returned None');
});

test('ms-swift without args.json: the group size is inferred from the rows (consecutive prompts, centred advantages)', async () => {
  const { recs, bad } = await read(join(HERE, 'bare', 'completions.jsonl'));
  assert.deepEqual(bad, []);
  checkGroups(recs, truth.run);
  assert.ok(recs.every((r) => r.record.meta?.num_generations_from === 'inferred'));
  assert.ok(recs.every((r) => r.record.reward === undefined), 'no weights known: no total is made up');
});

test('ms-swift: a ragged table and a torn line are one bad line each, at their lines; the other tables stay', async () => {
  const { recs, bad } = await read(join(HERE, 'bad'));
  const file = join(HERE, 'bad', 'completions.jsonl');
  assert.deepEqual(bad.map((b) => [b.file, b.line]), [[file, truth.bad.ragged_line], [file, truth.bad.torn_line]]);
  assert.match(bad[0]!.error, /ragged table: "completion" has 16 rows, "advantages" 15/);
  assert.match(bad[1]!.error, /^invalid JSON/);
  const kept = truth.run.map((l, i) => ({ ...l, line: i + 1 })).filter((l) => l.line !== truth.bad.ragged_line && l.line !== truth.bad.torn_line);
  assert.equal(recs.length, kept.reduce((s, l) => s + l.uids.length, 0));
  assert.deepEqual([...new Set(recs.map((r) => r.loc.line))], kept.map((l) => l.line));
});

test('ms-swift Megatron tables: gen_step is the step, groups of num_generations inferred', async () => {
  const { recs, bad } = await read(join(HERE, 'megatron'));
  assert.deepEqual(bad, []);
  checkGroups(recs, truth.megatron);
});

test('ms-swift Ray rows: one row per line, the logged reward (NaN → missing), groups from args.json', async () => {
  const { recs, bad, format } = await read(join(HERE, 'ray'));
  assert.equal(format, 'swift');
  assert.deepEqual(bad, []);
  assert.equal(recs.length, truth.ray.length);
  assert.deepEqual(recs.map((r) => r.loc.line), truth.ray.map((_, i) => i + 1));
  assert.deepEqual(recs.map((r) => r.record.step), truth.ray.map((x) => x.step));
  assert.deepEqual(partition(recs, (r) => r.record.group!), partition(truth.ray, (x) => `${x.step}/${x.uid}`));
  const rows = readFileSync(join(HERE, 'ray', 'completions.jsonl'), 'utf8').split('\n').filter(Boolean);
  rows.forEach((l, i) => {
    const nan = /"reward": NaN/.test(l);
    assert.equal(recs[i]!.record.reward, nan ? undefined : JSON.parse(l).reward);
    assert.equal(recs[i]!.record.meta?.reward_missing, nan ? true : undefined);
  });
  assert.ok(rows.some((l) => /NaN/.test(l)));
});

test('ms-swift: --num-generations is used when it fits, else said and inferred; Python NaN only outside strings; a long first line is still detected', async () => {
  const d = mkdtempSync(join(tmpdir(), 'swift-'));
  const file = join(d, 'completions.jsonl');
  // A reward function named __proto__, and Python's NaN for its second row.
  writeFileSync(file, '{"step": ["3", "3", "3", "3"], "prompt": ["a", "a", "b", "b"], "completion": ["NaN", "x", "y", "z"], "__proto__": [1, NaN, 1, 1], "advantages": [0.7, -0.7, 0, 0]}\n');
  const opt = await read(file, { numGenerations: 3 });
  assert.ok(opt.recs.every((r) => r.record.meta?.num_generations_from === 'inferred' && r.record.meta?.num_generations === 2));
  assert.match(opt.notes[0]!.message, /^option num_generations = 3 does not fit .* inferred 2/);
  const two = await read(file, { numGenerations: 2 });
  assert.deepEqual(two.recs.map((r) => [r.record.group, r.record.index, r.record.completion]), [['3/0', 0, 'NaN'], ['3/0', 1, 'x'], ['3/1', 0, 'y'], ['3/1', 1, 'z']]);
  const proto = two.recs[0]!.record.rewards!;
  assert.ok(Object.hasOwn(proto, '__proto__') && (proto as Record<string, number>)['__proto__'] === 1);
  assert.deepEqual(two.recs[1]!.record.meta?.rewards_missing, ['__proto__']);
  assert.deepEqual(pythonJson('{"a": "NaN, Infinity \\" NaN", "b": [NaN, -Infinity, 1]}'), { a: 'NaN, Infinity " NaN', b: [null, null, 1] });
  assert.throws(() => pythonJson('{"a": [1, 2'), /JSON/);
  // One prompt twice in a row in the batch: a run of 8 is two groups of 4, told apart by their
  // advantages (each group's are centred on its own mean, as ms-swift's compute_advantages does).
  const groupsOf4 = [[1, 0, 0, 0], [1, 1, 1, 0]];
  const adv = groupsOf4.flatMap((g) => g.map((r) => r - g.reduce((s, x) => s + x, 0) / 4));
  const dup = join(d, 'dup', 'completions.jsonl');
  mkdirSync(join(d, 'dup'));
  writeFileSync(dup, JSON.stringify({ step: Array(8).fill('5'), prompt: Array(8).fill('q'), completion: [...'abcdefgh'], R: groupsOf4.flat(), advantages: adv }) + '\n');
  const inferred = await read(dup);
  assert.deepEqual(inferred.recs.map((r) => r.record.group), ['5/0', '5/0', '5/0', '5/0', '5/1', '5/1', '5/1', '5/1']);
  assert.deepEqual(inferred.recs.map((r) => r.record.index), [0, 1, 2, 3, 0, 1, 2, 3]);
  const long = `{"step": ["1"], "prompt": ["${'p'.repeat(70_000)}"], "completion": ["c"]}`;
  assert.equal(sniff(long.slice(0, 64 << 10))?.format, 'swift');
});
