/**
 * ms-swift `log_completions`: `output_dir/completions.jsonl`, appended by `JsonlWriter`. The GRPO
 * trainer's `log()` writes one columnar table per logging step, `{"step": ["12", …], "prompt":
 * […], "completion": […], <one column per reward function>, "advantages": […], <extras:
 * entropy, solution, num_turns>}`, from deques that hold its latest generation batch; Megatron
 * GRPO writes the same with `gen_step`; Ray Megatron writes one row per line (`gen_step`,
 * `prompt`, `completion`, `reward`). Python's json writes NaN for a reward function that returned
 * None. Images are never logged. args.json (saved beside it) gives num_generations and
 * reward_weights. See docs/formats.md#ms-swift.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RolloutRecord } from '../schema/record';
import { groupSizing, type SizeCandidate } from './swiftGroups';
import { jsonLines } from './text';
import { finiteNumber, isObj, type AdapterOptions, type LineLocation, type RecordSink, type TextParser } from './types';

export interface SwiftConfig {
  path: string;
  numGenerations?: number;
  numGenerationsEval?: number;
  /** Aligned with the reward columns; ones when args.json names reward_funcs but no weights. */
  rewardWeights?: number[];
}

const posInt = (x: unknown): number | undefined => (typeof x === 'number' && Number.isInteger(x) && x >= 1 ? x : undefined);

/** args.json beside `file` (ms-swift's `save_args`), or undefined. Read once per parser: small, and the tailer needs it synchronously. */
export function readSwiftConfig(file: string): SwiftConfig | undefined {
  const path = join(dirname(file), 'args.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isObj(raw)) return undefined;
  const cfg: SwiftConfig = { path, numGenerations: posInt(raw.num_generations), numGenerationsEval: posInt(raw.num_generations_eval) };
  const w = raw.reward_weights;
  // The total is Σ weight·reward (nansum), less beta·KL when kl_in_reward: then no total is derived.
  const klInReward = raw.kl_in_reward === true && raw.beta !== 0;
  if (!klInReward && Array.isArray(w) && w.every((x) => typeof x === 'number' && Number.isFinite(x))) cfg.rewardWeights = w as number[];
  else if (!klInReward && (w === null || w === undefined) && Array.isArray(raw.reward_funcs)) cfg.rewardWeights = raw.reward_funcs.map(() => 1);
  return cfg;
}

/** JSON as Python's `json.dumps` writes it: bare NaN / Infinity / -Infinity become null. */
export function pythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!/NaN|Infinity/.test(text)) throw e;
    let out = '';
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (inString) {
        out += c;
        if (c === '\\') out += text[++i] ?? '';
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      const word = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
      if (!inString && word) {
        out += 'null';
        i += word[0].length - 1;
      } else out += c;
    }
    try {
      return JSON.parse(out);
    } catch {
      throw e;
    }
  }
}

/** Columns of a table that are not reward functions, whatever their place. */
const NOT_REWARD = new Set(['step', 'gen_step', 'prompt', 'messages', 'completion', 'advantages', 'reward', 'entropy', 'num_turns', 'solution']);

const isScore = (v: unknown): boolean => v === null || typeof v === 'number';

/**
 * The reward columns of a table, by the order `log()` builds it: after `completion`, before
 * `advantages` (`**self._logs['rewards']`); older tables without advantages end with them.
 */
export function rewardColumns(keys: readonly string[], table: Record<string, unknown[]>): string[] {
  const start = keys.indexOf('completion') + 1;
  const end = keys.includes('advantages') ? keys.indexOf('advantages') : keys.length;
  return keys.slice(start, end).filter((k) => !NOT_REWARD.has(k) && table[k]!.every(isScore));
}

function stepOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : finiteNumber(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Prompt text of a cell: the chat-templated string, or (ms-swift 3.2's `messages`) the messages' contents. */
function promptText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return undefined;
  return v.map((m) => (isObj(m) && typeof m.content === 'string' ? m.content : '')).join('\n');
}

export function swiftParser(sink: RecordSink, opts: AdapterOptions = {}, config?: SwiftConfig): TextParser {
  const groupsOfStep = new Map<number | undefined, number>();
  let lastTable: { line: number; hash: string } | undefined;
  // Row form (Ray): the open group, continued while the step and prompt stay the same.
  let open: { step: number | undefined; prompt: unknown; id: string; count: number } | undefined;

  const note = (loc: LineLocation, message: string): void => sink.note?.({ file: loc.file, line: loc.line, message });
  const nextGroup = (step: number | undefined): string => {
    const k = groupsOfStep.get(step) ?? 0;
    groupsOfStep.set(step, k + 1);
    return `${step ?? '?'}/${k}`;
  };
  const given = (stepSeen: boolean): SizeCandidate[] => {
    if (opts.numGenerations !== undefined) return [{ size: opts.numGenerations, from: 'option' }];
    const train = config?.numGenerations !== undefined ? [{ size: config.numGenerations, from: 'args.json' }] : [];
    const ev = config?.numGenerationsEval !== undefined && config.numGenerationsEval !== config.numGenerations ? [{ size: config.numGenerationsEval, from: 'args.json (eval)' }] : [];
    // A second table for a step is most likely an eval pass (logged through the same deques).
    return stepSeen ? [...ev, ...train] : [...train, ...ev];
  };

  const table = (raw: Record<string, unknown>, loc: LineLocation): void => {
    const keys = Object.keys(raw);
    const bad = (error: string): void => sink.bad({ file: loc.file, line: loc.line, error });
    const notList = keys.find((k) => !Array.isArray(raw[k]));
    if (notList !== undefined) return bad(`"${notList}" is not a list: an ms-swift table line holds one list per column`);
    const cols = raw as Record<string, unknown[]>;
    const rows = cols.completion!.length;
    const rewards = rewardColumns(keys, cols);
    const core = ['step', 'gen_step', 'prompt', 'messages', 'advantages', 'reward', ...rewards].filter((k) => k in cols);
    const ragged = core.filter((k) => cols[k]!.length !== rows);
    if (ragged.length) return bad(`ragged table: "completion" has ${rows} rows, ${ragged.map((k) => `"${k}" ${cols[k]!.length}`).join(', ')}`);
    const extras = keys.filter((k) => k !== 'completion' && !core.includes(k));
    const short = extras.filter((k) => cols[k]!.length !== rows);
    if (short.length) note(loc, `${short.map((k) => `"${k}" has ${cols[k]!.length} values for ${rows} rows`).join(', ')}: not aligned with the rows, left out`);

    const stepCol = cols.step ?? cols.gen_step;
    const steps = stepCol ? stepCol.map(stepOf) : [];
    if (stepCol && steps.some((s) => s === undefined)) return bad(`"${cols.step ? 'step' : 'gen_step'}" holds a value that is not a non-negative integer`);
    const step = steps[0];
    const promptCol = cols.prompt ?? cols.messages ?? [];
    const prompts = Array.from({ length: rows }, (_, i) => (typeof promptCol[i] === 'string' ? (promptCol[i] as string) : JSON.stringify(promptCol[i] ?? null)));
    const adv = cols.advantages?.map((a) => (typeof a === 'number' ? a : NaN));

    const hash = JSON.stringify([cols.completion, promptCol]);
    const repeat = lastTable && lastTable.hash === hash ? lastTable.line : undefined;
    lastTable = { line: loc.line, hash };
    const stepSeen = groupsOfStep.has(step);
    if (repeat !== undefined) note(loc, `the same rows as line ${repeat}, under step ${step ?? '?'}: ms-swift logs its latest generation batch at every logging step, and none was generated in between`);
    else if (stepSeen) note(loc, `a second table for step ${step}: most likely an evaluation pass (ms-swift logs eval rollouts into the same table, with no mode column)`);
    const sizing = groupSizing(prompts, adv, given(stepSeen));
    if (sizing.note) note(loc, sizing.note);

    const weights = config?.rewardWeights?.length === rewards.length ? config.rewardWeights : undefined;
    let group = '';
    for (let i = 0; i < rows; i++) {
      const startsGroup = sizing.size > 0 ? i % sizing.size === 0 : i === 0 || prompts[i] !== prompts[i - 1];
      if (startsGroup) group = nextGroup(step);
      const completion = cols.completion![i];
      if (typeof completion !== 'string') {
        bad(`row ${i}: "completion" is not text`);
        continue;
      }
      const rec: RolloutRecord = { v: 1, completion, group, index: sizing.size > 0 ? i % sizing.size : countBack(prompts, i) };
      if (steps[i] !== undefined) rec.step = steps[i];
      const text = promptText(promptCol[i]);
      if (text !== undefined) rec.prompt = { text };
      const meta: Record<string, unknown> = Object.create(null);
      meta.row = i;
      if (cols.messages) meta.messages = cols.messages[i];
      const missing: string[] = [];
      let total = 0;
      let scored = false;
      rewards.forEach((name, j) => {
        const v = cols[name]![i];
        if (typeof v !== 'number') return void missing.push(name);
        (rec.rewards ??= Object.create(null) as Record<string, number>)[name] = v;
        total += v * (weights?.[j] ?? 1);
        scored = true;
      });
      if (missing.length) meta.rewards_missing = missing;
      // ms-swift 3.2 logged the total itself; later tables leave it to Σ reward_weights·reward.
      const logged = cols.reward ? finiteNumber(cols.reward[i]) : undefined;
      if (logged !== undefined) rec.reward = logged;
      else if (weights && scored) rec.reward = total;
      const a = adv?.[i];
      if (a !== undefined && Number.isFinite(a)) rec.advantage = a;
      for (const k of extras) {
        if (short.includes(k)) continue;
        const v = cols[k]![i];
        if (k === 'solution' && typeof v === 'string') rec.solution = v;
        else if (v !== null) meta[k] = v;
      }
      if (sizing.size > 0) meta.num_generations = sizing.size;
      meta.num_generations_from = sizing.from;
      if (repeat !== undefined) meta.repeat_of_line = repeat;
      rec.meta = meta;
      sink.record(rec, { file: loc.file, line: loc.line, offset: loc.offset });
    }
  };

  // Ray Megatron: one row per line, the rollout batch in sampler order.
  const row = (raw: Record<string, unknown>, loc: LineLocation): void => {
    const step = raw.gen_step === undefined ? undefined : stepOf(raw.gen_step);
    if (raw.gen_step !== undefined && step === undefined) return sink.bad({ file: loc.file, line: loc.line, error: '"gen_step" must be a non-negative integer' });
    const n = opts.numGenerations ?? config?.numGenerations;
    if (!open || open.step !== step || open.prompt !== raw.prompt || (n !== undefined && open.count === n)) {
      open = { step, prompt: raw.prompt, id: nextGroup(step), count: 0 };
    }
    const rec: RolloutRecord = { v: 1, completion: raw.completion as string, group: open.id, index: open.count++ };
    if (step !== undefined) rec.step = step;
    const text = promptText(raw.prompt);
    if (text !== undefined) rec.prompt = { text };
    const reward = finiteNumber(raw.reward);
    if (reward !== undefined) rec.reward = reward;
    const meta: Record<string, unknown> = Object.create(null);
    for (const [k, v] of Object.entries(raw)) if (!['gen_step', 'prompt', 'completion', 'reward'].includes(k)) meta[k] = v;
    if (raw.reward === null) meta.reward_missing = true; // NaN: a reward function returned None
    meta.num_generations_from = n === undefined ? 'prompt runs' : opts.numGenerations !== undefined ? 'option' : 'args.json';
    rec.meta = meta;
    sink.record(rec, { file: loc.file, line: loc.line, offset: loc.offset });
  };

  return jsonLines(
    sink,
    (raw, loc) => {
      if (!isObj(raw)) return sink.bad({ file: loc.file, line: loc.line, error: 'an ms-swift completions line must be a JSON object' });
      if (Array.isArray(raw.completion)) return table(raw, loc);
      if (typeof raw.completion === 'string') return row(raw, loc);
      sink.bad({ file: loc.file, line: loc.line, error: raw.completion === undefined ? '"completion" is missing' : '"completion" must be a list (a table) or text (a row)' });
    },
    pythonJson,
  );
}

/** Index within a run of identical consecutive prompts. */
function countBack(prompts: readonly string[], i: number): number {
  let k = 0;
  while (i - k - 1 >= 0 && prompts[i - k - 1] === prompts[i]) k++;
  return k;
}
