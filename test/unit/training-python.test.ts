/**
 * The Python companion: its own unittest suite under python3, and a recorded batch read back by
 * the native v1 parser.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseRecordLine } from '../../src/core/schema/record';

const repo = new URL('../..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'grpo-py-'));
after(() => rmSync(out, { recursive: true, force: true }));

test('python3 -m unittest passes for python/grpo_studio', () => {
  const r = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'test/python', '-v'], { cwd: repo, encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(repo, 'python'), PYTHONDONTWRITEBYTECODE: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Ran 4 tests/);
  assert.match(r.stderr, /\nOK\n/);
});

test('records written by record_rewards parse as v1 with groups, images, boxes and rewards', () => {
  const script = `
import sys, types
from grpo_studio import record_rewards
def accuracy(completions, solution, **kw): return [1.0 if c.endswith(s) else 0.0 for c, s in zip(completions, solution)]
def iou(completions, **kw): return [0.62, 0.0, 0.9, 0.1]
funcs = record_rewards([accuracy, iou], sys.argv[1], num_generations=2, run="trl-demo", box_frame="resized")
batch = dict(prompts=["Q1", "Q1", "Q2", "Q2"], completions=["<answer>A</answer>", "<answer>B</answer>", "<answer>C</answer>", "x"],
             solution=["<answer>A</answer>"] * 2 + ["<answer>C</answer>"] * 2, images=[["a.jpg"], ["a.jpg"], ["b.jpg"], ["b.jpg"]],
             boxes=[[{"label": "car", "bbox_2d": [1, 2, 3, 4]}]] * 4, image_size=[[640, 480]] * 4, trainer_state=types.SimpleNamespace(global_step=12))
for f in funcs: f(**batch)
`;
  execFileSync('python3', ['-c', script, out], { env: { ...process.env, PYTHONPATH: join(repo, 'python'), PYTHONDONTWRITEBYTECODE: '1' } });
  const lines = readFileSync(join(out, 'rollouts.rank0.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 4);
  const recs = lines.map((l, i) => {
    const r = parseRecordLine(l);
    assert.ok(r.ok, `line ${i + 1}: ${r.ok ? '' : r.error}`);
    return r.record;
  });
  assert.deepEqual(recs.map((r) => [r.step, r.group, r.index]), [[12, '12/0.0', 0], [12, '12/0.0', 1], [12, '12/0.1', 0], [12, '12/0.1', 1]]);
  assert.deepEqual(recs[2]!.prompt, { text: 'Q2', images: ['b.jpg'] });
  assert.deepEqual(recs[0]!.gt_boxes, [{ label: 'car', box: [1, 2, 3, 4] }]);
  assert.equal(recs[0]!.box_frame, 'resized');
  assert.deepEqual(recs[0]!.image_size, [640, 480]);
  assert.equal(recs[0]!.run, 'trl-demo');
  assert.deepEqual(recs.map((r) => r.rewards), [
    { accuracy: 1, iou: 0.62 }, { accuracy: 0, iou: 0 }, { accuracy: 1, iou: 0.9 }, { accuracy: 0, iou: 0.1 },
  ]);
  assert.deepEqual(recs.map((r) => r.reward), [1.62, 0, 1.9, 0.1]);
  // group 12/0.0: [1.62, 0] -> mean 0.81, sample std 0.81 * sqrt(2)
  assert.ok(Math.abs(recs[0]!.advantage! - 0.81 / (0.81 * Math.SQRT2 + 1e-4)) < 1e-12);
  assert.equal(typeof recs[0]!.meta?.time, 'number', 'meta.time lets replay keep the pace');
});
