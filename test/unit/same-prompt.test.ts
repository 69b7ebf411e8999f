/**
 * Prompt identity (src/core/view/samePrompt.ts): a prompt recurring across steps is found from
 * any of its groups in native (read and scanned, before and after scoring) and verl runs; a
 * 32-bit hash collision never joins two prompts; images count as part of the prompt.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutView, type ScoreOptions } from '../../src/core/view/rolloutView';
import { LiveRollouts } from '../../src/core/view/liveRollouts';
import { groupsWithPrompt, samePromptGroups } from '../../src/core/view/samePrompt';
import { promptHash } from '../../src/core/index/groupTable';
import { seededRandom } from './index-records';

const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 3686400 };

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-same-prompt-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Planned {
  key: string;
  step: number;
  prompt: { text: string; images: string[] };
}

/** A seeded run: 6 steps, each with 3–5 groups of 4 drawn from a small prompt pool (so prompts recur), written keys or derived. */
function plan(seed: number, prompts: { text: string; images: string[] }[], written: boolean): { lines: string[]; groups: Planned[] } {
  const rnd = seededRandom(seed);
  const lines: string[] = [];
  const groups: Planned[] = [];
  for (let step = 1; step <= 6; step++) {
    const n = 3 + Math.floor(rnd() * 3);
    let last = -1;
    for (let k = 0; k < n; k++) {
      let p = Math.floor(rnd() * prompts.length);
      if (p === last) p = (p + 1) % prompts.length; // two derived groups in a row need different prompts
      last = p;
      const key = written ? `s${step}-g${k}` : `~${step}/${k}`;
      groups.push({ key, step, prompt: prompts[p]! });
      for (let i = 0; i < 4; i++) {
        const rec: Record<string, unknown> = {
          v: 1, step, index: i, prompt: prompts[p],
          completion: `<think>t${i}</think><answer>${rnd() < 0.5 ? 'A' : 'B'}</answer>`, solution: 'A', rewards: { accuracy: rnd() < 0.5 ? 1 : 0 },
        };
        if (written) rec.group = key;
        lines.push(JSON.stringify(rec));
      }
    }
  }
  return { lines, groups };
}

const same = (a: Planned['prompt'], b: Planned['prompt']): boolean => a.text === b.text && JSON.stringify(a.images) === JSON.stringify(b.images);

/** Independently: for each planned group, the keys of the groups with its prompt in step order. */
function expected(groups: Planned[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of groups) out.set(g.key, groups.filter((o) => same(o.prompt, g.prompt)).sort((a, b) => a.step - b.step).map((o) => o.key));
  return out;
}

async function check(view: RolloutView, groups: Planned[], what: string): Promise<void> {
  const want = expected(groups);
  const keys = view.index.groups.keys;
  for (const g of groups) {
    const id = view.groupIndex(g.key);
    assert.ok(id !== undefined, `${what}: group ${g.key} is in the view`);
    assert.deepEqual((await samePromptGroups(view, id)).map((x) => keys[x]), want.get(g.key), `${what}: ${g.key}`);
    assert.deepEqual((await groupsWithPrompt(view, g.prompt)).map((x) => keys[x]), want.get(g.key), `${what}: by prompt ${g.key}`);
  }
  assert.deepEqual(await groupsWithPrompt(view, { text: 'never asked', images: [] }), []);
}

const POOL = [
  { text: 'Where is the car?', images: ['a.png'] },
  { text: 'Where is the car?', images: ['b.png'] }, // same text, other image: another prompt
  { text: 'Where is the car?', images: [] },
  { text: 'How many dogs? 🐕 "quoted"', images: ['a.png'] },
  { text: 'Is the <b>cat</b> left of the dog?', images: ['c.png', 'd.png'] },
];

test('native run read through the viewer path (written and derived keys): every group finds its prompt across steps', async () => {
  for (const written of [true, false]) {
    for (const seed of [1, 2]) {
      const { lines, groups } = plan(seed, POOL, written);
      const path = join(dir, `native-${written}-${seed}.jsonl`);
      writeFileSync(path, lines.join('\n') + '\n');
      const view = await RolloutView.load([path], OPTS);
      const gt = view.index.groups;
      for (let g = 0; g < gt.count; g++) assert.notEqual(gt.prompt.data[g], 0, 'hash stored as records are added');
      await check(view, groups, `native written=${written} seed=${seed}`);
      await view.close();
    }
  }
});

test('a scanned native file: found before scoring (hashes unknown) and after', async () => {
  const { lines, groups } = plan(7, POOL, true);
  const path = join(dir, 'scanned.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  const view = new RolloutView(OPTS);
  await view.scanNative(path);
  const gt = view.index.groups;
  assert.ok(view.unscoredCount > 0);
  let unknown = 0;
  for (let g = 0; g < gt.count; g++) if (gt.prompt.data[g] === 0) unknown++;
  assert.equal(unknown, gt.count, 'the fast scan reads no prompt');
  // One lookup on a fresh scan: the unknown groups are read back (and their hashes filled in).
  const first = groups[0]!;
  const want = expected(groups);
  assert.deepEqual((await samePromptGroups(view, view.groupIndex(first.key)!)).map((g) => gt.keys[g]), want.get(first.key));
  for (let g = 0; g < gt.count; g++) assert.notEqual(gt.prompt.data[g], 0, 'a lookup fills in what it read');
  await view.close();

  const fresh = new RolloutView(OPTS);
  await fresh.scanNative(path);
  await check(fresh, groups, 'scanned, unscored');
  await fresh.scoreScanned();
  const ft = fresh.index.groups;
  for (let g = 0; g < ft.count; g++) assert.equal(ft.prompt.data[g], promptHash(groups.find((p) => p.key === ft.keys[g])!.prompt), 'scoring stores the hash');
  await check(fresh, groups, 'scanned, scored');
  await fresh.close();
});

test('a 32-bit hash collision does not join two prompts', async () => {
  // A real FNV-1a collision between two prompt texts (birthday search, deterministic).
  const seen = new Map<number, string>();
  let a = '';
  let b = '';
  for (let i = 0; !a; i++) {
    const text = `prompt number ${i}`;
    const h = promptHash({ text, images: [] });
    const other = seen.get(h);
    if (other !== undefined) [a, b] = [other, text];
    else seen.set(h, text);
  }
  assert.equal(promptHash({ text: a, images: [] }), promptHash({ text: b, images: [] }));
  const pool = [{ text: a, images: [] }, { text: b, images: [] }, { text: 'third', images: [] }];
  const { lines, groups } = plan(11, pool, true);
  assert.ok(groups.some((g) => g.prompt.text === a) && groups.some((g) => g.prompt.text === b), 'both colliding prompts are in the run');
  const path = join(dir, 'collide.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  const view = await RolloutView.load([path], OPTS);
  await check(view, groups, 'collision');
  await view.close();
});

test('verl folder: a prompt recurring over per-step files (balanced, not consecutive) is found across steps', async () => {
  const root = join(dir, 'verl');
  mkdirSync(root);
  const prompts = ['Q: left of the car?', 'Q: how many dogs?', 'Q: colour of the bus?'];
  const groups: Planned[] = [];
  for (let step = 1; step <= 4; step++) {
    const asked = step % 2 === 0 ? [0, 1] : [0, 2];
    const rows: string[] = [];
    for (let i = 0; i < 2; i++) for (const p of asked) rows.push(JSON.stringify({ input: prompts[p], output: `<answer>${i}</answer>`, gts: '1', score: i, step }));
    writeFileSync(join(root, `${step}.jsonl`), rows.join('\n') + '\n');
    for (const p of asked) groups.push({ key: '', step, prompt: { text: prompts[p]!, images: [] } });
  }
  const live = new LiveRollouts(root, OPTS, () => undefined, { intervalMs: 30, follow: { pollMs: 30 } });
  await live.start();
  const end = Date.now() + 10_000;
  while (live.set.completionCount < 16) {
    if (Date.now() > end) throw new Error('verl run not read');
    await new Promise((r) => setTimeout(r, 20));
  }
  const view = live.set;
  view.settle();
  const gt = view.index.groups;
  // Keys are the adapter's: name each planned group by the view's group with its step and prompt.
  for (const g of groups) {
    const found = [];
    for (let id = 0; id < gt.count; id++) {
      if (gt.size.data[id]! === 0 || gt.step.data[id] !== g.step) continue;
      const rec = (await view.index.readRecord(view.index.groupRows(id)[0]!)).record;
      if (rec.prompt?.text === g.prompt.text) found.push(id);
    }
    assert.equal(found.length, 1, `one group of step ${g.step} asks ${g.prompt.text}`);
    g.key = gt.keys[found[0]!]!;
  }
  await check(view, groups, 'verl');
  const car = await groupsWithPrompt(view, { text: prompts[0]!, images: [] });
  assert.deepEqual(car.map((g) => gt.step.data[g]), [1, 2, 3, 4]);
  await live.close();
});
