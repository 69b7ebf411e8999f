// `grpo-studio query` as a user runs it (the real CLI in a child process): the index answers
// numeric and text queries in file order, the four outputs agree with a brute-force reading of
// the file, bad lines go to stderr without hiding the rest, and bad queries name their column.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scoreRecord } from '../../src/core/rewards/variants';
import { DEFAULT_SCORE_OPTIONS } from '../../src/core/rewards/scoreDefaults';
import type { RolloutRecord } from '../../src/core/schema/record';

const ROOT = join(__dirname, '../..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let dir = '';
let file = '';
const records: Array<{ step: number; group: string; index: number; completion: string; solution: string; rewards: { accuracy: number; bbox: number }; reward: number }> = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'query-cli-'));
  const lines: string[] = [];
  for (let step = 0; step < 6; step++) {
    for (let k = 0; k < 4; k++) {
      const bbox = ((step * 4 + k) % 7) / 10;
      const rec = { step, group: `${step}/0`, index: k, completion: `<think>The café sign is ${k % 2 ? 'left of' : 'right of'}\nthe door</think> <answer>${k % 2 ? 'left' : 'right'}</answer>`, solution: `<answer>${step === 5 ? 'right' : 'left'}</answer>`, rewards: { accuracy: k % 2, bbox }, reward: (k % 2) + bbox };
      records.push(rec);
      lines.push(JSON.stringify({ v: 1, ...rec }));
    }
    if (step === 2) lines.push('{"step": 2, "completion": "cut off');
  }
  file = join(dir, 'run.rollouts.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The 1-based line of records[i] in the file (one bad line after step 2's four). */
const lineOf = (i: number) => i + 1 + (i >= 12 ? 1 : 0);

test('query: numeric and text queries through the index, each output, bad lines on stderr, exit codes', () => {
  const want = records.map((r, i) => ({ r, i })).filter(({ r }) => r.rewards.bbox < 0.3 && r.step > 1);
  const plain = cli('query', file, 'reward.bbox < 0.3 and step > 1');
  assert.equal(plain.code, 0, plain.err);
  assert.deepEqual(plain.out.trim().split('\n'), want.map(({ r, i }) => [lineOf(i), r.group, r.step, Number(Math.fround(r.reward).toPrecision(7))].join('\t')));
  assert.match(plain.err, /run\.rollouts\.jsonl:13: /, 'the bad line, named');

  const json = cli('query', file, 'reward.bbox < 0.3 and step > 1', '--json');
  assert.deepEqual(json.out.trim().split('\n').map((l) => JSON.parse(l) as { line: number; index: number }).map((o) => [o.line, o.index]), want.map(({ r, i }) => [lineOf(i), r.index]));

  // Text across an escaped newline: the regex sees the decoded completion.
  const re = cli('query', file, 'completion ~ /left of\\s+the door/', '--records', '--limit', '3');
  const got = re.out.trim().split('\n').map((l) => JSON.parse(l) as { step: number; index: number; completion: string });
  const brute = records.filter((r) => /left of\s+the door/.test(r.completion)).slice(0, 3);
  assert.deepEqual(got.map((g) => [g.step, g.index, g.completion]), brute.map((r) => [r.step, r.index, r.completion]));

  assert.equal(cli('query', file, 'text ~ "café"', '--count').out.trim(), String(records.length));
  assert.equal(cli('query', file, '', '--count').out.trim(), String(records.length), 'an empty query matches all');

  const none = cli('query', file, 'step > 100');
  assert.equal(none.code, 1, 'nothing matched: exit 1, like grep');
  assert.equal(none.out, '');

  const bad = cli('query', file, 'step > ');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /expected a number after ">", got the end of the query \(column 8\)/);
  const typo = cli('query', file, 'reward.bboxx < 1');
  assert.equal(typo.code, 2);
  assert.match(typo.err, /no reward function "bboxx" in this file \(logged: accuracy, bbox\)/);
  assert.equal(cli('query', join(dir, 'missing.jsonl'), 'step > 1').code, 2);
  assert.equal(cli('query', file, 'step > 1', '--json', '--count').code, 2, 'outputs exclude each other');
});

test('query: score and score.<name> are the recomputed rewards (scored first), as the reward functions give them; an unknown one is named', () => {
  const scored = records.map((r) => scoreRecord({ v: 1, ...r } as unknown as RolloutRecord, 'grounding', { ...DEFAULT_SCORE_OPTIONS, matching: 'seed' }));
  const count = (pred: (s: (typeof scored)[number]) => boolean) => String(scored.filter(pred).length);
  assert.ok(scored.some((s) => s.rewards.accuracy === 1) && scored.some((s) => s.rewards.accuracy === 0), 'both accuracies occur');
  const acc = cli('query', file, 'score.accuracy == 1', '--count');
  assert.equal(acc.code, 0, acc.err);
  assert.equal(acc.out.trim(), count((s) => s.rewards.accuracy === 1));
  const total = cli('query', file, 'score >= 1 and step < 4', '--count');
  assert.equal(total.out.trim(), String(scored.filter((s, i) => Math.fround(s.reward) >= 1 && records[i]!.step < 4).length));
  // Logged and recomputed side by side: where the trainer's accuracy disagrees with ours.
  const disagree = cli('query', file, 'reward.accuracy == 1 and score.accuracy == 0', '--count');
  assert.equal(disagree.out.trim(), String(scored.filter((s, i) => records[i]!.rewards.accuracy === 1 && s.rewards.accuracy === 0).length));
  assert.ok(Number(disagree.out.trim()) > 0, 'step 5 logs accuracy 1 for a wrong answer');
  const unknown = cli('query', file, 'score.iou > 0');
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.err, /no recomputed reward "iou" \(recomputed: accuracy, format, bbox\) \(column 7\)/);
});
