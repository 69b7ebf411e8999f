/**
 * The construction behind test/fixtures/trainers/metrics/ (make_metrics.py), recomputed here so
 * tests check the parsed metrics against what the run logged, not against our own output.
 * GRPO, 12 steps, logging_steps 2: a log at step s averages the raw values of steps s-1 and s.
 */
export const MAX_STEPS = 12;
export const LOG_STEPS = [2, 4, 6, 8, 10, 12];
/** Evaluation (3 batches of 1.2 s) runs after the log of these steps and logs its own dict. */
export const EVAL_STEPS = [6, 12];

/** TRL's GRPO metric names, in the order GRPOTrainer appends them (then epoch, from Trainer.log). */
export const TRL_NAMES = [
  'num_tokens', 'completions/mean_length', 'completions/min_length', 'completions/max_length', 'completions/clipped_ratio',
  'rewards/accuracy_reward/mean', 'rewards/accuracy_reward/std', 'rewards/format_reward/mean', 'rewards/format_reward/std',
  'reward', 'reward_std', 'frac_reward_zero_std', 'kl', 'entropy',
  'clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean', 'clip_ratio/low_min', 'clip_ratio/high_max',
];

function raw(s: number): Record<string, number> {
  const fmtNan = s === 3 || s === 9 || s === 10;
  return {
    'loss': 0.01 * s + 0.001,
    'grad_norm': s === 4 ? NaN : 0.5 + 0.1 * s,
    'learning_rate': (1e-5 * (MAX_STEPS - s)) / MAX_STEPS,
    'num_tokens': 1000 * s,
    'completions/mean_length': 100 + 10 * s + 0.25,
    'completions/min_length': 20 + s,
    'completions/max_length': 200 + s,
    'completions/clipped_ratio': 0.125 * (s % 3),
    'rewards/accuracy_reward/mean': s / 7,
    'rewards/accuracy_reward/std': 0.3 + 0.01 * s,
    'rewards/format_reward/mean': fmtNan ? NaN : 0.9 - 0.05 * s,
    'rewards/format_reward/std': fmtNan ? NaN : 0.1,
    'reward': 1 + s / 7,
    'reward_std': 0.2 + 0.001 * s,
    'frac_reward_zero_std': 0.25 * (s % 2),
    'kl': s === 2 ? Infinity : 0.001 * s * s,
    'entropy': 1.5 - 0.1 * s,
    'clip_ratio/low_mean': 0,
    'clip_ratio/high_mean': 0.01 * s,
    'clip_ratio/region_mean': 0.01 * s + 0.005,
    'clip_ratio/low_min': 0,
    'clip_ratio/high_max': 0.02 * s,
  };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * What the log at step s holds, as raw floats (a Map: name -> value). A key whose window had no
 * valid value is absent (TRL logs None). The final summary log is `SUMMARY`, also at step 12.
 */
export function logAt(s: number): Map<string, number> {
  const w = [raw(s - 1), raw(s)];
  const out = new Map<string, number>([
    ['loss', (w[0]!.loss! + w[1]!.loss!) / 2],
    ['grad_norm', w[1]!.grad_norm!],
    ['learning_rate', w[1]!.learning_rate!],
  ]);
  for (const k of TRL_NAMES) {
    const vals = k === 'num_tokens' ? [w[1]![k]!] : w.map((r) => r[k]!).filter((v) => !Number.isNaN(v));
    if (vals.length) out.set(k, vals.reduce((a, b) => a + b, 0) / vals.length);
  }
  out.set('epoch', s / MAX_STEPS);
  return out;
}

/** The eval log at step s: Trainer.evaluate's metrics (speed_metrics rounding), TRL's eval_ keys, epoch. */
export function evalAt(s: number): Map<string, number> {
  const runtime = 3 * 1.2;
  return new Map([
    ['eval_loss', 0.05 + 0.001 * s],
    ['eval_runtime', round(runtime, 4)],
    ['eval_samples_per_second', round(16 / runtime, 3)],
    ['eval_steps_per_second', round(3 / runtime, 3)],
    ['eval_reward', 0.5 + s / 100],
    ['eval_reward_std', 0.25],
    ['epoch', s / MAX_STEPS],
  ]);
}

const runtime = MAX_STEPS * 10.2 + EVAL_STEPS.length * 3 * 1.2 + 1.5;
export const SUMMARY = new Map<string, number>([
  ['train_runtime', round(runtime, 4)],
  ['train_samples_per_second', round((8 * MAX_STEPS) / runtime, 3)],
  ['train_steps_per_second', round(MAX_STEPS / runtime, 3)],
  ['train_loss', Array.from({ length: MAX_STEPS }, (_, i) => raw(i + 1).loss!).reduce((a, b) => a + b, 0) / MAX_STEPS],
  ['epoch', 1],
]);

/**
 * Python's f"{v:.4g}" read back as a number: 4 significant digits, an exact tie rounded to even
 * (Python) where toPrecision rounds it up (115.25 -> '115.2', not 115.3). nan / inf unchanged.
 */
export function g4(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const [mant, exp] = Math.abs(v).toExponential(99).split('e') as [string, string];
  const digits = mant.replace('.', '');
  if (digits[4] !== '5' || !/^0*$/.test(digits.slice(5))) return Number(v.toPrecision(4));
  const n = Number(digits.slice(0, 4));
  return Math.sign(v) * Number(`${n % 2 === 0 ? n : n + 1}e${Number(exp) - 3}`);
}

/** Every (step, name, value) the run's stdout logs, in order, with `form` applied to each value. */
export function expectedLog(form: (v: number, name: string) => number): { step: number; name: string; value: number }[] {
  const out: { step: number; name: string; value: number }[] = [];
  for (const s of LOG_STEPS) {
    for (const [name, v] of logAt(s)) out.push({ step: s, name, value: form(v, name) });
    if (EVAL_STEPS.includes(s)) for (const [name, v] of evalAt(s)) out.push({ step: s, name, value: form(v, name) });
  }
  for (const [name, v] of SUMMARY) out.push({ step: MAX_STEPS, name, value: form(v, name) });
  return out;
}
