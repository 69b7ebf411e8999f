import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { allPresets, replayPreset, vlmR1GrpoPreset } from '../../src/core/training/presets';
import { parseProfiles, planLaunch, ProfileError, resolveChain, validateProfiles, type RunProfile } from '../../src/core/training/profile';

test('parses a valid profiles file and plans the launch with variables and GPUs', () => {
  const profiles = parseProfiles(
    JSON.stringify({
      profiles: [
        { name: 'sft', command: ['python', 'sft.py', '--out', '${output_dir}'], output_dir: 'out/sft' },
        {
          name: 'grpo',
          after: 'sft',
          command: ['torchrun', '--nproc_per_node=${nproc}', 'grpo.py', '--model', '${after.output_dir}'],
          cwd: 'src',
          env: { LOG_PATH: '${output_dir}/log.txt', HOME_COPY: '${env:MY_HOME}' },
          gpus: '2,3',
          output_dir: '/abs/grpo',
          rollouts: { path: '${output_dir}/log.txt', format: 'vlm-r1' },
          metrics: { stdout: true, trainer_state: '${output_dir}' },
        },
      ],
    }),
  );
  assert.deepEqual(resolveChain(profiles, 'grpo').map((p) => p.name), ['sft', 'grpo']);
  const plan = planLaunch(profiles[1]!, { workspace: '/ws', profiles, env: { MY_HOME: '/home/x' } });
  assert.deepEqual(plan.argv, ['torchrun', '--nproc_per_node=2', 'grpo.py', '--model', '/ws/out/sft']);
  assert.equal(plan.cwd, '/ws/src');
  assert.deepEqual(plan.env, { LOG_PATH: '/abs/grpo/log.txt', HOME_COPY: '/home/x', CUDA_VISIBLE_DEVICES: '2,3' });
  assert.deepEqual(plan.rollouts, { path: '/abs/grpo/log.txt', format: 'vlm-r1' });
  assert.deepEqual(plan.metrics, { stdout: true, trainerState: '/abs/grpo' });
  assert.deepEqual(plan.gpus, [2, 3]);
  // A free-GPU choice overrides the profile's.
  assert.equal(planLaunch(profiles[1]!, { workspace: '/ws', profiles, gpus: [5] }).env.CUDA_VISIBLE_DEVICES, '5');
});

test('errors name the profile and the field', () => {
  const { profiles, problems } = validateProfiles({
    profiles: [
      { name: 'a', command: 'python train.py' },
      { name: 'b', command: ['x', 3], gpus: [0, -1], rollouts: { path: 'r', format: 'csv' }, colour: 'red' },
      { name: 'ok', command: ['true'] },
      { name: 'ok', command: ['true'] },
    ],
  });
  assert.deepEqual(profiles.map((p) => p.name), ['ok']);
  const text = problems.map((p) => `${p.profile}|${p.field}`);
  assert.deepEqual(text, ['a|command', 'b|colour', 'b|command[1]', 'b|gpus[1]', 'b|rollouts.format', 'ok|name']);
  assert.throws(() => parseProfiles('{"profiles": [{"name": "a", "command": "x"}]}'), (e: unknown) => {
    assert.ok(e instanceof ProfileError);
    assert.match(e.message, /^profile "a" "command": a string command needs "shell": true/);
    return true;
  });
  assert.throws(() => parseProfiles('{"profiles": ['), /invalid JSON/);
});

test('after: unknown names and cycles are reported', () => {
  const mk = (name: string, after?: string): RunProfile => ({ name, command: ['true'], ...(after ? { after } : {}) });
  const { problems } = validateProfiles({ profiles: [mk('a', 'c'), mk('b', 'a'), mk('c', 'b'), mk('d', 'nope')] });
  assert.deepEqual(
    problems.map((p) => `${p.profile}: ${p.message}`),
    [
      'a: "after" forms a cycle: a -> c -> b -> a',
      'b: "after" forms a cycle: b -> a -> c -> b',
      'c: "after" forms a cycle: c -> b -> a -> c',
      'd: names no profile ("nope")',
    ],
  );
});

test('shell commands quote appended resume arguments; unknown variables fail', () => {
  const p: RunProfile = { name: 's', command: 'bash train.sh --x 1', shell: true, output_dir: 'o' };
  const plan = planLaunch(p, { workspace: '/w', profiles: [p], resumeFrom: "/w/o/check point-3" });
  assert.deepEqual(plan.argv, ['/bin/sh', '-c', "bash train.sh --x 1 --resume_from_checkpoint '/w/o/check point-3'"]);
  assert.throws(() => planLaunch({ name: 'x', command: ['a', '${outptu_dir}'] }, { workspace: '/w', profiles: [] }), /unknown variable \$\{outptu_dir\}/);
});

test('the VLM-R1 preset carries the seed recipe exactly', () => {
  const p = vlmR1GrpoPreset({ gpus: [0, 1, 2, 3], after: 'sft-warmup' });
  const sft: RunProfile = { name: 'sft-warmup', command: ['true'], output_dir: 'output/sft' };
  const plan = planLaunch(p, { workspace: '/w', profiles: [sft, p] });
  const argv = plan.argv.join(' ');
  assert.ok(argv.startsWith('torchrun --nproc_per_node=4 --nnodes 1 --master_port 23456 grpo.py'));
  assert.ok(
    argv.includes(
      '--num_generations 4 --per_device_train_batch_size 1 --bf16 --gradient_checkpointing true --learning_rate 1e-5 --use_peft true --lora_r 8 --lora_alpha 16 --freeze_vision_modules true --min_pixels 3136 --max_pixels 3686400 --reward_funcs accuracy bbox format --deepspeed zero2.json',
    ),
  );
  assert.ok(argv.includes('--model_name_or_path /w/output/sft'));
  assert.deepEqual(plan.env, { DEBUG_MODE: 'true', LOG_PATH: '/w/output/grpo/debug_log.txt', CUDA_VISIBLE_DEVICES: '0,1,2,3' });
});

test('every preset validates against the profile parser and the JSON schema file is well-formed', () => {
  const presets = allPresets(['node', '/ext/dist/cli.js'], '/ext/dist/sample');
  const { problems } = validateProfiles(JSON.parse(JSON.stringify({ profiles: presets })));
  assert.deepEqual(problems, []);
  assert.equal(presets.length, 7);
  const r = planLaunch(replayPreset({ cli: ['node', 'cli.js'], recorded: '/s', speed: 4 }), { workspace: '/w', profiles: [] });
  assert.deepEqual(r.argv, ['node', 'cli.js', 'replay', '/s', '--speed', '4', '--out', '/w/.grpo-studio/replay/rollouts.jsonl']);
  const schema = JSON.parse(readFileSync(new URL('../../schemas/run-profiles.schema.json', import.meta.url), 'utf8')) as {
    properties: { profiles: { items: { properties: Record<string, unknown>; required: string[] } } };
  };
  const fields = Object.keys(schema.properties.profiles.items.properties).sort();
  assert.deepEqual(fields, ['after', 'command', 'cwd', 'description', 'env', 'gpus', 'metrics', 'name', 'output_dir', 'resume', 'rollouts', 'shell', 'slurm', 'sweep', 'target']);
  assert.deepEqual(schema.properties.profiles.items.required, ['name', 'command']);
});
