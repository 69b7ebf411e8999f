import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectFormat } from '../../src/core/ingest/detect';
import { openSource, SourceError, type OpenOptions } from '../../src/core/ingest/source';
import { inferNumGenerations } from '../../src/core/ingest/trl';
import { listOf, parseHeader } from '../../src/core/ingest/vlmr1';
import type { LocatedRecord, Metric } from '../../src/core/ingest/types';
import type { BadLine } from '../../src/core/schema/record';
import { writeEasyr1, writeTrl, writeVerl, writeVlmr1 } from '../fixtures/formats/trainers';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ingest-adapters-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string, opts: OpenOptions = {}): Promise<{ format: string; recs: LocatedRecord[]; bad: BadLine[]; metrics: Metric[] }> {
  const src = await openSource(path, opts);
  const recs: LocatedRecord[] = [];
  const metrics: Metric[] = [];
  const r = await src.read((record, loc) => recs.push({ record, loc }), (m) => metrics.push(m));
  assert.equal(r.completions, recs.length);
  return { format: src.format, recs, bad: r.badLines, metrics };
}

test('verl folder: files in numeric step order, groups by identical input within a step (balanced rows), reward extras are meta, bad lines kept apart', async () => {
  const root = writeVerl(join(dir, 'v'));
  const src = await openSource(root);
  const recs: LocatedRecord[] = [];
  const r = await src.read((record, loc) => recs.push({ record, loc }));
  assert.equal(src.format, 'verl');
  // 1.jsonl interleaves its two prompts (balance_batch): car, dogs, car, dogs.
  assert.deepEqual(recs.map((x) => [x.record.step, x.record.group, x.record.index]), [
    [1, '1/0', 0], [1, '1/1', 0], [1, '1/0', 1], [1, '1/1', 1],
    [2, '2/0', 0], [2, '2/0', 1], [2, '2/1', 0],
    [10, '10/0', 0], [10, '10/0', 1],
  ]);
  const first = recs[0]!.record;
  assert.equal(first.completion, '<think>a [1,2,3,4 car]</think><answer>A</answer>');
  assert.equal(first.prompt?.text, 'Q: what is left of the car?');
  assert.equal(first.solution, '<answer>A</answer>');
  assert.equal(first.reward, 1.5);
  assert.equal(first.meta, undefined);
  const older = recs[4]!.record;
  assert.equal(older.rewards, undefined, 'reward extras are facts, never reward components');
  assert.deepEqual({ ...older.meta }, { acc: 1, format: 0, request_id: 'r-1', pred: 'A' });
  assert.deepEqual(recs[6]!.record.possible_answers, ['x', 'y']);
  assert.equal(recs[8]!.record.completion, 'no step key');
  assert.equal(recs[8]!.record.step, 10, 'a row without "step" takes the file name step');
  assert.deepEqual(recs[8]!.loc, { file: join(root, '10.jsonl'), line: 5, offset: 204 });
  assert.deepEqual(r.badLines.map((b) => [b.file, b.line, b.error.slice(0, 20)]), [
    [join(root, '10.jsonl'), 2, 'invalid JSON: Unterm'],
    [join(root, '10.jsonl'), 3, '"output" is missing'],
    [join(root, '10.jsonl'), 4, '"score" must be a fi'],
  ]);
  // Step 2 has a group of 2 and one of 1: no size is the most common, and the reader is told.
  assert.deepEqual(r.notes.map((n) => [n.file, n.line]), [[join(root, '2.jsonl'), 1]]);
  assert.match(r.notes[0]!.message, /^step 2: group sizes disagree and none is most common/);
});

test('TRL parquet (written with hyparquet-writer): rows to records, num_generations inferred from the advantages', async () => {
  const run = await writeTrl(join(dir, 't1'));
  const { format, recs, bad } = await readAll(run);
  assert.equal(format, 'trl');
  assert.deepEqual(bad, []);
  assert.equal(recs.length, 8);
  const r3 = recs[2]!;
  assert.equal(r3.record.completion, 'c3 é');
  assert.equal(r3.record.step, 1);
  assert.deepEqual(r3.record.rewards, { accuracy_reward: 1, format_reward: 0 });
  // Totals 2, 1 | 1, 2 in groups of 2: TRL's (r - mean) / (std + 1e-4) with std = 0.7071.
  assert.ok(Math.abs(r3.record.advantage! + 0.5 / (Math.SQRT1_2 + 1e-4)) < 1e-6);
  assert.equal(r3.record.group, '1/1');
  assert.deepEqual(r3.loc, { file: join(run, 'completions', 'completions_00001.parquet'), line: 3, row: true });
  // Step 2 repeats one prompt 4 times, but its advantages sum to zero over pairs only: two groups.
  assert.deepEqual(recs.slice(4).map((r) => r.record.group), ['2/0', '2/0', '2/1', '2/1']);
  assert.equal(recs[4]!.record.meta?.num_generations_from, 'inferred');
  assert.deepEqual(recs[7]!.record.rewards, { accuracy_reward: 0 });
  assert.deepEqual(recs[7]!.record.meta?.rewards_missing, ['format_reward']);
});

test('TRL: num_generations from the run config when the rows agree; the option beats both; a bad row is reported, not fatal', async () => {
  const run = await writeTrl(join(dir, 't2'), { config: 2, badRow: true });
  const a = await readAll(run);
  assert.deepEqual(a.recs.map((r) => `${r.record.group}#${r.record.index}`), ['1/0#0', '1/0#1', '1/1#0', '1/1#1', '2/0#0', '2/1#0', '2/1#1']);
  assert.equal(a.recs[0]!.record.meta?.num_generations_from, `config:${join(run, 'config.json')}`);
  assert.deepEqual(a.bad.map((b) => [b.line, b.error]), [[2, 'row 2: "completion" is missing']]);
  const b = await readAll(run, { numGenerations: 4 });
  assert.deepEqual(b.recs.map((r) => r.record.group), ['1/0', '1/0', '1/0', '1/0', '2/0', '2/0', '2/0']);
  assert.equal(b.recs[0]!.record.meta?.num_generations_from, 'option');
});

test('inferNumGenerations: gcd of runs of identical consecutive prompts', () => {
  assert.equal(inferNumGenerations(['a', 'a', 'b', 'b', 'b', 'b', 'c', 'c']), 2);
  assert.equal(inferNumGenerations(['a', 'b', 'c']), undefined);
  assert.equal(inferNumGenerations(['a', 'a', 'a', 'b', 'b', 'b']), 3);
});

test('VLM-R1 log: both spellings, interleaved ranks, one inferred step, _format.txt joined, bad block reported', async () => {
  const log = writeVlmr1(join(dir, 'm'));
  const { format, recs, bad } = await readAll(log);
  assert.equal(format, 'vlmr1');
  // Group: the same problem, image and solution within the step (the seed block names possible answers instead).
  assert.deepEqual(recs.map((r) => [r.loc.line, r.loc.endLine, r.record.step, r.record.group, r.record.index]), [
    [1, 6, 0, '0/0', 0],
    [7, 12, 0, '0/1', 0],
    [13, 17, 0, '0/0', 1],
    [21, 25, 0, '0/2', 0],
    [26, 30, 0, '0/0', 2], // rank 1's last block of the round
  ]);
  const a = recs[0]!.record;
  assert.equal(a.completion, '<think>The bike [10,20,30,40 bike]\nis left.</think><answer>bike</answer>');
  assert.deepEqual(a.prompt, { text: 'Which object is left of the car?', images: ['/data/coco/1.jpg'] });
  assert.equal(a.solution, '<answer>bike</answer>');
  assert.deepEqual({ ...a.rewards }, { accuracy: 1, format: 1 });
  assert.deepEqual(a.meta, { timestamp: '05-14-03-27-100000', step_inferred: true, has_format: true });
  const seed = recs[1]!.record;
  assert.equal(seed.completion, '<answer>car</answer>');
  assert.deepEqual(seed.possible_answers, ['bike', 'bicycle']);
  assert.deepEqual({ ...seed.rewards }, { accuracy: 0, format: 0 });
  assert.equal(seed.meta?.golden, 'bike');
  assert.equal(seed.meta?.predicted, 'car');
  assert.deepEqual({ ...recs[3]!.record.rewards }, { accuracy: 0 }, 'no format verdict for this completion');
  assert.deepEqual(bad.map((b) => [b.line, b.error]), [[18, 'block has no Content: / Completion: field']]);
});

test('VLM-R1 header and list parsing', () => {
  const h = parseHeader('------------- 31-23-59-59-999999 Accuracy reward of IoU: 0.25 -------------');
  assert.deepEqual(h && { stamp: h.stamp, name: h.name, value: h.value }, { stamp: '31-23-59-59-999999', name: 'iou', value: 0.25 });
  assert.equal(h?.time, (((31 * 24 + 23) * 60 + 59) * 60 + 59) * 1e6 + 999999);
  assert.equal(parseHeader('------ not a header ------'), null);
  assert.deepEqual(listOf(`['a b.jpg', "c'd.png"]`), ['a b.jpg', "c'd.png"]);
  assert.deepEqual(listOf('/x/y.jpg'), ['/x/y.jpg']);
});

test('EasyR1: generations.log blocks (multi-line, Step banner, bad score) and experiment_log.jsonl metrics', async () => {
  const root = writeEasyr1(join(dir, 'e'));
  const { format, recs, bad, metrics } = await readAll(root);
  assert.equal(format, 'easyr1');
  assert.equal(recs.length, 2);
  assert.deepEqual(recs[0]!.record, {
    v: 1,
    completion: '<think>2+2\n\nis 4</think><answer>4</answer>',
    prompt: { text: 'system: answer briefly\nuser: What is 2+2?' },
    solution: '4',
    reward: 1,
  });
  assert.deepEqual(recs[0]!.loc, { file: join(root, 'generations.log'), line: 1, offset: 0, endLine: 7 });
  assert.equal(recs[1]!.record.step, 5);
  assert.deepEqual(recs[1]!.record.meta, { raw_response: 'blue<|im_end|>' });
  assert.deepEqual(bad.map((b) => [b.file!.endsWith('experiment_log.jsonl'), b.line]), [[true, 2], [false, 9]]);
  assert.deepEqual(metrics, [
    { step: 1, name: 'actor/kl_loss', value: 0.01 },
    { step: 1, name: 'actor/lr', value: 1e-6 },
    { step: 1, name: 'reward/overall', value: 0.5 },
    { step: 2, name: 'actor/kl_loss', value: 0.02 },
    { step: 2, name: 'val/reward_score', value: 0.75 },
  ]);
});

test('detection by name, folder contents and first bytes; explicit override; undetectable path is an error', async () => {
  const d = join(dir, 'd');
  mkdirSync(d, { recursive: true });
  const native = join(d, 'x.rollouts.jsonl');
  writeFileSync(native, 'not json\n{"v":1,"completion":"hi","step":3}\n');
  assert.equal((await detectFormat(native))?.format, 'native');
  const verlLike = join(d, 'dump.jsonl');
  writeFileSync(verlLike, JSON.stringify({ input: 'p', output: 'o', score: 1 }) + '\n');
  assert.equal((await detectFormat(verlLike))?.format, 'verl');
  assert.equal((await detectFormat(join(dir, 'e', 'easyr1', 'generations.log')))?.format, 'easyr1');
  assert.equal((await detectFormat(join(dir, 'm', 'vlm-r1')))?.format, 'vlmr1');
  assert.equal((await detectFormat(join(dir, 't1', 'trl-run', 'completions')))?.format, 'trl');
  const odd = join(d, 'odd.txt');
  writeFileSync(odd, 'hello\n');
  assert.equal(await detectFormat(odd), null);
  await assert.rejects(openSource(odd), SourceError);
  // Override: read the verl-shaped file as verl explicitly, and a native file as native.
  const r = await readAll(native, { format: 'native' });
  assert.equal(r.recs.length, 1);
  assert.deepEqual(r.recs[0]!.loc, { file: native, line: 2, offset: 9, bytes: 34 });
  assert.equal(r.bad[0]!.line, 1);
});

test('TRL parquet compressed with gzip (pyarrow option) reads the same', async () => {
  const { parquetWriteFile } = await import('hyparquet-writer');
  const { gzipSync } = await import('node:zlib');
  const out = join(dir, 'gz', 'completions');
  mkdirSync(out, { recursive: true });
  parquetWriteFile({
    filename: join(out, 'completions_00003.parquet'),
    codec: 'GZIP',
    compressors: { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)) },
    columnData: [
      { name: 'step', data: ['3', '3'], type: 'STRING' },
      { name: 'prompt', data: ['p', 'p'], type: 'STRING' },
      { name: 'completion', data: ['a', 'b'], type: 'STRING' },
      { name: 'iou_reward', data: [0.5, 0.25], type: 'DOUBLE' },
    ],
  });
  const { recs, bad } = await readAll(join(dir, 'gz'));
  assert.deepEqual(bad, []);
  assert.deepEqual(recs.map((r) => [r.record.step, r.record.completion, r.record.rewards, r.record.group]), [
    [3, 'a', { iou_reward: 0.5 }, '3/0'],
    [3, 'b', { iou_reward: 0.25 }, '3/0'],
  ]);
});
