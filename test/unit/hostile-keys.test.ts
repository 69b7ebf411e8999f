/**
 * Keys that come from the file (reward names, meta keys, unknown fields) named like
 * Object.prototype members — `__proto__`, `constructor`, `toString` — survive parsing, scoring,
 * the CLI's stats / score / export and the viewer's reward table (issue 13).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRecordLine, recordToJSON } from '../../src/core/schema/record';
import { scoreRecord } from '../../src/core/rewards/variants';
import { loggedMismatches } from '../../src/core/rewards/group';
import { RunOverview } from '../../src/core/overview/runOverview';
import { RolloutView } from '../../src/core/view/rolloutView';
import { buildGroupDetail, type ImageResolver } from '../../src/core/view/groupDetail';

const ROOT = join(__dirname, '../..');
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const NAMES = ['__proto__', 'constructor', 'toString'] as const;
// Written as JSON text: an object literal with a `__proto__` key would set the prototype instead.
const LINE_1 = '{"v":1,"step":1,"group":"g","completion":"<think>a</think><answer>A</answer>","solution":"<answer>A</answer>",'
  + '"rewards":{"__proto__":1,"constructor":0.5,"toString":0.25,"accuracy":1},"reward":2.75,'
  + '"meta":{"__proto__":"m","constructor":"c"},"__proto__":"top"}';
const LINE_2 = '{"v":1,"step":1,"group":"g","completion":"<think>b</think><answer>B</answer>","solution":"<answer>A</answer>",'
  + '"rewards":{"__proto__":0,"constructor":0,"toString":0,"accuracy":0},"reward":0}';

let dir = '';
let file = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-keys-'));
  file = join(dir, 'keys.rollouts.jsonl');
  writeFileSync(file, `${LINE_1}\n${LINE_2}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const own = (o: object | undefined, k: string) => o !== undefined && Object.hasOwn(o, k);

test('the record parser keeps __proto__ / constructor / toString as reward, meta and extra keys', () => {
  const p = parseRecordLine(LINE_1);
  assert.ok(p.ok);
  const r = p.record;
  for (const n of NAMES) assert.ok(own(r.rewards, n), `rewards.${n} kept`);
  assert.equal(r.rewards!['__proto__'], 1);
  assert.equal(r.rewards!['constructor'], 0.5);
  assert.equal(Object.keys(r.rewards!).length, 4);
  assert.equal(r.meta!['__proto__'], 'm');
  assert.equal(r.extra!['__proto__'], 'top');
  // A key the file does not have is no own key.
  const p2 = parseRecordLine('{"v":1,"completion":"x","rewards":{"accuracy":1},"meta":{}}');
  assert.ok(p2.ok);
  assert.equal(Object.hasOwn(p2.record.rewards!, 'toString'), false);
  // Export round-trips the keys as data.
  assert.deepEqual(JSON.parse(JSON.stringify(recordToJSON(r))), JSON.parse(LINE_1));
});

test('scoring: a logged reward named like a prototype member is no mismatch against nothing', () => {
  const p = parseRecordLine(LINE_1);
  assert.ok(p.ok);
  const s = scoreRecord(p.record, 'grounding');
  assert.equal(Object.hasOwn(s.rewards, 'constructor'), false);
  assert.deepEqual(loggedMismatches(p.record, s).filter((n) => (NAMES as readonly string[]).includes(n)), []);
  const o = new RunOverview({ variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 3686400 });
  o.add([p.record]);
  const [step] = o.all();
  for (const n of NAMES) assert.ok(own(step!.logged.rewards, n), `overview's logged ${n}`);
  assert.equal(step!.logged.rewards['__proto__']!.mean, 1);
});

test('CLI stats / score / export of a real file keep the keys', () => {
  const stats = cli('stats', file, '--json');
  assert.equal(stats.code, 0, stats.err);
  const s = JSON.parse(stats.out) as { rewards: Record<string, { mean: number }> };
  for (const n of NAMES) assert.ok(own(s.rewards, n), `stats.rewards.${n}: ${stats.out}`);
  assert.equal(s.rewards['__proto__']!.mean, 0.5);

  const score = cli('score', file);
  assert.equal(score.code, 0, score.err);
  for (const line of score.out.trim().split('\n')) {
    const m = (JSON.parse(line) as { mismatches: string[] }).mismatches;
    assert.deepEqual(m.filter((n) => (NAMES as readonly string[]).includes(n)), [], `no phantom mismatch: ${line}`);
  }

  const exp = cli('export', file);
  assert.equal(exp.code, 0, exp.err);
  const [first] = exp.out.trim().split('\n');
  assert.deepEqual(JSON.parse(first!), JSON.parse(LINE_1));
});

test('the viewer\'s reward table lists __proto__, constructor and toString with their logged values', async () => {
  const opts = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 3686400 } as const;
  const set = await RolloutView.load([file], opts);
  const none: ImageResolver = async (p) => ({ path: p, src: null, width: null, height: null, tried: [] });
  const detail = await buildGroupDetail(set, 0, { ...opts, frame: 'auto' }, none);
  const first = detail.completions[0]!;
  const byName = new Map(first.rewards.map((r) => [r.name, r]));
  for (const n of NAMES) assert.ok(byName.has(n), `reward row ${n}: ${[...byName.keys()].join(', ')}`);
  assert.equal(byName.get('__proto__')!.logged, 1);
  assert.equal(byName.get('constructor')!.recomputed, null);
  assert.equal(byName.get('toString')!.mismatch, false);
});
