import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { generateSample, MISLOGGED } from '../../scripts/sample/generate';
import { RolloutView, type ScoreOptions } from '../../src/core/view/rolloutView';
import { buildGroupDetail, type DetailOptions, type ImageResolver } from '../../src/core/view/groupDetail';
import { readImageSize } from '../../src/core/images/size';
import { iou } from '../../src/core/boxes/iou';
import { scoreRecord } from '../../src/core/rewards/variants';

const OPTS: ScoreOptions = { variant: 'grounding', matching: 'seed', minPixels: 3136, maxPixels: 3686400 };
const DETAIL: DetailOptions = { ...OPTS, frame: 'auto' };

/** Resolves relative to the rollout file, reading the real header; `src` is the file path itself. */
const resolveImage: ImageResolver = async (p, recordFile) => {
  const abs = resolve(dirname(recordFile), p);
  if (!existsSync(abs)) return { path: p, src: null, width: null, height: null, tried: [abs] };
  const size = await readImageSize(abs);
  return { path: p, src: abs, width: size?.width ?? null, height: size?.height ?? null, tried: [abs] };
};

function withSample<T>(fn: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-view-'));
  const summary = generateSample(dir);
  return fn(summary.file).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('RolloutView groups the sample into groups of 4 and pages rows by window', () =>
  withSample(async (file) => {
    const set = await RolloutView.load([file], OPTS);
    assert.equal(set.badLines.length, 0);
    assert.equal(set.completionCount, set.groupCount * 4);
    assert.ok(set.groupCount >= 10);
    const rows = await set.rows(2, 3);
    assert.deepEqual(rows.map((r) => r.ordinal), [2, 3, 4]);
    assert.equal(rows[0]!.key, set.group(2).key);
    assert.ok(rows.every((r) => r.size === 4 && r.rewardMin !== null && r.rewardMin <= r.rewardMax!));
    assert.deepEqual((await set.rows(set.groupCount - 1, 10)).length, 1);
    await set.close();
  }));

test('RolloutView flags: the mis-logged completion marks its group, zero-variance and format filters select', () =>
  withSample(async (file) => {
    const set = await RolloutView.load([file], OPTS);
    const gi = set.groupIndex(MISLOGGED.group)!;
    assert.ok(set.scoreOf(gi).flags.includes('reward_mismatch'));
    const n = await set.applyFilter({ text: '', flags: ['reward_mismatch'] });
    assert.ok(n >= 1);
    assert.ok((await set.rows(0, n)).some((r) => r.key === MISLOGGED.group));
    const zero = await set.applyFilter({ text: '', flags: ['zero_variance'] });
    assert.ok(zero >= 1, 'the sample has a zero-variance group');
    for (const r of await set.rows(0, zero)) assert.equal(r.rewardMin, r.rewardMax);
    const fmt = await set.applyFilter({ text: '', flags: ['format_failure'] });
    assert.ok(fmt >= 1);
    assert.equal(await set.applyFilter({ text: 'no such words anywhere', flags: [] }), 0);
    const some = await set.applyFilter({ text: 'LEFT', flags: [] });
    assert.ok(some > 0 && some < set.groupCount, `plain words search prompt and completion, ignoring case (${some} of ${set.groupCount})`);
    assert.equal(await set.applyFilter({ text: '', flags: [] }), set.groupCount);
    await set.close();
  }));

test('group detail: boxes land in image pixels, matched to gold with the IoU the reward used', () =>
  withSample(async (file) => {
    const set = await RolloutView.load([file], OPTS);
    const detail = await buildGroupDetail(set, 0, DETAIL, resolveImage);
    assert.equal(detail.completions.length, 4);
    assert.ok(detail.image?.src && detail.image.width === 640 && detail.image.height === 480);
    assert.ok(detail.gold.length >= 2);
    for (const c of detail.completions) {
      assert.equal(c.tokens.map((t) => t.text).join(''), c.text);
      for (const b of c.boxes) {
        if (b.gold === null) continue;
        assert.ok(Math.abs(b.iou! - iou(b.box, detail.gold[b.gold]!.box)) < 1e-9);
      }
    }
    const mis = set.groupIndex(MISLOGGED.group)!;
    const d2 = await buildGroupDetail(set, mis, DETAIL, resolveImage);
    const c = d2.completions.find((x) => x.index === MISLOGGED.index)!;
    assert.equal(c.rewards.find((r) => r.name === 'bbox')?.mismatch, true);
    assert.equal(c.reward.mismatch, false);
  }));

test('group detail: Qwen2.5-VL JSON boxes in the resized frame map back onto the gold boxes', () =>
  withSample(async (file) => {
    const set = await RolloutView.load([file], OPTS);
    let checked = 0;
    for (let gi = 0; gi < set.groupCount; gi++) {
      const d = await buildGroupDetail(set, gi, DETAIL, resolveImage);
      for (const c of d.completions) {
        const json = c.tokens.some((t) => t.kind === 'box' && t.text.includes('bbox_2d'));
        if (!json) continue;
        assert.equal(d.frame.used, 'resized');
        for (const b of c.boxes) {
          if (b.gold === null || b.iou === null || b.iou < 0.9) continue;
          const g = d.gold[b.gold]!.box;
          b.box.forEach((v, k) => assert.ok(Math.abs(v - g[k]!) <= 1.5, `${v} vs ${g[k]}`));
          checked++;
        }
      }
    }
    assert.ok(checked > 0, 'the sample has resized-frame JSON boxes that match gold');
  }));

test('group detail: a missing image reports the path tried, and a frame override is honoured', () =>
  withSample(async (file) => {
    const set = await RolloutView.load([file], OPTS);
    const missing: ImageResolver = async (p) => ({ path: p, src: null, width: null, height: null, tried: [`/nowhere/${p}`] });
    const d = await buildGroupDetail(set, 0, DETAIL, missing);
    assert.equal(d.image?.src, null);
    assert.deepEqual(d.image?.tried, [`/nowhere/${d.image?.path}`]);
    const rel = await buildGroupDetail(set, 0, { ...DETAIL, frame: 'rel1000' }, resolveImage);
    assert.equal(rel.frame.used, 'rel1000');
  }));

test('RolloutView holds no record: bodies are read back from the file, full scores on demand equal scoreRecord', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-view-share-'));
  try {
    const prompt = { text: 'Where is the dog?', images: ['img/1.png'] };
    const base = { v: 1, step: 3, group: '3/0', prompt, gt_boxes: [{ label: 'dog', box: [10, 10, 50, 50] }], image_size: [100, 80], solution: '<answer>left</answer>' };
    const lines = [0, 1, 2].map((k) => JSON.stringify({ ...base, index: k, completion: `<think>the dog [${10 + k},10,50,50 dog]</think> <answer>left</answer>` }));
    lines.push(JSON.stringify({ ...base, index: 3, prompt: { text: 'Where is the cat?' }, completion: '<think>a cat</think> <answer>right</answer>' }));
    const file = join(dir, 'share.rollouts.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const set = await RolloutView.load([file], OPTS);
    assert.equal(set.groupCount, 1);
    assert.deepEqual(set.index.bodies, [file], 'a native file is its own body store: nothing spilled');
    const { rows, scores } = await set.membersOf(0);
    assert.deepEqual(rows.map((r) => r.loc.line), [1, 2, 3, 4]);
    assert.equal(rows[3]!.record.prompt?.text, 'Where is the cat?');
    rows.forEach((r, k) => {
      assert.deepEqual(r.record, JSON.parse(lines[k]!), `member ${k} read back`);
      const s = scoreRecord(r.record, 'grounding', { minPixels: OPTS.minPixels, maxPixels: OPTS.maxPixels, matching: OPTS.matching });
      assert.deepEqual(scores[k]!.boxes, s.boxes, `member ${k} boxes`);
      assert.equal(scores[k]!.reward, s.reward);
      assert.equal(set.index.scoredTotal.data[k], Math.fround(s.reward), 'the index keeps the recomputed total');
      assert.equal(set.index.scoredAdvantage.data[k], Math.fround(scores[k]!.advantage), 'and the advantage in the group');
    });
    await set.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
