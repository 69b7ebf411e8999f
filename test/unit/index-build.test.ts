import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRollouts } from '../../src/core/ingest/v1Reader';
import type { RolloutRecord } from '../../src/core/schema/record';
import { formatMatches } from '../../src/core/chain/parse';
import { completionText } from '../../src/core/schema/record';
import { FLAG } from '../../src/core/index/columns';
import { RolloutIndex, RowReadError, type IndexProgress } from '../../src/core/index/rolloutIndex';
import { benchLine } from '../../bench/generate';
import { expectedRows, randomFile, seededRandom, type ExpectedRow } from './index-records';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-index-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function fullRead(path: string): Promise<{ rows: ExpectedRow[]; bad: { line: number; error: string }[] }> {
  const items: { record: RolloutRecord; loc: { line: number; offset: number } }[] = [];
  const s = await readRollouts(path, (record, loc) => items.push({ record, loc }));
  return { rows: expectedRows(items), bad: s.badLines.map((b) => ({ line: b.line, error: b.error })) };
}

/** Every column of every row equals what the full parse gives (floats as float32). */
function assertColumns(index: RolloutIndex, rows: ExpectedRow[], what: string, indexRows?: number[]): void {
  assert.equal(indexRows?.length ?? index.count, rows.length, `${what}: row count`);
  const names = new Set(rows.flatMap((r) => Object.keys(r.rewards)));
  assert.deepEqual([...index.rewardNames].sort(), [...names].sort(), `${what}: reward names`);
  rows.forEach((e, k) => {
    const i = indexRows ? indexRows[k]! : k;
    const at = `${what}: row ${i} (line ${e.line})`;
    assert.equal(index.offsetOf(i), e.offset, `${at} offset`);
    assert.equal(index.line.data[i], e.line, `${at} line`);
    assert.equal(index.step.data[i], e.step, `${at} step`);
    assert.equal(index.groups.keys[index.group.data[i]!], e.group, `${at} group`);
    assert.equal(index.index.data[i], e.index, `${at} index`);
    assert.deepEqual(index.total.data[i], Math.fround(e.total), `${at} total`);
    assert.deepEqual(index.advantage.data[i], Math.fround(e.advantage), `${at} advantage`);
    assert.equal(index.length.data[i], e.length, `${at} length`);
    assert.equal((index.flags.data[i]! & FLAG.formatOk) !== 0, formatMatches(completionText(e.record)), `${at} format_ok`);
    for (const n of names) assert.deepEqual(index.rewards.get(n)!.data[i], Math.fround(e.rewards[n] ?? NaN), `${at} reward.${n}`);
  });
}

test('fast scan gives the columns of a full parse on 3,000 random lines of every layout (seeded)', async () => {
  for (const seed of [1, 2, 3]) {
    const { text, lines } = randomFile(seed, 1000);
    const path = join(dir, `random-${seed}.jsonl`);
    writeFileSync(path, text);
    const expected = await fullRead(path);
    const fast = new RolloutIndex(path);
    await fast.update();
    const full = new RolloutIndex(path);
    await full.update({ validate: 'full' });
    // The fast path also indexes lines whose only error is deep inside a value it skips.
    const deepLines = new Set(lines.flatMap((l, i) => (l.kind === 'deep' ? [i + 1] : [])));
    assert.ok(deepLines.size > 0 && fast.count > 900, `seed ${seed}: the data has deep errors and rows`);
    const viaFullParse = Array.from(fast.flags.data).filter((f) => f & FLAG.fullParse).length;
    assert.ok(viaFullParse > 100 && viaFullParse < fast.count - 400, `seed ${seed}: both paths exercised (${viaFullParse} of ${fast.count} fully parsed)`);
    assertColumns(full, expected.rows, `full ${seed}`);
    assert.deepEqual(full.badLines.map((b) => ({ line: b.line, error: b.error })), expected.bad, `full ${seed}: bad lines`);
    const fastRows = Array.from({ length: fast.count }, (_, i) => i).filter((i) => !deepLines.has(fast.line.data[i]!));
    assert.equal(fastRows.length, expected.rows.length, `seed ${seed}: rows besides the deep ones`);
    assertColumns(fast, expected.rows, `fast ${seed}`, fastRows);
    assert.deepEqual(fast.badLines.map((b) => ({ line: b.line, error: b.error })), expected.bad.filter((b) => !deepLines.has(b.line)), `fast ${seed}: bad lines`);
    for (const i of Array.from({ length: fast.count }, (_, k) => k).filter((k) => deepLines.has(fast.line.data[k]!))) {
      await assert.rejects(fast.readRecord(i), RowReadError, 'a deep error surfaces when the row is read back');
    }
    await Promise.all([fast.close(), full.close()]);
  }
});

test('invalid UTF-8 and CRLF lines: bad with their line numbers, like the v1 reader', async () => {
  const path = join(dir, 'utf8.jsonl');
  writeFileSync(path, Buffer.concat([
    Buffer.from('{"completion":"ok","step":1,"group":"a"}\r\n'),
    Buffer.from('{"completion":"bad \xff byte","group":"a"}\n', 'latin1'),
    Buffer.from('\n{"completion":"<think>x</think><answer>A</answer>","group":"a","reward":1}'),
  ]));
  const index = new RolloutIndex(path);
  await index.update();
  assert.equal(index.count, 2);
  assert.deepEqual(Array.from(index.line.data), [1, 4]);
  assert.equal(index.badLines.length, 1);
  assert.equal(index.badLines[0]!.line, 2);
  assert.match(index.badLines[0]!.error, /invalid UTF-8 at byte 61/);
  assert.equal(index.flags.data[1]! & FLAG.formatOk, FLAG.formatOk);
  assert.equal(index.flags.data[0]! & FLAG.formatOk, 0);
  assert.deepEqual((await index.readRecord(1)).record.reward, 1);
  await index.close();
});

test('bytes appended at random cut points (inside lines and UTF-8 sequences) index like one pass', async () => {
  const { text } = randomFile(9, 600);
  const path = join(dir, 'whole.jsonl');
  writeFileSync(path, text.endsWith('\n') ? text : text + '\n');
  const whole = new RolloutIndex(path);
  await whole.update();
  const bytes = readFileSync(path);
  const rnd = seededRandom(5);
  const live = new RolloutIndex(path);
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(rnd() * 300);
    live.appendBytes(bytes.subarray(at, at + n));
    at += n;
  }
  assert.equal(live.count, whole.count);
  for (const name of ['step', 'group', 'index', 'total', 'advantage', 'length', 'flags', 'line', 'offsetLow'] as const) {
    assert.deepEqual(Array.from(live[name].data.subarray(0, live.count)), Array.from(whole[name].data), name);
  }
  assert.deepEqual(live.groups.keys, whole.groups.keys);
  await Promise.all([whole.close(), live.close()]);
});

test('follow: a partial last line waits for its newline; truncation starts over; progress and abort', async () => {
  const path = join(dir, 'live.jsonl');
  const line = (n: number): string => benchLine(n, seededRandom(n));
  writeFileSync(path, `${line(0)}\n${line(1)}\n${line(2).slice(0, 50)}`);
  const index = new RolloutIndex(path);
  let r = await index.update({ follow: true });
  assert.deepEqual([r.added, index.count, index.badLines.length], [2, 2, 0]);
  appendFileSync(path, `${line(2).slice(50)}\n${line(3)}\n`);
  r = await index.update({ follow: true });
  assert.deepEqual([r.added, index.count, r.truncated], [2, 4, false]);
  assert.equal((await index.readRecord(2)).record.step, 0);
  truncateSync(path, 0);
  writeFileSync(path, `${line(7)}\n`);
  r = await index.update({ follow: true });
  assert.deepEqual([r.truncated, index.count, index.line.data[0]], [true, 1, 1]);

  // 400 lines in 4 KiB reads: rows are there while it runs, abort stops it, update resumes.
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, Array.from({ length: 400 }, (_, n) => line(n) + '\n').join(''));
  const idx = new RolloutIndex(big);
  const ctl = new AbortController();
  const seen: IndexProgress[] = [];
  r = await idx.update({ chunkBytes: 4096, progressIntervalMs: 0, signal: ctl.signal, onProgress: (p) => {
    seen.push(p);
    if (p.completions > 100) ctl.abort();
  } });
  assert.equal(r.aborted, true);
  assert.ok(idx.count > 100 && idx.count < 400, `stopped part way (${idx.count})`);
  assert.equal(seen.at(-1)!.done, false);
  r = await idx.update({ chunkBytes: 4096, onProgress: (p) => seen.push(p) });
  assert.deepEqual([r.aborted, idx.count, seen.at(-1)!.done, seen.at(-1)!.completions], [false, 400, true, 400]);
  await Promise.all([index.close(), idx.close()]);
});

test('records and groups read back from the file equal the full parse; groups split across the file', async () => {
  const path = join(dir, 'groups.jsonl');
  const recs = [
    { group: 'g1', step: 1, completion: 'a', reward: 1 },
    { group: 'g1', step: 1, completion: 'b', reward: 1 },
    { group: 'g2', step: 1, completion: 'c', reward: 0 },
    { group: 'g1', step: 1, completion: 'd', reward: 1 },
    { group: 'g2', step: 2, completion: 'e', reward: 1 },
    { group: 'g3', step: 2, completion: 'f' },
    { group: 'g3', step: 2, completion: 'g' },
  ];
  writeFileSync(path, recs.map((r) => JSON.stringify(r)).join('\n'));
  const index = new RolloutIndex(path);
  await index.update();
  assert.deepEqual(index.groups.keys, ['g1', 'g2', 'g3']);
  assert.deepEqual(Array.from(index.groupRows(0)), [0, 1, 3]);
  assert.deepEqual(Array.from(index.groupRows(2)), [5, 6]);
  assert.deepEqual((await index.readGroup(0)).map((l) => l.record.completion), ['a', 'b', 'd']);
  assert.deepEqual((await index.readGroup(2)).map((l) => [l.record.completion, l.loc.line]), [['f', 6], ['g', 7]]);
  assert.equal(index.groups.zeroVariance(0), true, 'g1: all totals 1');
  assert.equal(index.groups.zeroVariance(1), false, 'g2: 0 and 1');
  assert.equal(index.groups.zeroVariance(2), false, 'g3: no totals logged');
  const row = (r: number) => [index.line.data[r], index.groups.keys[index.group.data[r]!], index.step.data[r], index.total.data[r], index.fileAt(r)];
  assert.deepEqual([row(3), row(4), row(6)], [[4, 'g1', 1, 1, path], [5, 'g2', 2, 1, path], [7, 'g3', 2, NaN, path]]);
  const g2 = index.groups.id('g2')!;
  assert.deepEqual([index.groups.size.data[g2], index.groups.first.data[g2], index.groups.minTotal.data[g2], index.groups.maxTotal.data[g2]], [2, 2, 0, 1]);
  await index.close();
});

test('index memory stays within 80 bytes per completion on benchmark-shaped lines, before scoring (the model\'s budget is 100 with the recomputed columns)', async () => {
  const path = join(dir, 'mem.jsonl');
  const rnd = seededRandom(42);
  writeFileSync(path, Array.from({ length: 20000 }, (_, n) => benchLine(n, rnd) + '\n').join(''));
  const index = new RolloutIndex(path);
  await index.update();
  assert.equal(index.count, 20000);
  const m = index.memoryBytes();
  assert.ok(m.perCompletion <= 80, `bytes per completion ${m.perCompletion}`);
  await index.close();
});
