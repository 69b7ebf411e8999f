import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatMatches } from '../../src/core/chain/parse';
import { readRollouts } from '../../src/core/ingest/v1Reader';
import { completionText, type RolloutRecord } from '../../src/core/schema/record';
import { groupAdvantages, loggedMismatches } from '../../src/core/rewards/group';
import { scoreRecord } from '../../src/core/rewards/variants';
import { parseQuery, QueryError, type QueryNode } from '../../src/core/index/query';
import { columnValue, runQuery, sortedOrder } from '../../src/core/index/filter';
import { encodedForms } from '../../src/core/index/search';
import { scoreIndex } from '../../src/core/index/score';
import { RolloutIndex } from '../../src/core/index/rolloutIndex';
import { expectedRows, pick, randomLine, seededRandom, type ExpectedRow } from './index-records';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-query-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('parses comparisons, and/or/not with precedence, flags, groups and text terms', () => {
  assert.deepEqual(parseQuery('reward.bbox < 0.3 and step > 100'), {
    kind: 'and',
    left: { kind: 'compare', column: 'reward.bbox', op: '<', value: 0.3, at: 1 },
    right: { kind: 'compare', column: 'step', op: '>', value: 100, at: 23 },
  });
  const q = parseQuery('not format_ok or zero_variance and advantage >= -1.5e0');
  assert.equal(q.kind, 'or');
  assert.deepEqual(q.kind === 'or' && q.left, { kind: 'not', arg: { kind: 'flag', flag: 'format_ok', want: true, at: 5 } });
  assert.deepEqual(q.kind === 'or' && q.right.kind === 'and' && q.right.right, { kind: 'compare', column: 'advantage', op: '>=', value: -1.5, at: 36 });
  assert.deepEqual(parseQuery('(step == 1 OR step != 2) && !mismatch').kind, 'and');
  assert.deepEqual(parseQuery('format_ok == false'), { kind: 'flag', flag: 'format_ok', want: false, at: 1 });
  assert.deepEqual(parseQuery('group = "120/3"'), { kind: 'group', op: '==', key: '120/3', at: 1 });
  assert.deepEqual(parseQuery('text ~ "say \\"hi\\""'), { kind: 'text', field: 'text', pattern: 'say "hi"', at: 1 });
  const re = parseQuery('completion ~ /a\\/b[/]c/i');
  assert.ok(re.kind === 'text' && re.pattern instanceof RegExp && re.pattern.source === 'a\\/b[/]c' && re.pattern.flags === 'i');
});

test('parse errors name the column where the problem is', () => {
  const cases: [string, RegExp, number][] = [
    ['reward.bbox < ', /expected a number after "<"/, 15],
    ['step >> 3', /expected a number after ">", got ">"/, 7],
    ['colour > 3', /unknown column "colour"/, 1],
    ['step > 1 and (index < 2', /expected "\)", got the end of the query/, 24],
    ['step > 1 step', /expected "and", "or" or the end, got "step"/, 10],
    ['text ~ "open', /unterminated string/, 8],
    ['text ~ /a(/', /bad regular expression/, 8],
    ['format_ok == 3', /compares with true or false/, 14],
    ['step > 1 # x', /unexpected "#"/, 10],
    ['group < "a"', /"group" takes == or != only/, 1],
  ];
  for (const [src, message, column] of cases) {
    assert.throws(() => parseQuery(src), (e: unknown) => {
      assert.ok(e instanceof QueryError, src);
      assert.match(e.message, message, src);
      assert.equal(e.column, column, `${src}: column`);
      return true;
    });
  }
});

test('the byte forms of a search term cover plain, Python-escaped and Go-escaped JSON', () => {
  assert.deepEqual(encodedForms('café <b>').map(String), ['café <b>', 'caf\\u00e9 <b>', 'café \\u003cb\\u003e']);
  assert.deepEqual(encodedForms('a"b\n').map(String), ['a\\"b\\n']);
});

/** A seeded random query tree over the columns the data has. */
function randomQuery(rnd: () => number, depth: number, groups: string[]): QueryNode {
  const r = rnd();
  if (depth > 0 && r < 0.35) {
    const kind = rnd() < 0.5 ? 'and' : 'or';
    return { kind, left: randomQuery(rnd, depth - 1, groups), right: randomQuery(rnd, depth - 1, groups) };
  }
  if (depth > 0 && r < 0.45) return { kind: 'not', arg: randomQuery(rnd, depth - 1, groups) };
  const t = rnd();
  if (t < 0.45) {
    const column = pick(rnd, ['step', 'index', 'reward', 'advantage', 'length', 'line', 'reward.accuracy', 'reward.format', 'reward.bbox', 'reward.7', 'reward.iou.v2'] as const);
    const value = pick(rnd, [0, 1, 2, 3, 10, 0.5, -0.3, 0.1, 25, 40, Math.round(rnd() * 30) / 10]);
    return { kind: 'compare', column, op: pick(rnd, ['<', '<=', '>', '>=', '==', '!='] as const), value, at: 1 };
  }
  if (t < 0.6) return { kind: 'flag', flag: pick(rnd, ['format_ok', 'zero_variance', 'mismatch'] as const), want: rnd() < 0.7, at: 1 };
  if (t < 0.7) return { kind: 'group', op: rnd() < 0.5 ? '==' : '!=', key: pick(rnd, groups), at: 1 };
  const pattern = rnd() < 0.6
    ? pick(rnd, ['café', '東京', 'a"quote', 'back\\slash', 'tab\there', '<b>', 'x&y', 'motorcyclist left', '</think>', 'q1 '])
    : pick(rnd, [/left\s+of/i, /^<think>/, /CAR/i, /\d\d/, /é|🙂/u, /answer>B/]);
  return { kind: 'text', field: pick(rnd, ['text', 'completion', 'prompt'] as const), pattern, at: 1 };
}

function render(n: QueryNode): string {
  switch (n.kind) {
    case 'and':
    case 'or': return `(${render(n.left)} ${n.kind} ${render(n.right)})`;
    case 'not': return `not ${render(n.arg)}`;
    case 'compare': return `${n.column} ${n.op} ${n.value}`;
    case 'flag': return n.want ? n.flag : `${n.flag} == false`;
    case 'group': return `group ${n.op} ${JSON.stringify(n.key)}`;
    case 'text': return `${n.field} ~ ${typeof n.pattern === 'string' ? JSON.stringify(n.pattern) : String(n.pattern)}`;
    case 'verdict': throw new Error('verdict terms are not generated for the index');
    case 'meta': throw new Error('meta terms are not generated for the index');
  }
}

interface Truth {
  rows: ExpectedRow[];
  zeroVariance: Set<string>;
  mismatch: boolean[];
}

function brute(n: QueryNode, e: ExpectedRow, i: number, t: Truth): boolean {
  switch (n.kind) {
    case 'and': return brute(n.left, e, i, t) && brute(n.right, e, i, t);
    case 'or': return brute(n.left, e, i, t) || brute(n.right, e, i, t);
    case 'not': return !brute(n.arg, e, i, t);
    case 'flag': {
      const v = n.flag === 'format_ok' ? formatMatches(completionText(e.record)) : n.flag === 'zero_variance' ? t.zeroVariance.has(e.group) : t.mismatch[i]!;
      return v === n.want;
    }
    case 'group': return (e.group === n.key) === (n.op === '==');
    case 'text': {
      const test = (s: string | undefined): boolean => s !== undefined && (typeof n.pattern === 'string' ? s.includes(n.pattern) : new RegExp(n.pattern.source, n.pattern.flags).test(s));
      return (n.field !== 'prompt' && test(completionText(e.record))) || (n.field !== 'completion' && test(e.record.prompt?.text));
    }
    case 'verdict': throw new Error('verdict terms are not generated for the index');
    case 'meta': throw new Error('meta terms are not generated for the index');
    case 'compare': {
      const c = n.column;
      let v: number;
      let float = false;
      if (c === 'step' || c === 'index') v = e[c] === -1 ? NaN : e[c];
      else if (c === 'length' || c === 'line') v = e[c];
      else if (c === 'reward' || c === 'advantage') [v, float] = [c === 'reward' ? e.total : e.advantage, true];
      else [v, float] = [e.rewards[c.slice(7)] ?? NaN, true];
      if (Number.isNaN(v)) return false;
      const x = float ? Math.fround(n.value) : n.value;
      if (float) v = Math.fround(v);
      return n.op === '<' ? v < x : n.op === '<=' ? v <= x : n.op === '>' ? v > x : n.op === '>=' ? v >= x : n.op === '==' ? v === x : v !== x;
    }
  }
}

test('400 random queries agree with a brute-force scan of the fully parsed records (seeded)', async () => {
  const rnd = seededRandom(77);
  const lines: string[] = [];
  for (let n = 0; lines.length < 1500; n++) {
    const l = randomLine(rnd, n);
    if (l.kind === 'good') lines.push(l.text);
  }
  // Groups whose logged totals are all equal (zero variance) or not, among the random lines.
  for (let g = 0; g < 10; g++) {
    for (let k = 0; k < 4; k++) lines.splice(50 * g + k, 0, JSON.stringify({ group: `zv${g}`, step: g, completion: `<think>z</think><answer>A</answer>`, reward: g % 2 ? 1 : k }));
  }
  const path = join(dir, 'q.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  const items: { record: RolloutRecord; loc: { line: number; offset: number } }[] = [];
  await readRollouts(path, (record, loc) => items.push({ record, loc }));
  const rows = expectedRows(items);
  const index = new RolloutIndex(path);
  await index.update();
  assert.equal(index.count, rows.length);
  await scoreIndex(index, { variant: 'grounding' });

  const byGroup = new Map<string, number[]>();
  rows.forEach((r, i) => byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), i]));
  const zeroVariance = new Set<string>();
  const mismatch: boolean[] = new Array(rows.length).fill(false);
  for (const [key, members] of byGroup) {
    const totals = members.map((i) => Math.fround(rows[i]!.total));
    const scores = members.map((i) => scoreRecord(rows[i]!.record, 'grounding'));
    // The group flag: logged totals when every member logs one, else the recomputed ones.
    const allLogged = totals.every((x) => !Number.isNaN(x));
    const judged = allLogged ? totals : scores.map((s) => s.reward);
    if (members.length > 1 && judged.every((x) => x === judged[0])) zeroVariance.add(key);
    const adv = groupAdvantages(scores.map((s) => s.reward));
    members.forEach((i, k) => {
      mismatch[i] = loggedMismatches(rows[i]!.record, { rewards: scores[k]!.rewards, reward: scores[k]!.reward, advantage: adv.advantages[k] }).length > 0;
    });
  }
  assert.ok(zeroVariance.size > 3 && mismatch.some((m) => m) && mismatch.some((m) => !m), 'the data has zero-variance groups and mismatches');
  const truth: Truth = { rows, zeroVariance, mismatch };
  const groups = [...byGroup.keys()].slice(0, 30).concat(['no-such-group']);
  let nonTrivial = 0;
  for (let q = 0; q < 400; q++) {
    const node = randomQuery(rnd, 3, groups);
    const src = render(node);
    const want = rows.flatMap((e, i) => (brute(node, e, i, truth) ? [i] : []));
    const got = await runQuery(index, src);
    assert.deepEqual(Array.from(got.rows), want, src);
    if (want.length > 0 && want.length < rows.length) nonTrivial++;
  }
  assert.ok(nonTrivial > 250, `most queries select some but not all rows (${nonTrivial})`);

  // Sorting: by value, absent last, ties in file order.
  const all = Int32Array.from(rows, (_, i) => i);
  for (const [col, desc] of [['reward.bbox', true], ['step', false], ['advantage', false]] as const) {
    const value = (e: ExpectedRow): number =>
      col === 'step' ? (e.step === -1 ? NaN : e.step) : Math.fround(col === 'advantage' ? e.advantage : e.rewards.bbox ?? NaN);
    const want = [...all].sort((a, b) => {
      const x = value(rows[a]!);
      const y = value(rows[b]!);
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
      return x === y ? a - b : (x < y ? -1 : 1) * (desc ? -1 : 1);
    });
    // What the viewer's `sort:` does with each group's key (sortedOrder over columnValue).
    const keys = Float64Array.from(all, (r) => columnValue(index, col, r));
    assert.deepEqual(Array.from(sortedOrder(keys, desc), (k) => all[k]!), want, `sort by ${col}`);
  }
  await assert.rejects(runQuery(index, 'reward.nope > 1'), /no reward function "nope" in this file \(logged: 7, accuracy, bbox, format, iou.v2\) \(column 8\)/);
  await index.close();
});

test('a query sees only the rows indexed when it starts', async () => {
  const path = join(dir, 'grow.jsonl');
  const line = (n: number): string => JSON.stringify({ group: `g${n >> 1}`, step: n, completion: `c${n}`, reward: n % 3 });
  writeFileSync(path, [0, 1, 2, 3].map(line).join('\n') + '\n');
  const index = new RolloutIndex(path);
  await index.update({ follow: true });
  assert.deepEqual(Array.from((await runQuery(index, 'reward >= 1')).rows), [1, 2]);
  const more = Buffer.from([4, 5].map(line).join('\n') + '\n');
  appendFileSync(path, more); // as a tailer would: the file grows, the index gets the new bytes
  index.appendBytes(more);
  const r = await runQuery(index, 'reward >= 1 and text ~ "c"');
  assert.deepEqual([Array.from(r.rows), r.scanned], [[1, 2, 4, 5], 6]);
  assert.deepEqual(Array.from((await runQuery(index, '')).rows), [0, 1, 2, 3, 4, 5]);
  await index.close();
});
