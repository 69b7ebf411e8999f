/**
 * One prompt's timeline (src/core/view/promptTimeline.ts) against an independent computation
 * from the generated records: per step the group's size, the spread of the recomputed totals
 * (accuracy + format 0.5 + the box's IoU, worked out here by hand), each reward's mean, the mean
 * completion length, the mean IoU, the zero-variance flag and the verdict counts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RolloutView, type ScoreOptions } from '../../src/core/view/rolloutView';
import { promptTimeline } from '../../src/core/view/promptTimeline';
import { seededRandom } from './index-records';

const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 3686400 };

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'grpo-timeline-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Member {
  answer: string;
  /** Width of the predicted car box against the gold [0,0,10,10]: IoU = w / 10. */
  w: number;
  verdict: 'aligned' | 'misaligned' | 'uncertain' | 'failed' | 'unjudged';
  completion: string;
}

const PROMPTS = [{ text: 'Where is the car? <b>', images: ['car.png'] }, { text: 'Where is the dog?', images: ['dog.png'] }];

test('a prompt recurring over steps: its timeline equals the hand computation, step by step', async () => {
  const rnd = seededRandom(5);
  const lines: string[] = [];
  const plan: { step: number; prompt: number; key: string; members: Member[] }[] = [];
  let line = 0;
  const verdictOfLine = new Map<number, Member['verdict']>();
  for (let step = 0; step < 8; step++) {
    for (let p = 0; p < 2; p++) {
      if (p === 0 && step === 3) continue; // the car prompt skips step 3
      const n = 2 + Math.floor(rnd() * 4);
      const key = `g${step}-${p}`;
      const members: Member[] = [];
      const zero = step === 5; // every member alike: zero variance
      for (let i = 0; i < n; i++) {
        const answer = zero ? 'A' : rnd() < 0.5 ? 'A' : 'B';
        const w = zero ? 10 : 1 + Math.floor(rnd() * 10);
        const verdict = (['aligned', 'misaligned', 'uncertain', 'failed', 'unjudged'] as const)[Math.floor(rnd() * 5)]!;
        const completion = `<think>the car [0,0,${w},10 car] ${'x'.repeat(Math.floor(rnd() * 20))}</think><answer>${answer}</answer>`;
        members.push({ answer, w, verdict, completion });
        lines.push(JSON.stringify({ v: 1, step, group: key, index: i, prompt: PROMPTS[p], completion, solution: '<think>[0,0,10,10 car]</think><answer>A</answer>' }));
        verdictOfLine.set(++line, verdict);
      }
      plan.push({ step, prompt: p, key, members });
    }
  }
  const path = join(dir, 'run.jsonl');
  writeFileSync(path, lines.join('\n') + '\n');
  for (const scanned of [false, true]) {
    let view: RolloutView;
    if (scanned) {
      view = new RolloutView(OPTS);
      await view.scanNative(path);
      await view.scoreScanned();
    } else view = await RolloutView.load([path], OPTS);
    await view.setVerdicts((l) => {
      const v = verdictOfLine.get(l.line)!;
      if (v === 'unjudged') return null;
      if (v === 'failed') return { aligns: null, type: null, why: '', tier: 'rules', failed: 'timeout' };
      return { aligns: v === 'aligned' ? true : v === 'misaligned' ? false : null, type: null, why: '', tier: 'rules' };
    });
    for (const p of [0, 1]) {
      const mine = plan.filter((g) => g.prompt === p);
      const from = mine[Math.floor(rnd() * mine.length)]!;
      const t = await promptTimeline(view, view.groupIndex(from.key)!);
      assert.ok(t);
      assert.deepEqual(t.prompt, PROMPTS[p]);
      assert.equal(t.hasIou, true);
      assert.deepEqual(t.rewardNames, ['accuracy', 'format', 'bbox']);
      assert.deepEqual(t.groups.map((g) => g.key), mine.map((g) => g.key), 'the groups of this prompt in step order');
      mine.forEach((g, k) => {
        const got = t.groups[k]!;
        const acc: number[] = g.members.map((m) => (m.answer === 'A' ? 1 : 0));
        const iou = g.members.map((m) => m.w / 10);
        const totals = g.members.map((_, i) => acc[i]! + 0.5 + iou[i]!);
        const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
        const std = Math.sqrt(totals.reduce((a, b) => a + (b - mean) ** 2, 0) / (totals.length - 1));
        const close = (a: number | null | undefined, b: number, what: string): void => assert.ok(a != null && Math.abs(a - b) < 1e-9, `${g.key} ${what}: ${a} vs ${b}`);
        assert.equal(got.step, g.step);
        assert.equal(got.size, g.members.length);
        close(got.mean, mean, 'mean');
        close(got.min, Math.min(...totals), 'min');
        close(got.max, Math.max(...totals), 'max');
        close(got.std, std, 'std');
        close(got.rewards.accuracy, acc.reduce((a, b) => a + b, 0) / acc.length, 'accuracy');
        close(got.rewards.format, 0.5, 'format');
        close(got.rewards.bbox, iou.reduce((a, b) => a + b, 0) / iou.length, 'bbox');
        close(got.iou, iou.reduce((a, b) => a + b, 0) / iou.length, 'iou');
        close(got.length, g.members.reduce((a, m) => a + Buffer.byteLength(m.completion), 0) / g.members.length, 'length');
        assert.equal(got.zeroVariance, totals.length > 1 && totals.every((x) => x === totals[0]), `${g.key} zero variance`);
        if (g.step === 5) assert.equal(got.zeroVariance, true);
        const counts = { aligned: 0, misaligned: 0, uncertain: 0, failed: 0, unjudged: 0 };
        for (const m of g.members) counts[m.verdict]++;
        assert.deepEqual(got.verdicts, counts, `${g.key} verdicts`);
      });
    }
    await view.close();
  }
});

test('a variant without a bbox reward has no IoU', async () => {
  const path = join(dir, 'vsr.jsonl');
  const rec = (step: number, i: number): string => JSON.stringify({ v: 1, step, group: `s${step}`, index: i, prompt: { text: 'left?' }, completion: `<think>[0,0,5,10 car]</think><answer>${i ? 'yes' : 'no'}</answer>`, solution: '<answer>yes</answer>' });
  writeFileSync(path, [rec(1, 0), rec(1, 1), rec(2, 0), rec(2, 1)].join('\n') + '\n');
  const view = await RolloutView.load([path], { ...OPTS, variant: 'vsr' });
  const t = (await promptTimeline(view, 1))!;
  assert.equal(t.hasIou, false);
  assert.deepEqual(t.groups.map((g) => [g.step, g.iou, g.mean]), [[1, null, 1.5], [2, null, 1.5]]);
  await view.close();
});
