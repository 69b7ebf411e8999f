/**
 * What comparing runs on shared charts needs, as pure functions (the Compare Runs webview and the
 * unit tests use them): the union of the runs' steps (the shared x axis: a run without a step has
 * a gap there, never a made-up value) and TensorBoard-style exponential smoothing.
 */

/** Every step that any run has, ascending, each once. */
export function sharedSteps(runs: readonly (readonly { step: number }[])[]): number[] {
  const all = new Set<number>();
  for (const run of runs) for (const s of run) all.add(s.step);
  return [...all].sort((a, b) => a - b);
}

/** One run's values on the shared steps: `null` where the run has no such step. */
export function onSharedSteps<T extends { step: number }>(steps: readonly number[], run: readonly T[], value: (s: T) => number | null): (number | null)[] {
  const byStep = new Map(run.map((s) => [s.step, s]));
  return steps.map((step) => {
    const s = byStep.get(step);
    const v = s === undefined ? null : value(s);
    return v !== null && Number.isFinite(v) ? v : null;
  });
}

/**
 * Exponential moving average with weight `w` in [0, 1): s_t = w·s_{t-1} + (1 − w)·x_t, divided by
 * (1 − w^k) after k values so the first points are not pulled towards 0 (TensorBoard's debiased
 * smoothing). Gaps (`null`) stay gaps and do not count; `w` = 0 returns the values unchanged.
 */
export function emaSmooth(values: readonly (number | null)[], w: number): (number | null)[] {
  if (!(w > 0)) return [...values];
  const weight = Math.min(w, 0.999);
  let acc = 0;
  let k = 0;
  return values.map((x) => {
    if (x === null) return null;
    acc = weight * acc + (1 - weight) * x;
    k++;
    return acc / (1 - weight ** k);
  });
}
