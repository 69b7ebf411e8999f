/**
 * What the viewer is sent about a completion's facts (its record's `meta`) and about the source
 * (adapters' notes), and the protocol checks the webview runs on both before drawing them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { factView, factViews, FACT_FULL_CHARS, FACT_KEY_CHARS, FACT_TEXT_CHARS } from '../../src/core/view/facts';
import { buildGroupDetail, type ImageResolver } from '../../src/core/view/groupDetail';
import { RolloutView, type ScoreOptions } from '../../src/core/view/rolloutView';
import { LiveRollouts } from '../../src/core/view/liveRollouts';
import type { FollowBatch } from '../../src/core/ingest/follow';
import { FACTS_SENT, isHostMessage, type HostMessage } from '../../src/protocol/viewer';

const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 12845056 };

test('a fact per meta key: scalars as text, lists and dicts as compact JSON, long values cut with the whole in the tooltip', () => {
  assert.equal(FACT_TEXT_CHARS, 80);
  assert.deepEqual(factView('acc', true), { key: 'acc', kind: 'bool', text: 'true', full: null });
  assert.deepEqual(factView('acc', false), { key: 'acc', kind: 'bool', text: 'false', full: null });
  assert.deepEqual(factView('score', 0.1), { key: 'score', kind: 'number', text: '0.1', full: null });
  assert.deepEqual(factView('n', -3e-7), { key: 'n', kind: 'number', text: '-3e-7', full: null });
  assert.deepEqual(factView('big', 12345678901234567890n), { key: 'big', kind: 'number', text: '12345678901234567890', full: null });
  assert.deepEqual(factView('pred', 'B'), { key: 'pred', kind: 'string', text: 'B', full: null });
  assert.deepEqual(factView('none', null), { key: 'none', kind: 'null', text: 'null', full: null });
  assert.deepEqual(factView('l', [1, [2, 'x'], null]), { key: 'l', kind: 'list', text: '[1,[2,"x"],null]', full: null });
  assert.deepEqual(factView('d', { a: { b: true }, c: [] }), { key: 'd', kind: 'dict', text: '{"a":{"b":true},"c":[]}', full: null });
  assert.deepEqual(factView('cells', [1n, 2n]), { key: 'cells', kind: 'list', text: '[1,2]', full: null }, 'bigint inside a list never throws');
  // A string on one line; its real text in the tooltip. Empty or blank, quoted so it shows.
  assert.deepEqual(factView('s', 'a\n\n  b\t'), { key: 's', kind: 'string', text: 'a b', full: 'a\n\n  b\t' });
  assert.deepEqual(factView('s', ''), { key: 's', kind: 'string', text: '""', full: '' });
  assert.deepEqual(factView('s', '   '), { key: 's', kind: 'string', text: '"   "', full: '   ' });

  const long = 'x'.repeat(200);
  assert.deepEqual(factView('s', long), { key: 's', kind: 'string', text: `${'x'.repeat(79)}…`, full: long });
  const list = Array.from({ length: 2000 }, (_, i) => i);
  const json = JSON.stringify(list);
  assert.ok(json.length > FACT_FULL_CHARS);
  const f = factView('ids', list);
  assert.equal(f.text, `${json.slice(0, 79)}…`);
  assert.equal(f.full, `${json.slice(0, FACT_FULL_CHARS - 1)}…`, 'the tooltip is capped too');
  // Exactly 80 characters is not cut.
  assert.deepEqual(factView('s', 'y'.repeat(80)), { key: 's', kind: 'string', text: 'y'.repeat(80), full: null });
  // A cut never splits a surrogate pair.
  const emoji = `${'a'.repeat(78)}🙂zz`;
  assert.equal(factView('s', emoji).text, `${'a'.repeat(78)}…`);
  // A long key is cut too; the tooltip names it whole.
  const key = 'k'.repeat(60);
  assert.deepEqual(factView(key, 1), { key: `${'k'.repeat(FACT_KEY_CHARS - 1)}…`, kind: 'number', text: '1', full: `${key}: 1` });
});

test('facts keep the record\'s key order, own keys only (__proto__ included), the first FACTS_SENT of them', () => {
  const parsed = JSON.parse('{"b":1,"__proto__":"B","a":[true]}') as Record<string, unknown>;
  assert.deepEqual(factViews(parsed).facts.map((f) => [f.key, f.text]), [['b', '1'], ['__proto__', 'B'], ['a', '[true]']]);
  assert.deepEqual(factViews(undefined), { facts: [], moreFacts: 0 });
  const many: Record<string, unknown> = Object.create(null);
  for (let i = 0; i < FACTS_SENT + 6; i++) many[`k${i}`] = i;
  const v = factViews(many);
  assert.equal(v.facts.length, FACTS_SENT);
  assert.equal(v.moreFacts, 6);
  assert.deepEqual(v.facts.at(-1), { key: `k${FACTS_SENT - 1}`, kind: 'number', text: String(FACTS_SENT - 1), full: null });
});

test('the group detail carries every completion\'s facts, read back from the spill file, and passes the webview\'s check', async () => {
  // Records handed over without a place in a native file (another trainer's format) are spilled.
  const view = new RolloutView(OPTS);
  const metas = [{ acc: true, pred: 'B' }, { acc: false, pred: 'C', extra: { n: 2 } }, undefined];
  view.append(metas.map((meta, k) => ({ record: { v: 1 as const, group: 'g', step: 3, index: k, completion: `c${k}`, ...(meta ? { meta } : {}) }, loc: { file: '/r.jsonl', line: k + 1 } })));
  view.settle();
  assert.deepEqual(view.index.bodies.map((b) => /grpo-studio-spill-/.test(b)), [true], 'the bodies are in the spill file, not held');
  const none: ImageResolver = async (path) => ({ path, src: null, width: null, height: null, tried: [] });
  const detail = await buildGroupDetail(view, 0, { ...OPTS, frame: 'auto' }, none);
  assert.deepEqual(detail.completions.map((c) => c.facts.map((f) => `${f.key}=${f.text}`)), [['acc=true', 'pred=B'], ['acc=false', 'pred=C', 'extra={"n":2}'], []]);
  assert.deepEqual(detail.completions.map((c) => c.moreFacts), [0, 0, 0]);
  assert.equal(isHostMessage({ type: 'groupDetail', detail }), true);
  await view.close();
});

test('protocol: the webview checks facts, notes and bad lines before it draws them', () => {
  const status = (extra: Record<string, unknown>) => ({
    type: 'status',
    source: { title: 't', files: ['/r'], format: 'native', stepsInferred: false },
    totalGroups: 1, totalCompletions: 1, badLines: [], badLineCount: 0, notes: [], noteCount: 0,
    live: { mode: 'watch', loading: false, bytesRead: 0, bytesTotal: 0, problem: null },
    ...extra,
  });
  assert.equal(isHostMessage(status({})), true);
  assert.equal(isHostMessage(status({ notes: [{ file: '/r', line: 3, message: 'm' }, { file: '/r', message: 'whole file' }], noteCount: 9 })), true);
  assert.equal(isHostMessage(status({ notes: undefined })), false, 'notes are required');
  assert.equal(isHostMessage(status({ noteCount: '1' })), false);
  assert.equal(isHostMessage(status({ notes: [{ file: '/r', line: '3', message: 'm' }] })), false, 'a line is a number');
  assert.equal(isHostMessage(status({ notes: [{ file: '/r', message: { html: '<b>' } }] })), false, 'a message is a string');
  assert.equal(isHostMessage(status({ badLines: [{ line: 1, error: 7 }] })), false);
  assert.equal(isHostMessage({ ...status({}), type: 'init' }), true, 'init is checked the same way');
  assert.equal(isHostMessage({ ...status({ notes: [null] }), type: 'init' }), false);

  const detail = (facts: unknown, moreFacts: unknown = 0) => ({ type: 'groupDetail', detail: { key: 'g', completions: [{ facts, moreFacts }] } });
  assert.equal(isHostMessage(detail([{ key: 'a', kind: 'list', text: '[1]', full: null }])), true);
  assert.equal(isHostMessage(detail([{ key: 'a', kind: 'string', text: 'x…', full: 'xyz' }])), true);
  assert.equal(isHostMessage(detail([{ key: 'a', kind: 'html', text: 'x', full: null }])), false, 'an unknown kind');
  assert.equal(isHostMessage(detail([{ key: 'a', kind: 'number', text: 1, full: null }])), false, 'text is text');
  assert.equal(isHostMessage(detail([{ key: 'a', kind: 'number', text: '1', full: 1 }])), false);
  assert.equal(isHostMessage(detail([{ key: 'a', kind: 'number', text: '1' }])), false, 'full is null or a string, never absent');
  assert.equal(isHostMessage(detail([{ key: 2, kind: 'number', text: '1', full: null }])), false);
  assert.equal(isHostMessage(detail([], null)), false, 'moreFacts is a number');
  assert.equal(isHostMessage({ type: 'groupDetail', detail: { key: 'g', completions: [{ facts: [] }] } }), false, 'moreFacts is required');
  assert.equal(isHostMessage(detail('a=1')), false);
  assert.equal(isHostMessage({ type: 'groupDetail', detail: null }), false);
  const rows: HostMessage = { type: 'rows', requestId: 1, start: 0, total: 0, rows: [] };
  assert.equal(isHostMessage(rows), true);
  assert.equal(isHostMessage({ type: 'nope' }), false);
});

const batch = (b: Partial<FollowBatch>): FollowBatch => ({ records: [], badLines: [], metrics: [], events: [], notes: [], ...b });

test('live: the source notes of each batch are kept and handed to the host once; a truncated file\'s notes go with it', async () => {
  const told: string[][] = [];
  let updates = 0;
  const live = new LiveRollouts('/runs/a', OPTS, () => updates++, { intervalMs: 5, onNotes: (n) => told.push(n.map((x) => x.message)) });
  const rec = (file: string, line: number) => ({ record: { v: 1 as const, group: `${file}:${line}`, completion: 'x' }, loc: { file, line, offset: 0 } });
  live.take(batch({
    records: [rec('/runs/a/1.jsonl', 1)],
    notes: [
      { file: '/runs/a/1.jsonl', line: 1, message: 'group of 7, the run has 8' },
      { file: '/runs/a/r.verdicts.jsonl', line: 1, message: 'from the judge\'s cache, not a rollout file' },
      { file: '/runs/a/2.jsonl', message: 'steps inferred' },
    ],
  }));
  assert.deepEqual(live.notes.map((n) => n.message), ['group of 7, the run has 8', 'steps inferred']);
  assert.deepEqual(told, [['group of 7, the run has 8', 'steps inferred']]);
  // A batch of notes alone is news too: the viewer is told.
  live.take(batch({ notes: [{ file: '/runs/a/2.jsonl', line: 4, message: 'eval pass mixed in' }] }));
  assert.equal(live.notes.length, 3);
  await new Promise((r) => setTimeout(r, 30));
  assert.ok(updates >= 1, 'an update was posted');
  live.take(batch({ events: [{ file: '/runs/a/1.jsonl', event: 'truncated' }], notes: [{ file: '/runs/a/1.jsonl', line: 2, message: 'read again' }] }));
  assert.deepEqual(live.notes.map((n) => `${n.file}:${n.line ?? '-'} ${n.message}`), ['/runs/a/2.jsonl:- steps inferred', '/runs/a/2.jsonl:4 eval pass mixed in', '/runs/a/1.jsonl:2 read again']);
  assert.equal(told.length, 3);
  await live.close();
});
