/**
 * Profile presets the editor inserts into `.vscode/grpo-studio.json`. Each returns a plain
 * `RunProfile`; `${nproc}`, `${output_dir}`, `${after.output_dir}` are substituted at launch.
 */
import type { RunProfile } from './profile';

export interface PresetOptions {
  name?: string;
  gpus?: number[];
  /** Model to start from; defaults to the `after` stage's output when `after` is set. */
  model?: string;
  dataset?: string;
  output_dir?: string;
  after?: string;
}

const model = (o: PresetOptions, fallback: string) => o.model ?? (o.after ? '${after.output_dir}' : fallback);
const common = (o: PresetOptions, name: string, out: string): Pick<RunProfile, 'name' | 'output_dir'> & Partial<RunProfile> => ({
  name: o.name ?? name,
  output_dir: o.output_dir ?? out,
  ...(o.gpus ? { gpus: o.gpus } : {}),
  ...(o.after ? { after: o.after } : {}),
});

/** The seed's VLM-R1 recipe (docs/run-profiles.md): torchrun, one worker per GPU, LoRA, debug log of rollouts. */
export function vlmR1GrpoPreset(o: PresetOptions = {}): RunProfile {
  return {
    ...common(o, 'vlm-r1-grpo', 'output/grpo'),
    description: 'VLM-R1 GRPO (seed recipe): accuracy + bbox + format rewards',
    command: [
      'torchrun', '--nproc_per_node=${nproc}', '--nnodes', '1', '--master_port', '23456', 'grpo.py',
      '--output_dir', '${output_dir}',
      '--model_name_or_path', model(o, 'Qwen/Qwen2.5-VL-3B-Instruct'),
      '--dataset_name', o.dataset ?? 'data/train.json',
      '--num_generations', '4', '--per_device_train_batch_size', '1', '--bf16',
      '--gradient_checkpointing', 'true', '--learning_rate', '1e-5',
      '--use_peft', 'true', '--lora_r', '8', '--lora_alpha', '16', '--freeze_vision_modules', 'true',
      '--min_pixels', '3136', '--max_pixels', '3686400',
      '--reward_funcs', 'accuracy', 'bbox', 'format', '--deepspeed', 'zero2.json',
    ],
    env: { DEBUG_MODE: 'true', LOG_PATH: '${output_dir}/debug_log.txt' },
    rollouts: { path: '${output_dir}/debug_log.txt', format: 'vlm-r1' },
    metrics: { stdout: true, trainer_state: '${output_dir}' },
    resume: ['--resume_from_checkpoint', '${checkpoint}'],
  };
}

/** TRL GRPOTrainer through `accelerate launch`, with completions logged per step. */
export function trlGrpoPreset(o: PresetOptions = {}): RunProfile {
  return {
    ...common(o, 'trl-grpo', 'output/trl-grpo'),
    description: 'TRL GRPOTrainer via accelerate launch',
    command: [
      'accelerate', 'launch', '--num_processes', '${nproc}', 'train_grpo.py',
      '--output_dir', '${output_dir}', '--model_name_or_path', model(o, 'Qwen/Qwen2.5-VL-3B-Instruct'),
      '--dataset_name', o.dataset ?? 'data/train.json', '--num_generations', '4',
      '--log_completions', 'true', '--logging_steps', '1', '--bf16', 'true',
    ],
    rollouts: { path: '${output_dir}/completions', format: 'trl' },
    metrics: { stdout: true, trainer_state: '${output_dir}' },
    resume: ['--resume_from_checkpoint', '${checkpoint}'],
  };
}

/** verl's PPO entry point with the GRPO estimator; rollouts dumped one file per step. */
export function verlGrpoPreset(o: PresetOptions = {}): RunProfile {
  return {
    ...common(o, 'verl-grpo', 'output/verl-grpo'),
    description: 'verl GRPO (main_ppo with algorithm.adv_estimator=grpo)',
    command: [
      'python3', '-m', 'verl.trainer.main_ppo', 'algorithm.adv_estimator=grpo',
      `data.train_files=${o.dataset ?? 'data/train.parquet'}`,
      `actor_rollout_ref.model.path=${model(o, 'Qwen/Qwen2.5-VL-3B-Instruct')}`,
      'actor_rollout_ref.rollout.n=4', 'trainer.nnodes=1', 'trainer.n_gpus_per_node=${nproc}',
      "trainer.logger=['console']", 'trainer.default_local_dir=${output_dir}',
      'trainer.rollout_data_dir=${output_dir}/rollouts',
    ],
    rollouts: { path: '${output_dir}/rollouts', format: 'verl' },
    metrics: { stdout: true },
    resume: ['trainer.resume_mode=resume_path', 'trainer.resume_from_path=${checkpoint}'],
  };
}

/** EasyR1 (a verl fork): YAML config plus overrides; metrics in experiment_log.jsonl. */
export function easyR1Preset(o: PresetOptions = {}): RunProfile {
  return {
    ...common(o, 'easyr1-grpo', 'output/easyr1'),
    description: 'EasyR1 GRPO',
    command: [
      'python3', '-m', 'verl.trainer.main', 'config=examples/config.yaml',
      `data.train_files=${o.dataset ?? 'data/train.parquet'}`,
      `worker.actor.model.model_path=${model(o, 'Qwen/Qwen2.5-VL-3B-Instruct')}`,
      'trainer.n_gpus_per_node=${nproc}', 'trainer.save_checkpoint_path=${output_dir}',
    ],
    rollouts: { path: '${output_dir}/generations.log', format: 'easyr1' },
    metrics: { stdout: true, easyr1_log: '${output_dir}/experiment_log.jsonl' },
    resume: ['trainer.load_checkpoint_path=${checkpoint}'],
  };
}

/** SFT warm-up before GRPO: GRPO's `after` names this profile and starts from its output. */
export function sftWarmupPreset(o: PresetOptions = {}): RunProfile {
  return {
    ...common(o, 'sft-warmup', 'output/sft'),
    description: 'SFT warm-up (run before GRPO; GRPO starts from its output)',
    command: [
      'torchrun', '--nproc_per_node=${nproc}', '--nnodes', '1', '--master_port', '23457', 'sft.py',
      '--output_dir', '${output_dir}', '--model_name_or_path', model(o, 'Qwen/Qwen2.5-VL-3B-Instruct'),
      '--dataset_name', o.dataset ?? 'data/sft.json', '--per_device_train_batch_size', '1', '--bf16',
      '--gradient_checkpointing', 'true', '--learning_rate', '2e-5', '--num_train_epochs', '1',
      '--use_peft', 'true', '--lora_r', '8', '--lora_alpha', '16', '--freeze_vision_modules', 'true',
    ],
    metrics: { stdout: true, trainer_state: '${output_dir}' },
    resume: ['--resume_from_checkpoint', '${checkpoint}'],
  };
}

/** Soft-prompt tuning (PEFT prompt tuning) as a further stage on a trained model. */
export function softPromptPreset(o: PresetOptions = {}): RunProfile {
  return {
    ...common(o, 'soft-prompt', 'output/soft-prompt'),
    description: 'Soft-prompt tuning (PEFT prompt tuning)',
    command: [
      'accelerate', 'launch', '--num_processes', '${nproc}', 'soft_prompt.py',
      '--output_dir', '${output_dir}', '--model_name_or_path', model(o, 'Qwen/Qwen2.5-VL-3B-Instruct'),
      '--dataset_name', o.dataset ?? 'data/train.json', '--peft_type', 'PROMPT_TUNING',
      '--num_virtual_tokens', '20', '--learning_rate', '3e-2', '--bf16', 'true',
    ],
    metrics: { stdout: true, trainer_state: '${output_dir}' },
    resume: ['--resume_from_checkpoint', '${checkpoint}'],
  };
}

export interface ReplayPresetOptions {
  name?: string;
  /** The recorded run: a folder or a v1 rollouts file (e.g. the bundled sample). */
  recorded: string;
  /** How to start the CLI, e.g. [process.execPath, '<extension>/dist/cli.js']. */
  cli: string[];
  speed?: number;
  output_dir?: string;
}

/** Replays a finished run at its original pace: the demo's run on machines without a GPU. */
export function replayPreset(o: ReplayPresetOptions): RunProfile {
  const speed = String(o.speed ?? 1);
  return {
    name: o.name ?? 'replay',
    description: 'Replay a recorded run (no GPU needed)',
    command: [...o.cli, 'replay', o.recorded, '--speed', speed, '--out', '${output_dir}/rollouts.jsonl'],
    output_dir: o.output_dir ?? '.grpo-studio/replay',
    rollouts: { path: '${output_dir}/rollouts.jsonl', format: 'v1' },
    metrics: { stdout: true },
  };
}

/** Every preset with default options, for a quick pick. */
export function allPresets(cli: string[], recorded: string): RunProfile[] {
  return [
    sftWarmupPreset(),
    vlmR1GrpoPreset({ after: 'sft-warmup' }),
    trlGrpoPreset(),
    verlGrpoPreset(),
    easyR1Preset(),
    softPromptPreset({ after: 'vlm-r1-grpo' }),
    replayPreset({ cli, recorded }),
  ];
}
