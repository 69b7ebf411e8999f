/**
 * Per-completion facts (a record's `meta`, docs/query.md): the `meta.<key>` column of the viewer's
 * filter and of `runQuery` over a scanned index (one evaluator, the bodies read back), and the
 * parser refusing the column to a caller that does not ask for it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQuery, QueryError } from '../../src/core/index/query';
import { RolloutIndex } from '../../src/core/index/rolloutIndex';
import { runQuery } from '../../src/core/index/filter';
import { RolloutView, type ScoreOptions } from '../../src/core/view/rolloutView';
import { readFilterText } from '../../src/core/view/filterText';
import type { RolloutRecord } from '../../src/core/schema/record';

const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 12845056 };

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-view-meta-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const META = { meta: true } as const;

function errorAt(fn: () => unknown, message: RegExp, column: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof QueryError, String(e));
    assert.match(e.message, message);
    assert.equal(e.column, column, e.message);
    return true;
  });
}

test('meta.<key> parses where the caller reads bodies (viewer, CLI, runQuery): numbers, true/false, strings, ~, quoted keys', () => {
  assert.deepEqual(parseQuery('meta.acc == true', META), { kind: 'meta', key: 'acc', op: '==', value: true, at: 1 });
  assert.deepEqual(parseQuery('meta.acc != FALSE', META), { kind: 'meta', key: 'acc', op: '!=', value: false, at: 1 });
  assert.deepEqual(parseQuery('meta.score_extra > 0.5', META), { kind: 'meta', key: 'score_extra', op: '>', value: 0.5, at: 1 });
  assert.deepEqual(parseQuery("meta.pred = 'B'", META), { kind: 'meta', key: 'pred', op: '==', value: 'B', at: 1 });
  assert.deepEqual(parseQuery('meta.pred ~ "dog"', META), { kind: 'meta', key: 'pred', op: '~', value: 'dog', at: 1 });
  const re = parseQuery('meta.pred ~ /do+g/i', META);
  assert.ok(re.kind === 'meta' && re.value instanceof RegExp && re.value.source === 'do+g' && re.value.flags === 'i');
  // Keys a bare word cannot hold are quoted; dots and dashes need no quotes.
  assert.deepEqual(parseQuery('meta."eval/acc" >= 1', META), { kind: 'meta', key: 'eval/acc', op: '>=', value: 1, at: 1 });
  assert.deepEqual(parseQuery("meta.'a \\\"b\\\"' == 'x'", META), { kind: 'meta', key: 'a "b"', op: '==', value: 'x', at: 1 });
  assert.deepEqual(parseQuery('meta.a-b.c < -2', META), { kind: 'meta', key: 'a-b.c', op: '<', value: -2, at: 1 });
  assert.deepEqual(parseQuery('not meta.__proto__ == "B"', META), { kind: 'not', arg: { kind: 'meta', key: '__proto__', op: '==', value: 'B', at: 5 } });
  const both = parseQuery('step > 1 and (meta.acc == 1 or meta."x y" ~ "z")', META);
  assert.equal(both.kind, 'and');

  errorAt(() => parseQuery('meta.pred < "B"', META), /^strings compare with == or != only \(search them with ~\)/, 11);
  errorAt(() => parseQuery('meta.acc >= true', META), /^true and false compare with == or != only/, 10);
  errorAt(() => parseQuery('meta.acc <', META), /^expected a number, true, false or "text" after "meta.acc <", got the end of the query/, 11);
  errorAt(() => parseQuery('meta.acc == yes', META), /got "yes"/, 13);
  errorAt(() => parseQuery('meta.acc', META), /^expected a comparison \(<, <=, >, >=, ==, !=\) or "~" after "meta.acc", got the end/, 9);
  errorAt(() => parseQuery('meta."" == 1', META), /^the meta key is empty/, 6);
  errorAt(() => parseQuery('meta.pred ~ ""', META), /^search text is empty/, 13);
  errorAt(() => parseQuery('meta.pred ~ 3', META), /^expected "text" or \/regex\/ after "~"/, 13);
  errorAt(() => parseQuery('meta."open == 1', META), /^unterminated string/, 6);
  errorAt(() => parseQuery('metaa == 1', META), /unknown column "metaa" \(columns: .*meta\.<key>\)/, 1);
});

test('meta.<key> is refused, naming the column, by a parse that does not ask for it; runQuery over a scanned file answers it', async () => {
  errorAt(() => parseQuery('meta.acc == true'), /^"meta\.acc" is read from the records themselves/, 1);
  errorAt(() => parseQuery('step > 1 and meta."eval/acc" > 0'), /"meta\.eval\/acc" is read from the records/, 14);
  assert.doesNotMatch(String((() => { try { parseQuery('metaa == 1'); } catch (e) { return e; } })()), /meta\.<key>/, 'the column is not offered');

  const path = join(dir, 'index.jsonl');
  writeFileSync(path, [
    { group: 'g', step: 1, completion: 'a dog', meta: { acc: true } },
    { group: 'g', step: 1, completion: 'a cat', meta: { acc: false, x: 'xy' } },
    { group: 'h', step: 2, completion: 'a dog', meta: { acc: 1 } },
  ].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const index = new RolloutIndex(path);
  await index.update();
  // The index reads each body back for the meta terms (its one evaluator, as the viewer's).
  for (const [src, want] of [['meta.acc == true', [0, 2]], ['text ~ "cat" or meta.acc == true', [0, 1, 2]], ['not (step > 0 and meta.x ~ "x")', [0, 2]]] as const) {
    assert.deepEqual(Array.from((await runQuery(index, src)).rows), want, src);
    assert.deepEqual(Array.from((await runQuery(index, parseQuery(src, META))).rows), want, `${src} (parsed by the caller)`);
  }
  await index.close();
});

/** Record i's meta.v; `undefined`: the record has no `v` (its meta has only `other`). */
const VALUES: unknown[] = [true, false, 1, 0, 0.75, 2, 'B', 'dog', 'a dog here', [1, 2], { a: 1 }, null, undefined, 'b'];

function valuesFile(): string {
  const path = join(dir, 'values.jsonl');
  const lines = VALUES.map((v, i) => JSON.stringify({ group: `g${i}`, step: i, completion: `c${i}`, meta: v === undefined ? { other: 1 } : { v } }));
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

async function matching(view: RolloutView, text: string): Promise<number[]> {
  const n = await view.applyFilter({ text, flags: [] });
  assert.equal(view.filterProblem, null, `${text}: ${view.filterProblem?.message}`);
  return (await view.rows(0, n)).map((r) => Number(r.key.slice(1)));
}

test('meta.<key> in the viewer: numbers, booleans as 0 and 1, strings by ==, != and ~; lists, dicts, null and absent match no comparison, not even !=', async () => {
  const path = valuesFile();
  const view = await RolloutView.load([path], OPTS);
  const index = new RolloutIndex(path);
  await index.update();
  assert.equal(view.completionCount, VALUES.length);
  // Indices into VALUES, by what each value is: true 0, false 1, 1 2, 0 3, 0.75 4, 2 5, strings 6-8 and 13, others 9-12.
  const cases: [string, number[]][] = [
    ['meta.v == true', [0, 2]],
    ['meta.v == false', [1, 3]],
    ['meta.v != true', [1, 3, 4, 5]],
    ['meta.v == 1', [0, 2]],
    ['meta.v > 0.5', [0, 2, 4, 5]],
    ['meta.v <= 0', [1, 3]],
    ['meta.v < 0.75', [1, 3]],
    ['meta.v >= 0.75', [0, 2, 4, 5]],
    ['meta.v != 99', [0, 1, 2, 3, 4, 5]],
    ['meta.v == "B"', [6]],
    ['meta.v != "B"', [7, 8, 13]],
    ['meta.v ~ "dog"', [7, 8]],
    ['meta.v ~ /^DOG$/i', [7]],
    ['meta.v ~ "b"', [13], ],
    ['not meta.v == "B"', [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13]],
    ['meta.v == "B" or meta.other == 1', [6, 12]],
    ['meta.v > 0 and step > 2', [4, 5]],
    ['meta.v ~ "dog" sort:step desc', [8, 7]],
  ];
  for (const [text, want] of cases) {
    assert.deepEqual(await matching(view, text), want, text);
    // One completion per group, row i in both: the CLI's scan answers the same (it has no sort).
    const rows = Array.from((await runQuery(index, text.replace(/ sort:.*$/, ''))).rows);
    assert.deepEqual(rows, [...want].sort((a, b) => a - b), `runQuery: ${text}`);
  }

  // A key no record has is an error at the key's column; the list stays as it was.
  const before = await view.applyFilter({ text: 'meta.v == true', flags: [] });
  assert.equal(await view.applyFilter({ text: 'meta.acc == true', flags: [] }), before);
  assert.deepEqual(view.filterProblem, { message: 'no meta key "acc" in these rollouts (logged: other, v) (column 6)', column: 6 });
  assert.equal(view.filterKind, 'error');
  assert.deepEqual((await view.rows(0, 100)).map((r) => r.key), ['g0', 'g2'], 'the previous list stays');
  // Text that starts like a meta term is read as an attempt at one, not as words.
  assert.equal(readFilterText('meta.v').kind, 'error');
  assert.equal(readFilterText('metadata of the run').kind, 'words');
  await index.close();
  await view.close();
});

test('meta keys are data: __proto__ and constructor are keys like any other, also on null-prototype objects', async () => {
  const path = join(dir, 'proto.jsonl');
  writeFileSync(path, [
    '{"group":"g0","completion":"a","meta":{"__proto__":"B"}}',
    '{"group":"g1","completion":"b","meta":{"constructor":1}}',
    '{"group":"g2","completion":"c","meta":{}}',
  ].join('\n') + '\n');
  const view = await RolloutView.load([path], OPTS);
  assert.deepEqual(await matching(view, 'meta.__proto__ == "B"'), [0]);
  assert.deepEqual(await matching(view, 'meta.__proto__ != "A"'), [0]);
  assert.deepEqual(await matching(view, 'meta.constructor == 1'), [1]);
  assert.deepEqual(await matching(view, 'meta.constructor != 2'), [1], 'an inherited constructor is no value');
  await view.applyFilter({ text: 'meta.toString ~ "function"', flags: [] });
  assert.match(view.filterProblem?.message ?? '', /^no meta key "toString" in these rollouts \(logged: __proto__, constructor\)/);

  // An adapter builds meta with Object.create(null): the same keys, the same answers, both for
  // the record as it arrives (the filter in force) and as it is read back (spilled: it has no offset).
  await view.applyFilter({ text: 'meta.__proto__ == "B"', flags: [] });
  const meta = Object.create(null) as Record<string, unknown>;
  meta['__proto__'] = 'B';
  Reflect.set(meta, 'hasOwnProperty', true);
  const rec: RolloutRecord = { v: 1, group: 'g3', completion: 'd', meta };
  view.append([{ record: rec, loc: { file: path, line: 4 } }]);
  view.settle();
  assert.deepEqual((await view.rows(0, 100)).map((r) => r.key), ['g0', 'g3'], 'the arriving record is tested as it comes');
  assert.deepEqual(await matching(view, 'meta.__proto__ == "B"'), [0, 3]);
  assert.deepEqual(await matching(view, 'meta.hasOwnProperty == true'), [3]);
  const back = (await view.index.readRecord(3)).record;
  assert.ok(back.meta && Object.hasOwn(back.meta, '__proto__') && back.meta['__proto__'] === 'B', 'read back, __proto__ is still an own key');
  await view.close();
});

test('meta keys of many records: the error lists the first twelve, sorted, and says how many', () => {
  const names = new Set(Array.from({ length: 15 }, (_, i) => `k${String(i).padStart(2, '0')}`));
  const r = readFilterText('meta.x == 1', new Set(), names);
  assert.equal(r.kind, 'error');
  assert.equal(r.kind === 'error' && r.message, 'no meta key "x" in these rollouts (logged: k00, k01, k02, k03, k04, k05, k06, k07, k08, k09, k10, k11, … (15 in all)) (column 6)');
  assert.equal(readFilterText('meta.k14 == 1', new Set(), names).kind, 'query');
  // Without the names (a caller that does not check) any key parses.
  assert.equal(readFilterText('meta.anything == 1').kind, 'query');
});
