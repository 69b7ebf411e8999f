/**
 * The parallel index build (worker threads over byte ranges, merged) gives exactly the index the
 * sequential `update()` gives: every column bit for bit, the group table, the reward columns in
 * the same order, the bad lines, and where a later `update` resumes. Real worker threads on real
 * files, cut into many small ranges so boundaries fall inside groups and derived runs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { RolloutIndex, type IndexProgress } from '../../src/core/index/rolloutIndex';
import { splitRanges, updateParallel, type ParallelOptions } from '../../src/core/index/parallel';
import type { AnyColumn } from '../../src/core/index/columns';
import { benchLine, seededRandom } from '../../bench/generate';
import { randomFile } from './index-records';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-parallel-'));
});
const opened: RolloutIndex[] = [];
after(async () => {
  await Promise.all(opened.map((i) => i.close()));
  rmSync(dir, { recursive: true, force: true });
});

const bytesOf = (c: AnyColumn, n: number): Buffer => {
  const d = c.data.subarray(0, Math.min(n, c.data.length));
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
};

/** Every column's bytes (NaN payloads included), the groups, reward columns in order, bad lines. */
function assertSame(par: RolloutIndex, seq: RolloutIndex, what: string): void {
  assert.equal(par.count, seq.count, `${what}: count`);
  assert.equal(par.bytesConsumed, seq.bytesConsumed, `${what}: bytes consumed`);
  assert.deepEqual(par.badLines, seq.badLines, `${what}: bad lines`);
  const n = seq.count;
  const cols = ['fileOf', 'bodyOf', 'offsetLow', 'offsetHigh', 'byteLength', 'line', 'step', 'group', 'index', 'total', 'advantage',
    'length', 'flags', 'completionAt', 'scoredTotal', 'scoredAdvantage', 'verdict', 'verdictType'] as const;
  for (const c of cols) {
    assert.equal(par[c].data.length === 0, seq[c].data.length === 0, `${what}: column ${c} held or not`);
    assert.ok(bytesOf(par[c], n).equals(bytesOf(seq[c], n)), `${what}: column ${c}`);
  }
  assert.deepEqual([...par.rewards.keys()], [...seq.rewards.keys()], `${what}: reward columns in order`);
  assert.deepEqual(par.rewardNames, seq.rewardNames, `${what}: reward names`);
  for (const [name, col] of seq.rewards) assert.ok(bytesOf(par.rewards.get(name)!, n).equals(bytesOf(col, n)), `${what}: reward.${name}`);
  assert.deepEqual(par.groups.keys, seq.groups.keys, `${what}: group keys`);
  const g = seq.groups.count;
  for (const c of ['first', 'last', 'size', 'step', 'minTotal', 'maxTotal', 'withTotal', 'lo', 'hi', 'mean', 'flags'] as const) {
    assert.ok(bytesOf(par.groups[c], g).equals(bytesOf(seq.groups[c], g)), `${what}: group ${c}`);
  }
}

/** Builds `path` both ways; the parallel one must really have run in workers. */
async function both(path: string, opts: ParallelOptions = {}): Promise<{ par: RolloutIndex; seq: RolloutIndex }> {
  const seq = new RolloutIndex(path);
  await seq.update({ follow: opts.follow });
  const par = new RolloutIndex(path);
  const r = await updateParallel(par, { minBytes: 0, workers: 3, ranges: 7, ...opts });
  assert.equal(r.fallback, undefined, `${path}: no fallback`);
  assert.ok(r.workers >= 2 || r.ranges <= 1, `${path}: ran in ${r.workers} workers over ${r.ranges} ranges`);
  assert.equal(r.added, par.count);
  opened.push(par, seq);
  return { par, seq };
}

test('ranges start at line starts, cover the file and cut lines longer than a read', () => {
  const path = join(dir, 'cuts.jsonl');
  const long = 'x'.repeat(200_000);
  writeFileSync(path, `a\n${long}\nb\n\n${long}`);
  const size = 2 + long.length + 1 + 2 + 1 + long.length;
  for (const [n, first] of [[1, undefined], [2, undefined], [3, undefined], [5, 3], [40, undefined], [4, 100_000]] as const) {
    const r = splitRanges(path, size, n, first);
    assert.equal(r[0]![0], 0);
    assert.equal(r[r.length - 1]![1], size);
    for (let k = 1; k < r.length; k++) assert.equal(r[k]![0], r[k - 1]![1], `n=${n}: contiguous`);
    for (const [s] of r) assert.ok([0, 2, 2 + long.length + 1, 2 + long.length + 3, 2 + long.length + 4].includes(s), `n=${n}: ${s} is a line start`);
  }
  const short = join(dir, 'short-lines.jsonl');
  writeFileSync(short, 'abcdefghi\n'.repeat(1000)); // 10 bytes a line
  const r = splitRanges(short, 10_000, 4, 1_005);
  assert.deepEqual(r.map(([s, e]) => e - s), [1_010, 3_000, 3_000, 2_990], 'the first range about `first` bytes, the others equal');
});

test('random lines of every layout (bad, blank, CRLF, escapes, segments, no group, numeric keys) build the same index', async () => {
  for (const seed of [11, 12, 13]) {
    const path = join(dir, `random-${seed}.jsonl`);
    writeFileSync(path, randomFile(seed, 2500).text);
    for (const ranges of [2, 7, 23]) {
      const { par, seq } = await both(path, { ranges });
      assert.ok(seq.badLines.length > 10 && seq.count > 2000, 'the data has bad lines and rows');
      assertSame(par, seq, `seed ${seed}, ${ranges} ranges`);
    }
  }
});

/** Bench-like lines with long runs without `group`, lines over 64 KiB, unicode, invalid UTF-8, no final newline. */
function mixedFile(seed: number, count: number): Buffer {
  const rnd = seededRandom(seed);
  const parts: Buffer[] = [];
  for (let n = 0; n < count; n++) {
    let line = benchLine(n, rnd);
    const o = JSON.parse(line) as Record<string, unknown>;
    if (n % 300 >= 200 && n % 300 < 260) delete o.group; // a derived run of 60 lines, spanning cuts
    if (n % 97 === 5) o.completion = `<think>${'très long 東京 '.repeat(6000)}</think><answer>A</answer>`; // > 64 KiB
    if (n % 89 === 7) o.prompt = { text: 'p'.repeat(70_000) }; // completion past 64 KiB in the line
    if (n % 71 === 3) delete o.reward; // the total is the rewards summed
    if (n % 113 === 9) o.rewards = { ...(o.rewards as object), [`late_${Math.floor(n / 500)}`]: 0.25 }; // new reward names mid-file
    line = JSON.stringify(o);
    if (n % 131 === 17) parts.push(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])); // invalid UTF-8
    else if (n % 151 === 19) parts.push(Buffer.from('{"completion": "cut'));
    else parts.push(Buffer.from(line));
    parts.push(Buffer.from(n === count - 1 ? '' : n % 53 === 0 ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}

test('bench-like lines with derived runs across cuts, long lines, unicode and bad bytes build the same index', async () => {
  const path = join(dir, 'mixed.jsonl');
  writeFileSync(path, mixedFile(5, 3000));
  for (const ranges of [3, 16, 61]) {
    const { par, seq } = await both(path, { ranges, workers: 4 });
    assert.ok(seq.groups.keys.some((k) => k.startsWith('~')), 'derived groups exist');
    assert.ok(seq.badLines.length >= 20, 'bad lines exist');
    assert.ok([...seq.rewards.keys()].some((k) => k.startsWith('late_')), 'late reward names exist');
    assertSame(par, seq, `mixed, ${ranges} ranges`);
  }
});

test('a range at every line: a written group between two derived runs of one prompt ends the first; rewards sum in name order', async () => {
  const path = join(dir, 'every-line.jsonl');
  const d = (n: number): string => JSON.stringify({ v: 1, step: 2, index: n, prompt: { text: 'same', images: ['a.png'] }, completion: `<answer>${n}</answer>`, reward: n });
  const lines: string[] = [];
  for (let n = 0; n < 40; n++) {
    lines.push(d(n), d(n + 1));
    if (n % 3 === 0) lines.push('not json'); // a bad line does not end a derived run
    for (const index of [0, 1]) lines.push(JSON.stringify({ v: 1, step: 2, group: `g${n % 4}`, index, completion: 'x', rewards: { a: 1e30, c: -1e30, b: 1 } }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
  const { par, seq } = await both(path, { ranges: lines.length, workers: 3 });
  assert.ok(seq.groups.keys.filter((k) => k.startsWith('~')).length >= 40, 'each derived run has its own key');
  assert.deepEqual([seq.total.data[2], seq.total.data[3]], [0, 0], 'the logged rewards sum in name order: (1e30 + 1) - 1e30');
  assertSame(par, seq, 'a range at every line');
});

test('empty, one-line and one-bad-line files', async () => {
  const one = benchLine(0, seededRandom(1));
  for (const [name, text] of [['empty', ''], ['one', one], ['one-nl', `${one}\n`], ['bad', 'nope'], ['blank', '\n\n'], ['no-group', one.replace(/"group":"[^"]*",/, '')]] as const) {
    const path = join(dir, `${name}.jsonl`);
    writeFileSync(path, text);
    const { par, seq } = await both(path, { ranges: 3 });
    assertSame(par, seq, name);
  }
});

test('a later update resumes where the parallel build stopped; follow holds a partial last line the same way', async () => {
  const path = join(dir, 'grow.jsonl');
  const full = mixedFile(9, 1200);
  const cut = full.indexOf('\n', 600_000) + 40; // inside a line
  writeFileSync(path, full.subarray(0, cut));
  const { par, seq } = await both(path, { follow: true, ranges: 5 });
  assertSame(par, seq, 'followed, partial last line');
  appendFileSync(path, full.subarray(cut));
  await seq.update({ follow: true });
  await par.update({ follow: true });
  assertSame(par, seq, 'followed, after the file grew');
  appendFileSync(path, '\n' + benchLine(5000, seededRandom(2)) + '\n');
  await seq.update();
  await par.update();
  assertSame(par, seq, 'after a second pass');
});

test('progress: bytes grow to the file size, the last report is done with every completion', async () => {
  const path = join(dir, 'progress.jsonl');
  writeFileSync(path, mixedFile(3, 2000));
  const seen: IndexProgress[] = [];
  const index = new RolloutIndex(path);
  await updateParallel(index, { minBytes: 0, workers: 2, ranges: 9, progressIntervalMs: 0, onProgress: (p) => seen.push(p) });
  assert.ok(seen.length >= 3, `${seen.length} reports`);
  for (let k = 1; k < seen.length; k++) assert.ok(seen[k]!.bytes >= seen[k - 1]!.bytes, 'bytes never go back');
  const last = seen[seen.length - 1]!;
  assert.deepEqual(last, { completions: index.count, badLines: index.badLines.length, bytes: last.totalBytes, totalBytes: last.totalBytes, done: true });
});

test('a worker that cannot start: the build finishes sequentially and says why', async () => {
  const path = join(dir, 'fallback.jsonl');
  writeFileSync(path, mixedFile(4, 800));
  const broken = join(dir, 'broken-worker.js');
  writeFileSync(broken, 'throw new Error("no worker here");\n');
  const par = new RolloutIndex(path);
  const r = await updateParallel(par, { minBytes: 0, workers: 2, ranges: 4, workerPath: broken });
  assert.match(r.fallback ?? '', /no worker here/);
  const seq = new RolloutIndex(path);
  await seq.update();
  assertSame(par, seq, 'fallback');
});

test('an abort keeps a prefix the next update completes', async () => {
  const path = join(dir, 'abort.jsonl');
  writeFileSync(path, mixedFile(6, 1500));
  const ctl = new AbortController();
  const par = new RolloutIndex(path);
  const r = await updateParallel(par, { minBytes: 0, workers: 2, ranges: 12, progressIntervalMs: 0,
    onProgress: (p) => (p.completions > 300 ? ctl.abort() : undefined), signal: ctl.signal });
  assert.equal(r.aborted, true);
  assert.ok(par.count < 1400, `stopped early at ${par.count}`);
  await par.update();
  const seq = new RolloutIndex(path);
  await seq.update();
  assertSame(par, seq, 'aborted then completed');
});

test('bundled as it ships: a bundle finds index-worker.js beside itself and builds in workers', async () => {
  const root = resolve(__dirname, '../..');
  const out = join(dir, 'dist');
  mkdirSync(out, { recursive: true });
  const node = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent' } as const;
  buildSync({ ...node, entryPoints: { 'index-worker': join(root, 'src/core/index/scanWorker.ts') }, outdir: out });
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, [
    `import { RolloutIndex } from ${JSON.stringify(join(root, 'src/core/index/rolloutIndex'))};`,
    `import { updateParallel } from ${JSON.stringify(join(root, 'src/core/index/parallel'))};`,
    'const index = new RolloutIndex(process.argv[2]!);',
    'void updateParallel(index, { minBytes: 0, workers: 2, ranges: 5 }).then((r) => console.log(JSON.stringify({ ...r, count: index.count, groups: index.groups.count })));',
  ].join('\n'));
  buildSync({ ...node, entryPoints: [entry], outfile: join(out, 'cli.js') });
  const path = join(dir, 'shipped.jsonl');
  writeFileSync(path, mixedFile(8, 600));
  const r = JSON.parse(execFileSync(process.execPath, [join(out, 'cli.js'), path], { encoding: 'utf8' })) as { workers: number; fallback?: string; count: number; groups: number };
  const seq = new RolloutIndex(path);
  await seq.update();
  opened.push(seq);
  assert.deepEqual({ workers: r.workers, fallback: r.fallback, count: r.count, groups: r.groups }, { workers: 2, fallback: undefined, count: seq.count, groups: seq.groups.count });
});
