import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followRollouts, type FollowBatch, type FollowOptions } from '../../src/core/ingest/follow';
import { LineSplitter } from '../../src/core/ingest/lines';
import { recordLine } from '../fixtures/formats/growing-records';

const WRITER = join(__dirname, '..', 'fixtures', 'formats', 'growing-writer.ts');

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ingest-follow-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function startWriter(file: string, seed: number): { child: ChildProcess; send(m: object): Promise<void>; ready: Promise<void> } {
  const child = fork(WRITER, [file, String(seed)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiting: (() => void) | null = null;
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.on('message', (m: { done?: string; ready?: boolean }) => {
    if (m.ready) onReady();
    else if (waiting) {
      const w = waiting;
      waiting = null;
      w();
    }
  });
  return {
    child,
    ready,
    send: (m) =>
      new Promise<void>((resolve) => {
        waiting = resolve;
        child.send(m);
      }),
  };
}

for (const polling of [false, true]) {
  test(`follower vs a writer child process (random chunks, split UTF-8, truncate, rotate by rename), ${polling ? 'forced polling' : 'fs.watch'}: every record once, in order`, async () => {
    const file = join(dir, `run-${polling ? 'poll' : 'watch'}.rollouts.jsonl`);
    const seen: number[] = [];
    const texts: string[] = [];
    const bad: string[] = [];
    const events: string[] = [];
    const opts: FollowOptions = polling ? { polling: true, pollMs: 40, format: 'native' } : { rotateGraceMs: 3000 };
    const follower = await followRollouts(file, (b: FollowBatch) => {
      for (const r of b.records) {
        seen.push((r.record.meta as { i: number }).i);
        texts.push(r.record.completion as string);
      }
      for (const x of b.badLines) bad.push(`${x.line}: ${x.error}`);
      for (const e of b.events) events.push(e.event);
    }, opts);
    assert.equal(follower.mode, polling ? 'poll' : 'watch');
    const w = startWriter(file, polling ? 7 : 11);
    try {
      await w.ready;
      await w.send({ cmd: 'write', from: 0, to: 150 });
      await until('first 150', () => seen.length >= 150);
      await w.send({ cmd: 'truncate', from: 150, to: 300 });
      await until('300 after truncation', () => seen.length >= 300);
      await w.send({ cmd: 'rotate', from: 300, to: 450 });
      await until('450 after rotation', () => seen.length >= 450);
      await w.send({ cmd: 'write', from: 450, to: 500 });
      await until('500', () => seen.length >= 500);
      await new Promise((r) => setTimeout(r, 150)); // anything repeated would show up now
    } finally {
      w.child.send({ cmd: 'exit' });
      await follower.close();
    }
    assert.deepEqual(bad, []);
    assert.deepEqual(seen, Array.from({ length: 500 }, (_, i) => i));
    texts.forEach((t, i) => assert.equal(t, JSON.parse(recordLine(i)).completion));
    assert.ok(events.includes('truncated'), `events: ${events.join(',')}`);
    assert.ok(events.includes('rotated'), `events: ${events.join(',')}`);
    assert.equal(follower.format, 'native');
  });
}

test('a partial last line is held until its newline arrives, then emitted once', async () => {
  const file = join(dir, 'partial.jsonl');
  writeFileSync(file, recordLine(0) + recordLine(1).slice(0, 20));
  const seen: number[] = [];
  const follower = await followRollouts(file, (b) => seen.push(...b.records.map((r) => (r.record.meta as { i: number }).i)), { polling: true, pollMs: 30, format: 'native' });
  await follower.ready;
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(seen, [0]);
  appendFileSync(file, recordLine(1).slice(20));
  await until('record 1', () => seen.length === 2, 5000);
  await follower.close();
  assert.deepEqual(seen, [0, 1]);
});

test('a folder of verl per-step files: files appearing later are read in step order, with locations', async () => {
  const root = join(dir, 'verl-live');
  mkdirSync(root);
  const row = (step: number, k: number): string => JSON.stringify({ input: `p${step}`, output: `o${step}-${k}`, gts: 'g', score: k, step }) + '\n';
  writeFileSync(join(root, '1.jsonl'), row(1, 0) + row(1, 1));
  const seen: string[] = [];
  const follower = await followRollouts(root, (b) => seen.push(...b.records.map((r) => `${r.record.completion}@${r.loc.line}:${r.record.group}`)), { pollMs: 40 });
  await follower.ready;
  assert.equal(follower.format, 'verl');
  writeFileSync(join(root, '2.jsonl'), row(2, 0));
  await until('step 2', () => seen.length === 3, 5000);
  appendFileSync(join(root, '2.jsonl'), row(2, 1));
  writeFileSync(join(root, '10.jsonl'), row(10, 0));
  await until('step 10', () => seen.length === 5, 5000);
  await follower.close();
  assert.deepEqual(seen, ['o1-0@1:1/0', 'o1-1@2:1/0', 'o2-0@1:2/0', 'o2-1@2:2/0', 'o10-0@1:10/0']);
});

test('LineSplitter: any chunking gives the same lines, offsets and numbers', () => {
  const text = Buffer.from('a\nbé\n\n中😀x\nlast', 'utf8');
  const collect = (sizes: number[]): string[] => {
    const out: string[] = [];
    const s = new LineSplitter((b, off, line) => out.push(`${line}@${off}:${Buffer.from(b).toString('utf8')}`));
    let pos = 0;
    for (const n of sizes) {
      s.push(text.subarray(pos, pos + n));
      pos += n;
    }
    s.push(text.subarray(pos));
    s.finish();
    return out;
  };
  const expected = ['1@0:a', '2@2:bé', '3@6:', '4@7:中😀x', '5@16:last'];
  assert.deepEqual(collect([]), expected);
  assert.deepEqual(collect([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), expected);
  assert.deepEqual(collect([3, 5, 2, 9]), expected);
});
