import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The real CLI in a child process, exactly as a user runs it from a checkout.
const ROOT = join(__dirname, '../..');
function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SOL = '<think>[0,0,10,10 cat]</think><answer>D</answer>';
const BIG = 'x'.repeat(10 * 1024 * 1024);
let dir = '';
let file = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-cli-'));
  file = join(dir, 'rollouts.jsonl');
  const line = (o: unknown): Buffer => Buffer.from(JSON.stringify(o) + '\n');
  writeFileSync(file, Buffer.concat([
    /* 1 */ line({ v: 1, step: 1, group: 'g1', completion: SOL, solution: SOL, rewards: { accuracy: 1, format: 0.5, bbox: 1 }, reward: 2.5, uid: 'u1' }),
    /* 2 */ line({ v: 1, step: 1, group: 'g1', completion: '<think>no</think><answer>C</answer>', solution: SOL, rewards: { accuracy: 0, format: 0.5, bbox: 0 }, reward: 0.5 }),
    /* 3 */ Buffer.from('{"v":1,"completion":"trunc\n'),
    /* 4 */ line({ v: 1, step: 'x', completion: 'a' }),
    /* 5 */ Buffer.from('{"v":1,"completion":"a","reward":NaN}\n'),
    /* 6 */ Buffer.concat([Buffer.from('{"v":1,"completion":"'), Buffer.from([0xfe, 0xff]), Buffer.from('"}\n')]),
    /* 7 */ Buffer.from('\n'),
    /* 8 */ line({ v: 1, step: 2, group: 'g2', completion: `<think>${BIG}</think><answer>D</answer>`, solution: SOL }),
    /* 9 */ line({ v: 1, step: 2, group: 'g2', completion: '<think>y</think><answer>D</answer>', solution: SOL }),
    /* 10, no final newline */ Buffer.from(JSON.stringify({ v: 1, step: 5, completion: 'just text' })),
  ]));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('stats --json: one JSON line counting every valid completion and listing every bad line', () => {
  const r = cli('stats', file, '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim().split('\n').length, 1);
  const s = JSON.parse(r.out);
  assert.equal(s.completions, 5);
  assert.deepEqual(s.bad_lines.map((b: { line: number }) => b.line), [3, 4, 5, 6]);
  assert.match(s.bad_lines[0].error, /invalid JSON/);
  assert.equal(s.bad_lines[1].error, '"step" must be a finite number, got a string');
  assert.match(s.bad_lines[2].error, /invalid JSON/);
  assert.match(s.bad_lines[3].error, /^invalid UTF-8 at byte \d+$/);
  assert.equal(s.groups, 3); // g1, g2, and the derived group of line 10
  assert.deepEqual(s.steps, [1, 5]);
  // Logged: accuracy [1, 0] -> mean 0.5, sample std sqrt(0.5); reward [2.5, 0.5] -> 1.5, sqrt(2).
  assert.ok(Math.abs(s.rewards.accuracy.mean - 0.5) < 1e-12);
  assert.ok(Math.abs(s.rewards.accuracy.std - Math.SQRT1_2) < 1e-12);
  assert.ok(Math.abs(s.reward.mean - 1.5) < 1e-12 && Math.abs(s.reward.std - Math.SQRT2) < 1e-12);
  // g2 logs no totals: recomputed, 1.5 and 1.5. g1 logs 2.5 and 0.5. The lone line 10 is a group
  // of one, which the viewer does not flag either.
  assert.equal(s.zero_variance_groups, 1);
  assert.equal(s.format_failures, 1);
});

test('stats without --json prints a readable table', () => {
  const r = cli('stats', file);
  assert.equal(r.code, 0);
  assert.match(r.out, /^completions\s+5$/m);
  assert.match(r.out, /^\s+line 6: invalid UTF-8 at byte \d+$/m);
});

test('score: one JSON line per valid completion with recomputed rewards and advantages', () => {
  const r = cli('score', file);
  assert.equal(r.code, 0, r.err);
  const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((x) => x.line), [1, 2, 8, 9, 10]);
  assert.deepEqual(rows.map((x) => x.group), ['g1', 'g1', 'g2', 'g2', '~5/0']);
  assert.deepEqual(rows.map((x) => x.reward), [2.5, 0.5, 1.5, 1.5, 0]);
  assert.deepEqual(rows[0].rewards, { accuracy: 1, format: 0.5, bbox: 1 });
  assert.ok(Math.abs(rows[0].advantage - 1 / (Math.SQRT2 + 1e-4)) < 1e-12);
  assert.deepEqual(rows.map((x) => x.zero_variance), [false, false, true, true, true]);
  assert.deepEqual(rows.map((x) => x.reward_mismatch), [false, false, false, false, false]);
  assert.deepEqual(rows[0].boxes, { pred: [{ label: 'cat', box: [0, 0, 10, 10] }], gold: [{ label: 'cat', box: [0, 0, 10, 10] }], ious: [1], matched: [0] });
  assert.deepEqual(r.err.trim().split('\n').map((l) => Number(l.slice(file.length + 1).split(':')[0])), [3, 4, 5, 6]);
});

test('score --variant vsr changes the rewards; bad options are usage errors (exit 2, one line)', () => {
  const r = cli('score', file, '--variant', 'vsr');
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.out.split('\n')[0]!).rewards, { accuracy: 1, format: 1 });
  for (const args of [['--matching', 'greedy'], ['--variant', 'nope'], ['--min-pixels', '-3'], ['--bogus']]) {
    const bad = cli('score', file, ...args);
    assert.equal(bad.code, 2, args.join(' '));
    assert.equal(bad.out, '');
    assert.equal(bad.err.trim().split('\n').length, 1, bad.err);
  }
});

test('export: canonical v1 JSONL for every valid line, in file order, unknown fields kept', () => {
  const r = cli('export', file);
  assert.equal(r.code, 0);
  const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 5);
  assert.equal(rows[0].uid, 'u1');
  assert.equal(rows[0].group, 'g1');
  assert.equal(rows[2].completion.length, BIG.length + '<think></think><answer>D</answer>'.length);
  assert.equal(rows[4].completion, 'just text');
  assert.equal(r.err.trim().split('\n').length, 4);
});

test('a missing file or bad usage exits 2 with one line on stderr', () => {
  // A folder is a source now (per-step files); one holding nothing recognisable is still exit 2.
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });
  for (const args of [['stats', join(dir, 'missing.jsonl')], ['export', join(dir, 'missing.jsonl')], ['score', empty], ['stats'], ['export', 'a', 'b']]) {
    const r = cli(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.out, '');
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
  const help = cli('stats', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /SAMPLE standard deviation/);
});

test('score names each logged value that disagrees: the sample\'s mis-logged bbox reward, and nothing else', async () => {
  const { generateSample, MISLOGGED } = await import('../../scripts/sample/generate');
  const out = mkdtempSync(join(tmpdir(), 'grpo-cli-sample-'));
  try {
    const { file } = generateSample(out);
    const r = cli('score', file);
    assert.equal(r.code, 0, r.err);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l) as { group: string; mismatches: string[]; reward_mismatch: boolean });
    const flagged = rows.filter((x) => x.reward_mismatch);
    assert.equal(flagged.length, 1);
    assert.equal(flagged[0]!.group, MISLOGGED.group);
    assert.deepEqual(flagged[0]!.mismatches, ['bbox']);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
