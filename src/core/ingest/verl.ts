/**
 * verl `trainer.rollout_data_dir` (and `trainer.validation_data_dir`): `_dump_generations` in
 * verl/trainer/ppo/ray_trainer.py writes one `<global_step>.jsonl` per step, one row per
 * completion: `input`, `output`, `gts` (since 2025-08), `score`, `step`, then every
 * `reward_extra_info` list as its own key (`acc`, `pred`, …; `request_id` in older trainers).
 * No verl version writes a group id, and the training dump happens after `_balance_batch`
 * (`trainer.balance_batch`, on by default) reorders the batch across DP ranks, so a prompt's n
 * rollouts are scattered over the file. The group is therefore: within one step, the rows with
 * the identical `input` and `gts` (docs/formats.md#verl).
 */
import { createHash } from 'node:crypto';
import type { RolloutRecord } from '../schema/record';
import { jsonLines } from './text';
import { finiteNumber, isObj, stepValue, type RecordSink, type TextParser } from './types';

/** Keys `_dump_generations` writes itself; every other key is a reward function's extra info. */
const BASE = new Set(['input', 'output', 'gts', 'score', 'step']);

interface GroupTally {
  id: string;
  /** The prompt's start, to name the group in a note. */
  label: string;
  size: number;
  firstLine: number;
}

/** `fileStep`: the step named by the file (`12.jsonl`), used when a row has no `step`. */
export function verlParser(sink: RecordSink, fileStep?: number): TextParser {
  // Per step: the groups of this file by their (input, gts) key, in order of first appearance.
  const steps = new Map<string, Map<string, GroupTally>>();
  /** Groups of each step already checked and forgotten: new ids count on from there. */
  const idBase = new Map<string, number>();
  let file: string | undefined;
  let rows = 0;
  let rewardRows = 0;
  let unchecked = false;
  const told = new Set<string>();

  const note = (message: string, line?: number): void => {
    if (file === undefined || told.has(message)) return;
    told.add(message);
    sink.note?.(line === undefined ? { file, message } : { file, line, message });
  };

  // Group sizes can only be judged once the file is complete. verl writes a step's file in one
  // write, so the check runs when the file ends and, when following, once the writer went quiet
  // (the tailer calls `flush()` on a parser that is `holding`).
  const check = (): void => {
    if (!unchecked) return;
    unchecked = false;
    for (const [stepKey, groups] of steps) {
      noteSizes(stepKey, [...groups.values()], note);
      // verl writes a step's file in one go: once checked, its groups are forgotten (ids go on
      // counting), so a followed run does not keep every group of every step. A row appended
      // later with a prompt already seen starts a group of its own.
      idBase.set(stepKey, (idBase.get(stepKey) ?? 0) + groups.size);
    }
    steps.clear();
    // `_validate` adds `reward` (the summed token score) to the extra info it dumps; a training
    // dump has it only when a reward function returns a `reward` key itself.
    if (rows > 0 && rewardRows === rows) {
      note('every row has a numeric "reward" key besides "score", as `_validate` in verl writes: read as a validation dump (trainer.validation_data_dir), not a training batch');
    }
  };

  const parser = jsonLines(sink, (raw, loc) => {
    const bad = (error: string): void => sink.bad({ file: loc.file, line: loc.line, error });
    if (!isObj(raw)) return bad('a verl row must be a JSON object');
    if (typeof raw.output !== 'string') return bad(raw.output === undefined ? '"output" is missing' : '"output" must be a string');
    if (raw.input !== undefined && typeof raw.input !== 'string') return bad('"input" must be a string');
    if (raw.step !== undefined && stepValue(raw.step) === undefined) return bad('"step" must be a non-negative integer');
    if (raw.score !== undefined && raw.score !== null && finiteNumber(raw.score) === undefined) return bad('"score" must be a finite number');

    file = loc.file;
    const step = stepValue(raw.step) ?? fileStep;
    const rec: RolloutRecord = { v: 1, completion: raw.output };
    if (step !== undefined) rec.step = step;
    const input = typeof raw.input === 'string' ? raw.input : undefined;
    if (input !== undefined) rec.prompt = { text: input };
    const score = finiteNumber(raw.score);
    if (score !== undefined) rec.reward = score;

    // Keys come from the file (a reward function's dict): `__proto__` must stay data.
    const meta: Record<string, unknown> = Object.create(null);
    const gts = raw.gts;
    if (typeof gts === 'string') rec.solution = gts;
    else if (Array.isArray(gts) && gts.length > 0 && gts.every((g) => typeof g === 'string')) rec.possible_answers = gts as string[];
    else if (gts !== undefined && gts !== null) meta.gts = gts;
    // Extra info is per-completion facts (a bool `acc`, a string `pred`, a number, a list, a
    // dict), never reward components: `score` already is the total they would be added to.
    for (const [k, v] of Object.entries(raw)) if (!BASE.has(k)) meta[k] = v;

    rows++;
    if (finiteNumber(raw.reward) !== undefined) rewardRows++;
    unchecked = true;
    const stepKey = step === undefined ? '?' : String(step);
    let groups = steps.get(stepKey);
    if (!groups) steps.set(stepKey, (groups = new Map()));
    // A digest, not the text: the map lives as long as the file is followed, and a chat-templated
    // prompt is kilobytes per group.
    const key = createHash('sha1').update(JSON.stringify([input ?? null, gts ?? null])).digest('base64');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { id: `${stepKey}/${(idBase.get(stepKey) ?? 0) + groups.size}`, label: promptLabel(input), size: 0, firstLine: loc.line }));
    rec.group = g.id;
    rec.index = g.size++;
    if (Object.keys(meta).length) rec.meta = meta;
    sink.record(rec, { file: loc.file, line: loc.line, offset: loc.offset });
  });

  return {
    line: (text, loc) => parser.line(text, loc),
    flush: check,
    end: check,
    get holding() {
      return unchecked;
    },
  };
}

const MAX_NAMED = 10;

/** `(input "…")`, its start and end when long: a chat template's system turn opens it, its question or answer cue ends it. */
function promptLabel(input: string | undefined): string {
  if (input === undefined) return '(no input)';
  const head = input.slice(0, 256).replace(/\s+/g, ' ').trimStart();
  const flat = input.length <= 256 ? head.trimEnd() : null;
  const label = flat !== null && flat.length <= 64 ? flat : `${head.slice(0, 30)}…${input.slice(-256).replace(/\s+/g, ' ').trimEnd().slice(-30)}`;
  // A copy: slices of the prompt would keep the whole prompt alive as long as the group is known.
  return Buffer.from(`(input "${label}")`, 'utf8').toString('utf8');
}

/**
 * n (rollout.n) is not in the dump: take the step's most common group size, and name the
 * groups that disagree (a prompt twice in the batch, rows lost, a filtered group).
 */
function noteSizes(stepKey: string, groups: GroupTally[], note: (message: string, line?: number) => void): void {
  if (groups.length < 2) return;
  const bySize = new Map<number, number>();
  for (const g of groups) bySize.set(g.size, (bySize.get(g.size) ?? 0) + 1);
  if (bySize.size < 2) return;
  const ranked = [...bySize].sort((a, b) => b[1] - a[1] || b[0] - a[0]);
  const where = `step ${stepKey}`;
  if (ranked[0]![1] === ranked[1]![1]) {
    const sizes = ranked.map(([size, count]) => `${count} of size ${size}`).join(', ');
    note(`${where}: group sizes disagree and none is most common (${sizes} of ${groups.length} groups), so rollout.n cannot be told from the dump`, groups[0]!.firstLine);
    return;
  }
  const n = ranked[0]![0];
  const odd = groups.filter((g) => g.size !== n);
  const named = odd.slice(0, MAX_NAMED).map((g) => `${g.id} ${g.label} has ${g.size} (from line ${g.firstLine})`);
  const more = odd.length > MAX_NAMED ? `, and ${odd.length - MAX_NAMED} more` : '';
  note(
    `${where}: ${odd.length} of ${groups.length} groups disagree with n = ${n} (n is not in the dump: the most common group size of the step): ${named.join(', ')}${more}`,
    odd[0]!.firstLine,
  );
}
