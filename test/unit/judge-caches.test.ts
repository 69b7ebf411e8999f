// One judge run over several files keeps one verdict cache per file (where the viewer looks for a
// record's verdict): each verdict lands beside the file its completion came from, a completion
// repeated in two files lands in both, and a verdict cached in one file is copied to the other on
// the next run instead of being asked again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VerdictCache, cachePathFor } from '../../src/core/judge/cache';
import { VerdictCaches } from '../../src/core/judge/caches';
import { judgeCompletions } from '../../src/core/judge/cascade';
import { RulesJudge } from '../../src/core/judge/rules';
import { verdictKey, type JudgeItem } from '../../src/core/judge/verdict';

const c = (think: string, answer: string): string => `<think>${think}</think><answer>${answer}</answer>`;
const keysIn = (file: string): string[] =>
  existsSync(cachePathFor(file)) ? readFileSync(cachePathFor(file), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { key: string }).key) : [];

test('per-file caches: routed by completion, shared completions in both, hits copied, one file needs no routing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'judge-caches-'));
  try {
    const [a, b] = [join(dir, '1.jsonl'), join(dir, '2.jsonl')];
    const only = { completion: c('so the answer is B.', 'C'), question: 'q' };
    const shared = { completion: c('so the answer is B.', 'B'), question: 'q' };
    const other = { completion: c('so the answer is A.', 'A'), question: 'q2' };
    const entries: { item: JudgeItem; file: string }[] = [
      { item: { ...only, line: 1 }, file: a },
      { item: { ...shared, line: 2 }, file: a },
      { item: { ...shared, line: 1 }, file: b },
    ];
    const judges = { rules: new RulesJudge() };
    const key = (i: Pick<JudgeItem, 'completion' | 'question'>): string => verdictKey(i, 'rules', judges.rules.model, judges.rules.promptHash);

    const run = VerdictCaches.perFile();
    run.route(entries, judges);
    const results = await judgeCompletions(entries.map((e) => e.item), 'rules', judges, { cache: run });
    run.close();
    assert.equal(results.length, 3);
    assert.deepEqual(keysIn(a).sort(), [key(only), key(shared)].sort(), 'file 1 holds its two completions');
    assert.deepEqual(keysIn(b), [key(shared)], 'file 2 holds the completion it shares with file 1, and only that');

    // A third file holding `other` and `shared`: `shared` is found in file 1's cache and copied over.
    const c3 = join(dir, '3.jsonl');
    const next = VerdictCaches.perFile();
    const more: { item: JudgeItem; file: string }[] = [{ item: { ...shared, line: 1 }, file: c3 }, { item: { ...other, line: 2 }, file: c3 }, { item: { ...shared, line: 2 }, file: a }];
    next.route(more, judges);
    const again = await judgeCompletions(more.map((e) => e.item), 'rules', judges, { cache: next });
    next.close();
    assert.deepEqual(again.map((r) => r.cached), [true, false, true]);
    assert.deepEqual(keysIn(c3).sort(), [key(shared), key(other)].sort());
    assert.equal(keysIn(a).length, 2, 'nothing written twice');

    // One file: every verdict in its cache, read back by the plain cache.
    const solo = join(dir, 'solo.jsonl');
    const one = VerdictCaches.perFile();
    one.route([{ item: other, file: solo }], judges);
    await judgeCompletions([other], 'rules', judges, { cache: one });
    one.close();
    assert.ok(VerdictCache.open(cachePathFor(solo)).get(key(other)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

