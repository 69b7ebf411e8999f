/**
 * verl `trainer.rollout_data_dir`: one `<step>.jsonl` per step, rows with `input`, `output`,
 * `gts`, `score`, `step`. Older trainers add the reward function's extra keys and `request_id`;
 * newer ones add `uid` = "<sample>_<rollout>_<output>". The group is the uid's sample part
 * (a uid of another shape is used whole), else a run of consecutive rows with the same input.
 */
import type { RolloutRecord } from '../schema/record';
import { jsonLines } from './text';
import { finiteNumber, isObj, stepValue, type RecordSink, type TextParser } from './types';

const UID = /^(.+)_(\d+)_(\d+)$/;

/** `fileStep`: the step named by the file (`12.jsonl`), used when a row has no `step`. */
export function verlParser(sink: RecordSink, fileStep?: number): TextParser {
  let lastInput: string | null = null;
  let run = -1;
  const counts = new Map<string, number>();

  return jsonLines(sink, (raw, loc) => {
    const bad = (error: string): void => sink.bad({ file: loc.file, line: loc.line, error });
    if (!isObj(raw)) return bad('a verl row must be a JSON object');
    if (typeof raw.output !== 'string') return bad(raw.output === undefined ? '"output" is missing' : '"output" must be a string');
    if (raw.input !== undefined && typeof raw.input !== 'string') return bad('"input" must be a string');
    if (raw.step !== undefined && stepValue(raw.step) === undefined) return bad('"step" must be a non-negative integer');
    if (raw.score !== undefined && raw.score !== null && finiteNumber(raw.score) === undefined) return bad('"score" must be a finite number');

    const step = stepValue(raw.step) ?? fileStep;
    const rec: RolloutRecord = { v: 1, completion: raw.output };
    if (step !== undefined) rec.step = step;
    const input = typeof raw.input === 'string' ? raw.input : undefined;
    if (input !== undefined) rec.prompt = { text: input };
    const score = finiteNumber(raw.score);
    if (score !== undefined) rec.reward = score;

    const meta: Record<string, unknown> = {};
    const gts = raw.gts;
    if (typeof gts === 'string') rec.solution = gts;
    else if (Array.isArray(gts) && gts.length > 0 && gts.every((g) => typeof g === 'string')) rec.possible_answers = gts as string[];
    else if (gts !== undefined && gts !== null) meta.gts = gts;

    for (const [k, v] of Object.entries(raw)) {
      if (k === 'input' || k === 'output' || k === 'gts' || k === 'score' || k === 'step') continue;
      // Reward extras are numbers (acc, format, …); anything else (request_id, uid, pred) is kept as is.
      const n = typeof v === 'boolean' ? undefined : finiteNumber(v);
      if (n !== undefined) (rec.rewards ??= {})[k] = n;
      else meta[k] = v;
    }

    const stepKey = step === undefined ? '?' : String(step);
    let group: string;
    const uid = raw.uid;
    if (typeof uid === 'string' || typeof uid === 'number') {
      const m = UID.exec(String(uid));
      group = `${stepKey}/${m ? m[1] : uid}`;
      if (m) {
        meta.rollout = Number(m[2]);
        meta.output = Number(m[3]);
      }
    } else {
      if ((input ?? null) !== lastInput || run < 0) {
        run++;
        lastInput = input ?? null;
      }
      group = `${stepKey}/${run}`;
    }
    rec.group = group;
    const index = counts.get(group) ?? 0;
    counts.set(group, index + 1);
    rec.index = index;
    if (Object.keys(meta).length) rec.meta = meta;
    sink.record(rec, { file: loc.file, line: loc.line, offset: loc.offset });
  });
}
