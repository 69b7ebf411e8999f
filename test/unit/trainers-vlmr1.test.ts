// VLM-R1 and R1-V debug logs written by test/fixtures/trainers/{vlmr1,r1v}/make_fixtures.py:
// copies of the upstream reward functions' DEBUG_MODE logging, run as several ranks appending
// to one file through CPython's own buffered text files. truth.json says what each block means
// (its step, prompt, rank and rewards); the expectations below are computed from it, not from
// the reader under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followRollouts, type FollowBatch } from '../../src/core/ingest/follow';
import { possibleStarts, rawWriteStarts } from '../../src/core/ingest/pywrite';
import { openSource } from '../../src/core/ingest/source';
import type { LocatedRecord, SourceNote } from '../../src/core/ingest/types';
import { FormatVerdicts, vlmr1Parser } from '../../src/core/ingest/vlmr1';
import type { BadLine } from '../../src/core/schema/record';

const VLM = join(__dirname, '..', 'fixtures', 'trainers', 'vlmr1');
const R1V = join(__dirname, '..', 'fixtures', 'trainers', 'r1v');

interface Block {
  line: number;
  step: number;
  rank: number;
  prompt: string;
  completion?: string;
  completion_sha256?: string;
  problem?: string | null;
  image_path?: string[] | null;
  logged_problem?: string | null;
  solution_raw?: string | number[];
  solution?: string;
  accu_reward_method?: string | null;
  rewards?: Record<string, number>;
  reward?: number;
  interleaved: boolean;
}
type Run = { blocks: Block[]; format_interleaved_ranks: [number, number][] };
const vlm = JSON.parse(readFileSync(join(VLM, 'truth.json'), 'utf8')) as Record<string, Run>;
const r1v = JSON.parse(readFileSync(join(R1V, 'truth.json'), 'utf8')) as { num_generations: number; blocks: Block[] };

async function read(path: string): Promise<{ recs: LocatedRecord[]; bad: BadLine[]; notes: SourceNote[]; format: string }> {
  const src = await openSource(path);
  const recs: LocatedRecord[] = [];
  const r = await src.read((record, loc) => recs.push({ record, loc }));
  return { recs, bad: r.badLines, notes: r.notes, format: src.format };
}

const sameText = (got: unknown, b: Block): boolean =>
  b.completion !== undefined ? got === b.completion : createHash('sha256').update(String(got)).digest('hex') === b.completion_sha256;

/** What upstream writes after `Solution: `: the dataset string, or Python's str() of the parsed box list. */
function loggedSolution(b: Block, parsesAnswer: boolean): string {
  const raw = b.solution_raw!;
  if (Array.isArray(raw)) return `[${raw.join(', ')}]`;
  if (!parsesAnswer) return raw;
  return `[${(JSON.parse(/<answer>(.*)<\/answer>/s.exec(raw)![1]!) as number[]).join(', ')}]`;
}

/** Groups as sets of header lines: ours, against the truth's. */
function partitions(recs: { line: number; key: string }[]): string[] {
  const by = new Map<string, number[]>();
  for (const r of recs) by.set(r.key, [...(by.get(r.key) ?? []), r.line]);
  return [...by.values()].map((l) => l.sort((a, b) => a - b).join(',')).sort();
}

function byLine(recs: LocatedRecord[]): Map<number, LocatedRecord> {
  return new Map(recs.map((r) => [r.loc.line, r]));
}

test('the reader models where CPython itself starts raw writes (300 write sequences run through io.TextIOWrapper)', () => {
  const cases = JSON.parse(readFileSync(join(VLM, 'raw_writes.json'), 'utf8')) as { sizes: number[]; buffer_size: number; starts: boolean[] }[];
  for (const c of cases) assert.deepEqual(rawWriteStarts(c.sizes, c.buffer_size), c.starts, JSON.stringify(c));
  assert.ok(cases.some((c) => c.starts.filter(Boolean).length > 1), 'some sequences need several raw writes');
  assert.deepEqual(possibleStarts([70, 9000, 40]), [true, true, true]);
});

test('grpo_jsonl.py log: every block a record at its header line, with its completion, solution, rewards and accu_reward_method', async () => {
  const run = vlm.jsonl!;
  const { recs, bad, format } = await read(join(VLM, 'jsonl', 'debug_log.txt'));
  assert.equal(format, 'vlmr1');
  assert.deepEqual(bad, []);
  assert.deepEqual(recs.map((r) => r.loc.line), run.blocks.map((b) => b.line));
  const at = byLine(recs);
  for (const b of run.blocks) {
    const r = at.get(b.line)!.record;
    assert.ok(sameText(r.completion, b), `line ${b.line}: completion exactly as logged`);
    assert.equal(r.solution, loggedSolution(b, false));
    assert.equal(r.step, b.step, `line ${b.line}: inferred step`);
    assert.deepEqual({ ...r.rewards }, b.rewards, `line ${b.line}: accuracy from the header, format from _format.txt`);
    assert.equal(r.meta?.accu_reward_method, b.accu_reward_method);
    assert.equal(r.meta?.step_inferred, true);
  }
  assert.ok(run.blocks.some((b) => b.completion?.includes('\nSolution: ')), 'a completion holds a "Solution:" line');
  assert.ok(run.blocks.some((b) => b.completion?.endsWith('\n')), 'a completion ends with a newline');
});

test('grpo_jsonl.py log: problem[0] is logged for the whole call; groups are problem + image + solution within a step', async () => {
  const run = vlm.jsonl!;
  const { recs, notes } = await read(join(VLM, 'jsonl', 'debug_log.txt'));
  const at = byLine(recs);
  // The first prompt of each call (step, rank) is the one whose problem the call logs.
  const firstSolution = new Map<string, string>();
  for (const b of run.blocks) if (b.problem === b.logged_problem && !firstSolution.has(`${b.step}/${b.rank}`)) firstSolution.set(`${b.step}/${b.rank}`, loggedSolution(b, false));
  for (const b of run.blocks) {
    const r = at.get(b.line)!.record;
    const own = b.problem === b.logged_problem;
    const tellable = loggedSolution(b, false) !== firstSolution.get(`${b.step}/${b.rank}`);
    if (own || !tellable) {
      // Its own prompt, or another prompt of the call with the same solution: the log cannot tell (noted below).
      assert.equal(r.prompt?.text, b.logged_problem, `line ${b.line}`);
    } else {
      assert.equal(r.prompt, undefined, `line ${b.line}: the logged problem is another prompt's`);
      assert.equal(r.meta?.logged_problem, b.logged_problem);
    }
    if (own && b.image_path) assert.deepEqual(r.prompt?.images, b.image_path);
  }
  // The truth's groups, except two prompts of one call that share a solution (step 2, rank 3): one group in the log.
  const merged = run.blocks.filter((b) => b.step === 2 && b.rank === 3);
  assert.equal(new Set(merged.map((b) => b.prompt)).size, 2);
  assert.equal(new Set(merged.map((b) => b.solution_raw)).size, 1);
  const truthKey = (b: Block): string => (b.step === 2 && b.rank === 3 ? 'merged' : b.prompt);
  assert.deepEqual(
    partitions(recs.map((r) => ({ line: r.loc.line, key: r.record.group! }))),
    partitions(run.blocks.map((b) => ({ line: b.line, key: truthKey(b) }))),
  );
  assert.ok(notes.some((n) => /^step 2: groups of different sizes \(6 of 2, 1 of 4\)/.test(n.message)), JSON.stringify(notes));
  assert.ok(notes.some((n) => /problem\[0\]/.test(n.message)));
  for (const g of new Set(recs.map((r) => r.record.group))) {
    const idx = recs.filter((r) => r.record.group === g).map((r) => r.record.index);
    assert.deepEqual(idx, idx.map((_, i) => i), `group ${g}: index counts its completions in file order`);
  }
});

test('grpo_jsonl.py before 2025-03-06 wrote its Format reward blocks into the log itself: the same verdicts join', async () => {
  const run = vlm.jsonl!;
  // The two files' blocks merged by their timestamps: what one LOG_PATH would have held.
  const blocksOf = (f: string): string[] => readFileSync(join(VLM, 'jsonl', f), 'utf8').split(/^(?=------------- )/m).filter((b) => b !== '');
  const stamp = (b: string): string => b.slice(14, 32);
  const merged = [...blocksOf('debug_log.txt'), ...blocksOf('debug_log_format.txt')].map((b, i) => ({ b, i })).sort((x, y) => stamp(x.b).localeCompare(stamp(y.b)) || x.i - y.i);
  const dir = mkdtempSync(join(tmpdir(), 'vlmr1-one-log-'));
  const log = join(dir, 'debug_log.txt');
  writeFileSync(log, merged.map((x) => x.b).join(''));
  const { recs, bad } = await read(log);
  assert.deepEqual(bad, []);
  assert.equal(recs.length, run.blocks.length);
  const byCompletion = new Map(run.blocks.map((b) => [b.completion, b]));
  for (const r of recs) assert.deepEqual({ ...r.record.rewards }, byCompletion.get(r.record.completion as string)!.rewards);
});

test('8 ranks appending: blocks over 8 KiB split into several writes are rejoined when only one way fits, flagged when not', async () => {
  const run = vlm.interleave!;
  const { recs, bad, notes } = await read(join(VLM, 'interleave', 'debug_log.txt'));
  assert.deepEqual(bad, []);
  assert.deepEqual(recs.map((r) => r.loc.line), run.blocks.map((b) => b.line));
  const at = byLine(recs);
  const split = run.blocks.filter((b) => b.interleaved);
  assert.equal(split.length, 4);
  // Ranks 1 and 5 wrote same-sized big blocks at the same moment: their writes alternate.
  const twins = split.filter((b) => b.rank === 1 || b.rank === 5);
  assert.equal(twins.length, 2);
  for (const b of run.blocks) {
    const r = at.get(b.line)!.record;
    assert.equal(r.step, b.step);
    assert.equal(r.rewards?.accuracy, b.rewards!.accuracy, `line ${b.line}: the header is in the block's first write`);
    if (!b.interleaved) {
      assert.ok(sameText(r.completion, b), `line ${b.line}`);
      assert.equal(r.solution, loggedSolution(b, false));
      assert.equal(r.meta?.split_write, undefined, `line ${b.line}`);
    } else if (twins.includes(b)) {
      assert.equal(r.meta?.split_write, 'ambiguous', `line ${b.line}`);
    } else {
      assert.equal(r.meta?.split_write, 'rejoined', `line ${b.line}`);
      assert.ok(sameText(r.completion, b), `line ${b.line}: its Content: came back`);
      assert.equal(r.solution, loggedSolution(b, false), `line ${b.line}: its Solution: came back`);
    }
    // A format verdict is never another completion's: absent only where that rank's format block was interleaved.
    const fmt = r.rewards?.format;
    if (fmt === undefined) assert.ok(run.format_interleaved_ranks.some(([s, k]) => s === b.step && k === b.rank), `line ${b.line}`);
    else assert.equal(fmt, b.rewards!.format, `line ${b.line}`);
  }
  assert.deepEqual(
    partitions(recs.map((r) => ({ line: r.loc.line, key: r.record.group! }))),
    partitions(run.blocks.map((b) => ({ line: b.line, key: b.prompt }))),
  );
  const rejoined = split.filter((b) => !twins.includes(b)).map((b) => b.line);
  assert.ok(rejoined.every((l) => notes.some((n) => n.line === l && /put back together/.test(n.message))), JSON.stringify(notes));
  assert.ok(notes.some((n) => n.line === twins[0]!.line && /cannot be told/.test(n.message) && n.message.includes(String(twins[1]!.line))));
});

test('qwen_module.py iou_reward log: problem[i] per completion, Solution is the parsed box, IoU rewards, format from format_reward_rec', async () => {
  const run = vlm.rec!;
  const { recs, bad, notes } = await read(join(VLM, 'rec', 'debug_log.txt'));
  assert.deepEqual(bad, []);
  const at = byLine(recs);
  assert.equal(recs.length, run.blocks.length);
  for (const b of run.blocks) {
    const r = at.get(b.line)!.record;
    assert.equal(r.completion, b.completion);
    assert.equal(r.solution, loggedSolution(b, true));
    assert.deepEqual(r.prompt, { text: b.problem, images: b.image_path });
    assert.deepEqual({ ...r.rewards }, b.rewards);
    assert.equal(r.step, b.step);
  }
  assert.deepEqual(
    partitions(recs.map((r) => ({ line: r.loc.line, key: r.record.group! }))),
    partitions(run.blocks.map((b) => ({ line: b.line, key: b.prompt }))),
  );
  assert.deepEqual(notes, []);
});

test('glm_module.py: <log>_iou.txt blocks (no reward in the header, a Reward: line, extra fields) joined with _format.txt\'s match: verdicts', async () => {
  const run = vlm.glm!;
  const { recs, bad, notes } = await read(join(VLM, 'glm'));
  assert.deepEqual(bad, []);
  assert.deepEqual(notes, []);
  assert.deepEqual(recs.map((r) => r.loc.line), run.blocks.map((b) => b.line));
  const text = readFileSync(join(VLM, 'glm', 'debug_log_iou.txt'), 'utf8').split('\n');
  for (const [i, b] of run.blocks.entries()) {
    const r = recs[i]!.record;
    assert.ok(recs[i]!.loc.file.endsWith('debug_log_iou.txt'));
    assert.equal(r.completion, b.completion);
    assert.equal(r.solution, loggedSolution(b, true));
    assert.deepEqual({ ...r.rewards }, b.rewards);
    // The extra lines, as written (glm's "Predicted bbox" is whatever `bbox` the function last set).
    const at = (k: string): string => text.slice(b.line).find((l) => l.startsWith(`${k}: `))!.slice(k.length + 2);
    assert.equal(r.meta?.predicted_bbox, at('Predicted bbox'));
    assert.equal(r.meta?.input_size, at('Input size'));
    assert.equal(r.meta?.image_grid_thw, at('Image grid thw'));
  }
});

test('grpo_rec.py (0586aee) log: no problem line, one timestamp per call; a prompt spread over two ranks shows as two groups, and a note says so', async () => {
  const run = vlm.rec_old!;
  const { recs, bad, notes } = await read(join(VLM, 'rec_old', 'debug_log.txt'));
  assert.deepEqual(bad, []);
  const at = byLine(recs);
  for (const b of run.blocks) {
    const r = at.get(b.line)!.record;
    assert.equal(r.completion, b.completion);
    assert.equal(r.solution, loggedSolution(b, false));
    assert.equal(r.prompt, undefined);
    assert.equal(r.step, b.step);
    assert.deepEqual({ ...r.rewards }, b.rewards);
  }
  // Each of our groups is one rank's part of one prompt: inside a truth group, never across two.
  const groups = new Map<string, Block[]>();
  for (const b of run.blocks) groups.set(at.get(b.line)!.record.group!, [...(groups.get(at.get(b.line)!.record.group!) ?? []), b]);
  for (const [g, bs] of groups) {
    assert.equal(new Set(bs.map((b) => b.prompt)).size, 1, `group ${g}`);
    assert.equal(new Set(bs.map((b) => b.rank)).size, 1, `group ${g}`);
  }
  assert.equal(groups.size, 2 * new Set(run.blocks.map((b) => b.prompt)).size);
  assert.ok(notes.some((n) => /more than one reward call/.test(n.message)));
});

test('R1-V log: one timestamp per call; groups are a call and a run of one solution; a Solution landing after another rank\'s block is rejoined', async () => {
  const { recs, bad, notes } = await read(join(R1V, 'debug_log_2b.txt'));
  assert.deepEqual(bad, []);
  const blocks = r1v.blocks;
  assert.deepEqual(recs.map((r) => r.loc.line), blocks.map((b) => b.line));
  const at = byLine(recs);
  for (const b of blocks) {
    const r = at.get(b.line)!.record;
    assert.ok(sameText(r.completion, b), `line ${b.line}`);
    assert.equal(r.solution, b.solution);
    assert.deepEqual({ ...r.rewards }, { accuracy: b.reward });
    assert.equal(r.step, b.step);
    assert.equal(r.meta?.split_write, b.interleaved ? 'rejoined' : undefined, `line ${b.line}`);
  }
  const split = blocks.filter((b) => b.interleaved);
  assert.equal(split.length, 1);
  // Two prompts of one call with the same solution (step 2, rank 1) are one run: one group of 2 x num_generations.
  const key = (b: Block): string => (b.step === 2 && b.rank === 1 ? 'merged' : b.prompt);
  assert.deepEqual(
    partitions(recs.map((r) => ({ line: r.loc.line, key: r.record.group! }))),
    partitions(blocks.map((b) => ({ line: b.line, key: key(b) }))),
  );
  assert.ok(notes.some((n) => n.line === split[0]!.line && /put back together/.test(n.message)));
  assert.ok(notes.some((n) => new RegExp(`^step 2: groups of different sizes \\(6 of ${r1v.num_generations}, 1 of ${2 * r1v.num_generations}\\)`).test(n.message)));
});

test('live: the writer goes quiet between a block\'s Content: and its late Solution:; the flush hands over the rest, the Solution is still rejoined', async () => {
  const path = join(R1V, 'debug_log_2b.txt');
  const lines = readFileSync(path, 'utf8').split('\n');
  const split = r1v.blocks.find((b) => b.interleaved)!;
  const late = lines.findIndex((l, i) => i > split.line && l === `Solution: ${split.solution}`) + 1;
  assert.ok(late > split.line && !lines[late - 2]!.startsWith('-----'), 'the Solution: follows another block');
  const whole = byLine((await read(path)).recs);
  const recs: LocatedRecord[] = [];
  const bad: BadLine[] = [];
  const sink = { record: (record: LocatedRecord['record'], loc: LocatedRecord['loc']) => recs.push({ record, loc }), bad: (b: BadLine) => bad.push(b) };
  const p = vlmr1Parser(sink, new FormatVerdicts());
  let offset = 0;
  let before = -1;
  lines.slice(0, -1).forEach((text, i) => {
    if (i + 1 === late) {
      p.flush(); // quiet: the late Solution: will arrive with no header before it
      before = recs.length;
    }
    p.line(text, { file: path, line: i + 1, offset });
    offset += Buffer.byteLength(text) + 1;
  });
  p.end();
  assert.deepEqual(bad, []);
  assert.ok(before > 0 && recs.slice(0, before).every((r) => r.loc.line < split.line), 'the flush handed over what came before the waiting block');
  assert.deepEqual(recs.map((r) => r.loc.line), [...whole.keys()]);
  for (const r of recs) assert.deepEqual(r.record, whole.get(r.loc.line)!.record, `line ${r.loc.line}`);
  assert.equal(whole.get(split.line)!.record.meta?.split_write, 'rejoined');
});

test('the follower reads a log that grows between the parts of a split block, each record once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vlmr1-follow-'));
  const log = join(dir, 'debug_log.txt');
  const text = readFileSync(join(VLM, 'interleave', 'debug_log.txt'));
  copyFileSync(join(VLM, 'interleave', 'debug_log_format.txt'), join(dir, 'debug_log_format.txt'));
  const whole = (await read(join(VLM, 'interleave', 'debug_log.txt'))).recs;
  const first = vlm.interleave!.blocks.find((b) => b.interleaved && b.rank === 3)!.line;
  let cut = 0;
  for (let i = 0; i < first + 3; i++) cut = text.indexOf(0x0a, cut) + 1; // after that block's first write
  writeFileSync(log, text.subarray(0, cut));
  const batches: FollowBatch[] = [];
  const f = await followRollouts(log, (b) => batches.push(b), { format: 'vlmr1', polling: true, pollMs: 20, blockIdleMs: 40 });
  await f.ready;
  // Quiet for blockIdleMs: what came before the waiting block is handed over (waited for, not
  // timed: a loaded machine polls late).
  for (let t = 0; t < 250 && batches.flatMap((b) => b.records).length === 0; t++) await new Promise((r) => setTimeout(r, 20));
  const early = batches.flatMap((b) => b.records).length;
  appendFileSync(log, text.subarray(cut));
  for (let t = 0; t < 250 && batches.flatMap((b) => b.records).length < whole.length; t++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100)); // and nothing more comes
  await f.close();
  const recs = batches.flatMap((b) => b.records);
  assert.ok(early > 0, 'records before the waiting block were handed over while the log was quiet');
  assert.deepEqual(batches.flatMap((b) => b.badLines), []);
  assert.deepEqual(recs.map((r) => r.loc.line), whole.map((r) => r.loc.line));
  assert.deepEqual(recs.map((r) => r.record.meta?.split_write), whole.map((r) => r.record.meta?.split_write));
  assert.deepEqual(recs.map((r) => r.record.completion), whole.map((r) => r.record.completion));
});

test('a block whose last write never came (a killed writer): handed over incomplete after the window fills, nothing else lost, no bad line', () => {
  const path = join(VLM, 'jsonl', 'debug_log.txt');
  const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
  const victim = vlm.jsonl!.blocks[3]!;
  const drop = lines.findIndex((l, i) => i > victim.line && l.startsWith('Solution: ')) + 1;
  const recs: LocatedRecord[] = [];
  const bad: BadLine[] = [];
  const notes: SourceNote[] = [];
  const p = vlmr1Parser({ record: (record, loc) => recs.push({ record, loc }), bad: (b) => bad.push(b), note: (n) => notes.push(n) }, new FormatVerdicts());
  let offset = 0;
  lines.forEach((text, i) => {
    if (i + 1 !== drop) p.line(text, { file: path, line: i + 1, offset });
    offset += Buffer.byteLength(text) + 1;
  });
  p.end();
  assert.deepEqual(bad, []);
  assert.deepEqual(recs.map((r) => r.loc.line).sort((a, b) => a - b), vlm.jsonl!.blocks.map((b) => b.line));
  const r = recs.find((x) => x.loc.line === victim.line)!.record;
  assert.equal(r.meta?.split_write, 'incomplete');
  assert.equal(r.solution, undefined);
  assert.ok(sameText(r.completion, victim));
  for (const x of recs) if (x !== recs.find((y) => y.loc.line === victim.line)) assert.equal(x.record.meta?.split_write, undefined, `line ${x.loc.line}`);
  assert.ok(notes.some((n) => n.line === victim.line && /never reached the file/.test(n.message)));
});
