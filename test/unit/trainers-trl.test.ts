/**
 * TRL GRPOTrainer completions read as the run means them. Fixtures: test/fixtures/trainers/trl/
 * (generate.ts copies GRPOTrainer.log() and TrainerState.save_to_json). Expected values come from
 * the variants' construction (reward names, weights, num_generations) and from the raw parquet
 * rows and trainer_state.json read here directly, not from the adapter.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openSource, type OpenOptions } from '../../src/core/ingest/source';
import { followRollouts } from '../../src/core/ingest/follow';
import { readTrlState } from '../../src/core/ingest/trlState';
import { reproducingFits, trlAdvantages } from '../../src/core/ingest/trlInfer';
import { loggedTotal } from '../../src/core/index/recordTerms';
import type { LocatedRecord, SourceNote } from '../../src/core/ingest/types';
import type { BadLine } from '../../src/core/schema/record';
import { FIXTURE_ROOT, VARIANTS, writeAll, type Variant } from '../fixtures/trainers/trl/generate';
import { GrpoLogCopy } from '../fixtures/trainers/trl/grpo-copy';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'trainers-trl-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const variant = (name: string): Variant => VARIANTS.find((v) => v.name === name)!;
const runDir = (name: string): string => join(FIXTURE_ROOT, name);
const pq = (name: string, step: number): string => join(runDir(name), 'completions', `completions_${String(step).padStart(5, '0')}.parquet`);

async function read(name: string, opts: OpenOptions = {}): Promise<{ recs: LocatedRecord[]; bad: BadLine[]; notes: SourceNote[] }> {
  const src = await openSource(runDir(name), opts);
  assert.equal(src.format, 'trl');
  const recs: LocatedRecord[] = [];
  const r = await src.read((record, loc) => recs.push({ record, loc }));
  return { recs, bad: r.badLines, notes: r.notes };
}

/** The file's rows as pyarrow wrote them (hyparquet directly, not the adapter). */
async function rawRows(file: string): Promise<Record<string, unknown>[]> {
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
  return (await parquetReadObjects({ file: await asyncBufferFromFile(file) })) as Record<string, unknown>[];
}

/** log_history's train entries (with `loss`, no eval_ keys) by step. */
function trainLogs(stateFile: string): Map<number, Record<string, unknown>> {
  const hist = (JSON.parse(readFileSync(stateFile, 'utf8')) as { log_history: Record<string, unknown>[] }).log_history;
  return new Map(hist.filter((e) => 'loss' in e && !Object.keys(e).some((k) => k.startsWith('eval_'))).map((e) => [e.step as number, e]));
}

const close = (a: number, b: number, tol = 1e-6): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
const byStep = (recs: LocatedRecord[], step: number): LocatedRecord[] => recs.filter((r) => r.record.step === step);

/** Each step's records against its raw rows: one record per row, groups of k consecutive rows. */
async function checkRows(name: string, steps: number[], k: (step: number) => number, recs: LocatedRecord[]): Promise<void> {
  for (const step of steps) {
    const rows = await rawRows(pq(name, step));
    const got = byStep(recs, step);
    assert.equal(got.length, rows.length, `${name} step ${step}: one record per row`);
    got.forEach((r, i) => {
      assert.equal(r.record.completion, rows[i]!.completion);
      assert.equal(r.record.prompt?.text, rows[i]!.prompt);
      assert.equal(r.record.advantage, rows[i]!.advantage);
      assert.deepEqual(r.loc, { file: pq(name, step), line: i + 1, row: true });
      assert.equal(r.record.group, `${step}/${Math.floor(i / k(step))}`, `${name} step ${step} row ${i + 1}`);
      assert.equal(r.record.index, i % k(step));
    });
  }
}

test('the committed fixtures are what generate.ts writes', async () => {
  const out = join(dir, 'regen');
  await writeAll(out);
  const list = (root: string): string[] =>
    readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(root, p)).isFile() && !p.endsWith('.ts')).sort();
  const committed = list(FIXTURE_ROOT);
  assert.deepEqual(list(out), committed);
  for (const p of committed) assert.ok(readFileSync(join(out, p)).equals(readFileSync(join(FIXTURE_ROOT, p))), `${p} differs from its generator`);
});

test('plain run: reward functions from trainer_state.json, log_extra numbers as meta, totals are the logged reward', async () => {
  const v = variant('plain');
  const { recs, bad, notes } = await read('plain');
  assert.deepEqual(bad, []);
  assert.deepEqual(notes, []);
  await checkRows('plain', [1, 2, 3, 4], () => v.args.numGenerations, recs);
  const [wAcc, wFmt] = v.args.rewardWeights as [number, number];
  const logs = trainLogs(join(runDir('plain'), 'trainer_state.json'));
  for (const step of [1, 2, 3, 4]) {
    const rows = await rawRows(pq('plain', step));
    const got = byStep(recs, step);
    got.forEach((r, i) => {
      const row = rows[i]!;
      const fmt = row.format_reward as number | null;
      assert.deepEqual(r.record.rewards, fmt === null ? { accuracy_reward: row.accuracy_reward } : { accuracy_reward: row.accuracy_reward, format_reward: fmt });
      assert.equal(r.record.meta?.iou, row.iou);
      assert.equal(r.record.meta?.answer_len, row.answer_len);
      assert.ok(close(r.record.reward!, wAcc * (row.accuracy_reward as number) + wFmt * (fmt ?? 0)), 'reward = Σ reward_weights·reward, None skipped');
      if (fmt === null) assert.deepEqual(r.record.meta?.rewards_missing, ['format_reward']);
    });
    // What the viewer shows as the total averages to what TRL logged as `reward` for the step.
    const mean = got.reduce((s, r) => s + loggedTotal(r.record)!, 0) / got.length;
    assert.ok(close(mean, logs.get(step)!.reward as number, 1e-5), `step ${step}: mean total ${mean} vs logged ${String(logs.get(step)!.reward)}`);
  }
  assert.ok(byStep(recs, 3).some((r) => r.record.meta?.rewards_missing), 'the fixture has a None reward at step 3');
});

test('templated prompts: one prompt text over different images stays two groups per step', async () => {
  const v = variant('templated');
  const { recs, bad, notes } = await read('templated');
  assert.deepEqual(bad, []);
  assert.deepEqual(notes, []);
  for (const step of [1, 2]) assert.equal(new Set((await rawRows(pq('templated', step))).map((r) => r.prompt)).size, 1, 'every row has the same prompt text');
  await checkRows('templated', [1, 2], () => v.args.numGenerations, recs);
  assert.deepEqual([...new Set(recs.map((r) => r.record.group))], ['1/0', '1/1', '2/0', '2/1']);
  assert.equal(recs[0]!.record.prompt?.images, undefined, 'TRL writes no image column');
  const logs = trainLogs(join(runDir('templated'), 'checkpoint-2', 'trainer_state.json'));
  for (const step of [1, 2]) {
    const got = byStep(recs, step);
    assert.ok(close(got.reduce((s, r) => s + r.record.reward!, 0) / got.length, logs.get(step)!.reward as number, 1e-5));
    assert.ok(got.every((r) => typeof r.record.meta?.pred === 'string' && !('pred' in (r.record.rewards ?? {}))));
  }
  const forced = await read('templated', { numGenerations: 8 });
  assert.deepEqual([...new Set(forced.recs.map((r) => `${r.record.group}:${String(r.record.meta?.num_generations_from)}`))], ['1/0:option', '2/0:option']);
});

test('no trainer_state.json: reward columns are those that reproduce the advantages; a torn last file is one bad line', async () => {
  const v = variant('no-state');
  const { recs, bad, notes } = await read('no-state');
  assert.deepEqual(notes, []);
  assert.deepEqual(bad.map((b) => [b.file, b.line, b.error.startsWith('not a readable parquet file')]), [[pq('no-state', 3), 0, true]]);
  await checkRows('no-state', [1, 2], () => v.args.numGenerations, recs);
  for (const step of [1, 2]) {
    const rows = await rawRows(pq('no-state', step));
    byStep(recs, step).forEach((r, i) => {
      assert.deepEqual(Object.keys(r.record.rewards ?? {}), v.args.rewardFuncNames);
      assert.equal(r.record.reward, undefined, 'no logged total without the weights');
      assert.equal(loggedTotal(r.record), (rows[i]!.accuracy_reward as number) + (rows[i]!.format_reward as number));
      assert.deepEqual([r.record.meta?.answer_len, r.record.meta?.iou], [rows[i]!.answer_len, rows[i]!.iou]);
    });
  }
});

test('ambiguous run: a per-prompt log_extra column and a flat step are said in notes, not guessed', async () => {
  const v = variant('ambiguous');
  const { recs, bad, notes } = await read('ambiguous');
  assert.deepEqual(bad, []);
  await checkRows('ambiguous', [1, 2], () => v.args.numGenerations, recs);
  assert.ok(recs.every((r) => Object.keys(r.record.rewards ?? {}).join() === 'accuracy_reward,format_reward' && typeof r.record.meta?.difficulty === 'number' && typeof r.record.meta?.iou === 'number'));
  assert.deepEqual(notes.map((n) => n.file), [pq('ambiguous', 1), pq('ambiguous', 2)]);
  assert.match(notes[0]!.message, /with or without "difficulty".*read as meta, not summed/);
  assert.match(notes[1]!.message, /admit group sizes 2, 4; using 4 \(as an earlier file/);
  // The construction: every group of step 2 is flat, so every advantage is zero.
  assert.ok((await rawRows(pq('ambiguous', 2))).every((r) => r.advantage === 0));
});

test('num_iterations=2 and an eval pass: a batch logged twice and an eval file under a train name are noted', async () => {
  const v = variant('iterations');
  const { recs, bad, notes } = await read('iterations');
  assert.deepEqual(bad, []);
  await checkRows('iterations', [1, 2, 3, 4], (s) => (s === 4 ? v.args.numGenerationsEval : v.args.numGenerations), recs);
  assert.deepEqual(notes.map((n) => n.file), [pq('iterations', 2), pq('iterations', 4)]);
  assert.match(notes[0]!.message, /same rows .* as .*completions_00001\.parquet.*num_iterations > 1/);
  assert.match(notes[1]!.message, /evaluation at step 4/);
  assert.ok(byStep(recs, 2).every((r) => r.record.meta?.same_batch_as_step === 1));
  assert.ok(byStep(recs, 4).every((r) => r.record.meta?.logged_by === 'eval'));
  assert.ok(byStep(recs, 3).every((r) => r.record.meta?.same_batch_as_step === undefined && r.record.meta?.logged_by === undefined));
  const logs = trainLogs(join(runDir('iterations'), 'checkpoint-4', 'trainer_state.json'));
  assert.deepEqual([2, 4].map((s) => 'reward' in logs.get(s)!), [false, false], 'no generation was scored before the logs of steps 2 and 4');
  for (const step of [1, 3]) {
    const got = byStep(recs, step);
    assert.ok(close(got.reduce((s, r) => s + r.record.reward!, 0) / got.length, logs.get(step)!.reward as number, 1e-5));
  }
});

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('following a live run: a repeated batch is noted, and the eval pass rewriting the step file is read again', async () => {
  const root = join(dir, 'follow-iterations');
  mkdirSync(join(root, 'completions'), { recursive: true });
  for (const s of [1, 2, 3]) cpSync(pq('iterations', s), join(root, 'completions', `completions_0000${s}.parquet`));
  // Before the eval pass, TRL's log at step 4 writes the step-3 batch again under step 4 (pandas types).
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const rows3 = await rawRows(pq('iterations', 3));
  const col = (name: string): unknown[] => rows3.map((r) => r[name]);
  const file4 = join(root, 'completions', 'completions_00004.parquet');
  writeFileSync(file4, new Uint8Array(parquetWriteBuffer({ columnData: [
    { name: 'step', data: rows3.map(() => 4n), type: 'INT64' },
    { name: 'prompt', data: col('prompt'), type: 'STRING' },
    { name: 'completion', data: col('completion'), type: 'STRING' },
    { name: 'accuracy_reward', data: col('accuracy_reward'), type: 'DOUBLE' },
    { name: 'format_reward', data: col('format_reward'), type: 'DOUBLE' },
    { name: 'advantage', data: col('advantage'), type: 'DOUBLE' },
  ] })));
  const recs: LocatedRecord[] = [];
  const notes: SourceNote[] = [];
  const follower = await followRollouts(root, (b) => {
    recs.push(...b.records);
    notes.push(...b.notes);
  }, { polling: true, pollMs: 30 });
  try {
    await follower.ready;
    assert.equal(recs.length, 32);
    assert.deepEqual(notes.map((n) => basename(n.file)), ['completions_00002.parquet', 'completions_00004.parquet']);
    assert.ok(recs.filter((r) => r.record.step === 4).every((r) => r.record.meta?.same_batch_as_step === 3));
    // The eval pass logs at step 4: same name, other rows (then the checkpoint is saved).
    cpSync(pq('iterations', 4), file4);
    await until('the eval rows', () => recs.length === 40);
    const evalRows = recs.slice(32);
    assert.ok(evalRows.every((r) => r.record.step === 4 && r.record.meta?.num_generations === variant('iterations').args.numGenerationsEval));
    assert.deepEqual([...new Set(evalRows.map((r) => r.record.group))], ['4/v2.0', '4/v2.1', '4/v2.2', '4/v2.3'], 'not merged with the first version\'s groups 4/0, 4/1');
    assert.deepEqual(notes.slice(2).map((n) => basename(n.file)), ['completions_00004.parquet', 'completions_00004.parquet']);
    assert.match(notes[2]!.message, /rewritten with other rows/);
    assert.match(notes[3]!.message, /group size 2 here, 4 in/);
    // TRL's end-of-train log writes the same rows again: a new mtime, nothing new to show.
    cpSync(pq('iterations', 4), file4);
    const t = new Date(Date.now() + 5000);
    utimesSync(file4, t, t);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(recs.length, 40);
  } finally {
    await follower.close();
  }
});

test('trlAdvantages is the fixture copy of TRL for group, batch and none scaling and normalize_then_sum, with None rewards', () => {
  const prompts = ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'];
  const acc = [1, 0, 1, 1, 0, 0, 1, null];
  const fmt = [0.5, 1, null, 0, null, 0.25, 1, null];
  for (const mode of ['group', 'batch', 'none', 'normalize_then_sum'] as const) {
    const copy = new GrpoLogCopy({
      rewardFuncNames: ['acc', 'fmt'], rewardWeights: [1, 2], numGenerations: 4, numGenerationsEval: 4, generationBatchSize: 8,
      scaleRewards: mode === 'normalize_then_sum' ? 'group' : mode,
      multiObjectiveAggregation: mode === 'normalize_then_sum' ? 'normalize_then_sum' : 'sum_then_normalize',
    });
    const want = copy.generateAndScore({ prompts, completions: prompts, rewards: { acc, fmt }, logExtra: {} }, 'train');
    const perFunc = acc.map((a, j) => [a ?? NaN, fmt[j] ?? NaN]);
    const ours = trlAdvantages(perFunc, [1, 2], 4, mode);
    assert.ok(ours.every((a, j) => Math.abs(a - want[j]!) < 1e-5), `${mode}: ${ours.join()} vs ${want.join()}`);
    const fits = reproducingFits([perFunc.map((r) => r[0]!), perFunc.map((r) => r[1]!)], want, [2, 4, 8], [1, 2], [1, 2]);
    assert.ok(fits.some((f) => f.k === 4 && f.columns === 2 && f.mode === mode), `${mode} found`);
    assert.ok(!fits.some((f) => f.columns === 1 || f.k !== 4), `${mode}: nothing else fits: ${JSON.stringify(fits)}`);
  }
});

test('trainer_state.json with Python NaN metrics still parses; reward_weights solved around an entry with a None reward', async () => {
  const file = join(dir, 'nan_state.json');
  const src = readFileSync(join(runDir('plain'), 'trainer_state.json'), 'utf8');
  writeFileSync(file, src.replace('"grad_norm": 0.625', '"grad_norm": NaN'));
  assert.ok(src.includes('"grad_norm": 0.625'), 'the fixture entry to damage exists');
  const state = await readTrlState(file);
  assert.deepEqual(state?.rewardNames, ['accuracy_reward', 'format_reward']);
  assert.deepEqual([...(state?.weights ?? [])], [['accuracy_reward', 1], ['format_reward', 0.5]]);
  assert.deepEqual([...(state?.evalSteps ?? [])], []);
});
