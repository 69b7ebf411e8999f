import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstInvalidUtf8, readRollouts, type RecordLocation } from '../../src/core/ingest/v1Reader';
import { GroupKeys, groupRecords } from '../../src/core/rollouts/groups';
import type { LocatedRecord } from '../../src/core/ingest/types';
import { toRecord, type RolloutRecord } from '../../src/core/schema/record';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-read-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string, chunk?: number): Promise<{ items: LocatedRecord[]; summary: Awaited<ReturnType<typeof readRollouts>> }> {
  const items: LocatedRecord[] = [];
  const summary = await readRollouts(path, (record: RolloutRecord, loc: RecordLocation) => items.push({ record, loc }), chunk);
  return { items, summary };
}

test('lines spanning tiny chunks, multi-byte characters, CRLF, blank lines, no final newline', async () => {
  const lines = [
    '{"completion":"héllo → 世界 🙂"}\r\n',
    '\n',
    '   \r\n',
    '{"completion":"b","step":3}\n',
    '{"completion":"last, no newline"}',
  ];
  const path = join(dir, 'span.jsonl');
  writeFileSync(path, lines.join(''));
  const offsets = [0];
  for (const l of lines) offsets.push(offsets[offsets.length - 1]! + Buffer.byteLength(l));
  for (const chunk of [1, 3, 5, 7, 1 << 20]) {
    const { items, summary } = await readAll(path, chunk);
    assert.deepEqual(summary.badLines, [], `chunk ${chunk}`);
    assert.equal(summary.completions, 3);
    assert.deepEqual(items.map((i) => i.record.completion), ['héllo → 世界 🙂', 'b', 'last, no newline']);
    assert.deepEqual(items.map((i) => i.loc.line), [1, 4, 5]);
    assert.deepEqual(items.map((i) => i.loc.offset), [offsets[0], offsets[3], offsets[4]]);
  }
});

test('invalid UTF-8 makes only that line bad, naming the byte offset in the file', async () => {
  const good = Buffer.from('{"completion":"ok"}\n');
  const badPrefix = Buffer.from('{"completion":"a');
  const bad = Buffer.concat([badPrefix, Buffer.from([0xff]), Buffer.from('"}\n')]);
  const overlong = Buffer.concat([Buffer.from('{"completion":"'), Buffer.from([0xc0, 0x80]), Buffer.from('"}\n')]);
  const path = join(dir, 'utf8.jsonl');
  writeFileSync(path, Buffer.concat([good, bad, overlong, good]));
  for (const chunk of [4, 1 << 20]) {
    const { items, summary } = await readAll(path, chunk);
    assert.equal(items.length, 2);
    assert.deepEqual(items.map((i) => i.loc.line), [1, 4]);
    assert.deepEqual(summary.badLines, [
      { line: 2, file: path, error: `invalid UTF-8 at byte ${good.length + badPrefix.length}` },
      { line: 3, file: path, error: `invalid UTF-8 at byte ${good.length + bad.length + 15}` },
    ]);
  }
});

test('firstInvalidUtf8 follows the decoder: surrogates, > U+10FFFF, truncated sequences', () => {
  assert.equal(firstInvalidUtf8(Buffer.from('aé世🙂')), Buffer.byteLength('aé世🙂'));
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x61, 0xed, 0xa0, 0x80])), 1); // UTF-16 surrogate
  assert.equal(firstInvalidUtf8(Uint8Array.from([0xf4, 0x90, 0x80, 0x80])), 0); // above U+10FFFF
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x61, 0x62, 0xe4, 0xb8])), 2); // cut short
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x80])), 0); // lone continuation byte
});

test('bad JSON and wrong types are reported with their line numbers, the rest is read', async () => {
  const path = join(dir, 'mixed.jsonl');
  writeFileSync(path, [
    '{"completion":"a"}',
    '{"completion":"trunc',
    '{"completion":NaN}',
    '{"completion":"c","step":"7"}',
    '[1,2]',
    '{"completion":"d","rewards":{"acc":1}}',
  ].join('\n') + '\n');
  const { items, summary } = await readAll(path);
  assert.deepEqual(items.map((i) => i.loc.line), [1, 6]);
  assert.deepEqual(summary.badLines.map((b) => b.line), [2, 3, 4, 5]);
  assert.match(summary.badLines[0]!.error, /^invalid JSON/);
  assert.match(summary.badLines[1]!.error, /^invalid JSON/);
  assert.equal(summary.badLines[2]!.error, '"step" must be a finite number, got a string');
});

test('a 10 MB line is read whole', async () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  const path = join(dir, 'big.jsonl');
  writeFileSync(path, `{"completion":"a"}\n{"completion":"${big}"}\n{"completion":"z"}\n`);
  const { items, summary } = await readAll(path);
  assert.equal(summary.completions, 3);
  assert.equal((items[1]!.record.completion as string).length, big.length);
  assert.equal(items[2]!.loc.line, 3);
});

test('a missing file rejects', async () => {
  await assert.rejects(readAll(join(dir, 'nope.jsonl')), /ENOENT/);
});

const located = (record: Partial<RolloutRecord>, line: number): LocatedRecord => ({ record: { v: 1, completion: '', ...record }, loc: { file: 'f', line, offset: 0 } });

test('derived groups: consecutive records with the same step and identical prompt', () => {
  const p = { text: 'q', images: ['a.jpg'] };
  const items = [
    located({ step: 1, prompt: p }, 1),
    located({ step: 1, prompt: p }, 2),
    located({ step: 1, prompt: { text: 'q', images: ['b.jpg'] } }, 3), // other image: new group
    located({ step: 2, prompt: { text: 'q', images: ['b.jpg'] } }, 4), // other step: new group
    located({ step: 1, prompt: p }, 5), // same as the first, but not consecutive
    located({ group: '9/0', step: 1, prompt: p }, 6),
    located({ group: '9/0', step: 1, prompt: p }, 7),
    located({ prompt: p }, 8),
  ];
  const groups = groupRecords(items);
  assert.deepEqual(groups.map((g) => [g.key, g.derived, g.items.map((i) => i.loc.line)]), [
    ['~1/0', true, [1, 2]],
    ['~1/1', true, [3]],
    ['~2/0', true, [4]],
    ['~1/2', true, [5]],
    ['9/0', false, [6, 7]],
    ['~?/0', true, [8]],
  ]);
});

test('written group keys are trusted and keep first-appearance order even when interleaved', () => {
  const keys = new GroupKeys();
  assert.deepEqual(['b', 'a', 'b'].map((g) => keys.keyOf({ v: 1, completion: '', group: g })), ['b', 'a', 'b']);
  const groups = groupRecords([located({ group: 'b' }, 1), located({ group: 'a' }, 2), located({ group: 'b' }, 3)]);
  assert.deepEqual(groups.map((g) => [g.key, g.items.map((i) => i.loc.line)]), [['b', [1, 3]], ['a', [2]]]);
});

test('docs/rollout.schema.json: every property is a field toRecord knows, with an example it accepts', () => {
  const schema = JSON.parse(readFileSync(join(__dirname, '../../docs/rollout.schema.json'), 'utf8')) as {
    properties: Record<string, { examples?: unknown[] }>;
    required: string[];
  };
  assert.deepEqual(schema.required, ['completion']);
  const full: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(schema.properties)) {
    assert.ok(prop.examples && prop.examples.length > 0, `${name} has an example`);
    full[name] = prop.examples[0];
    const rec = toRecord({ completion: 'c', [name]: prop.examples[0] });
    assert.equal(rec.extra, undefined, `${name} must not land in extra`);
    assert.ok(name in rec, `${name} is read`);
  }
  // And the converse: a record using every schema field has nothing unknown.
  assert.equal(toRecord(full).extra, undefined);
  // Every field of RolloutRecord (the compiler checks this list is complete) is in the schema.
  const fields: Record<keyof Omit<RolloutRecord, 'extra'>, true> = {
    v: true, run: true, step: true, group: true, index: true, prompt: true, completion: true, solution: true,
    possible_answers: true, gt_boxes: true, box_frame: true, image_size: true, rewards: true, reward: true,
    advantage: true, meta: true,
  };
  assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(fields).sort());
  // Unknown fields are kept.
  assert.deepEqual(toRecord({ completion: 'c', uid: 'x' }).extra, { uid: 'x' });
});
