/**
 * EasyR1: `generations.log` holds `[prompt] …` / `[output] …` / `[ground_truth] …` / `[score] …`
 * blocks (a blank line after each; forks add `[raw_response]` and a "=====\nStep N\n=====" banner
 * before each call), and `experiment_log.jsonl` one metrics object per step,
 * `{"step": N, "actor": {"kl_loss": …}, …}` (nested keys are the "/"-split metric names).
 */
import type { RolloutRecord } from '../schema/record';
import { blockParser, fieldOf, type Block } from './blocks';
import { jsonLines } from './text';
import { finiteNumber, isObj, stepValue, type RecordSink, type TextParser } from './types';

const TAG = /^\[(prompt|output|response|raw_response|ground_truth|score|data_source)\] ?(.*)$/;
const RULE = /^={10,}\s*$/;
const STEP = /^Step (\d+):?\s*$/;

export function easyr1GenerationsParser(sink: RecordSink): TextParser {
  let step: number | undefined;
  let afterRule = false;

  const emit = (b: Block<null>): void => {
    const bad = (error: string): void => sink.bad({ file: b.start.file, line: b.start.line, error });
    const output = fieldOf(b, 'output', 'response');
    if (output === undefined) return bad('block has no [output]');
    const rec: RolloutRecord = { v: 1, completion: output };
    if (step !== undefined) rec.step = step;
    const prompt = fieldOf(b, 'prompt');
    if (prompt !== undefined) rec.prompt = { text: prompt };
    const gt = fieldOf(b, 'ground_truth');
    if (gt !== undefined) rec.solution = gt;
    const scoreText = fieldOf(b, 'score');
    if (scoreText !== undefined) {
      const score = Number(scoreText.trim());
      if (scoreText.trim() === '' || !Number.isFinite(score)) return bad(`[score] is not a number: ${JSON.stringify(scoreText.slice(0, 40))}`);
      rec.reward = score;
    }
    const meta: Record<string, unknown> = {};
    for (const f of b.fields) if (!['prompt', 'output', 'response', 'ground_truth', 'score'].includes(f.key)) meta[f.key] = f.value;
    if (Object.keys(meta).length) rec.meta = meta;
    sink.record(rec, { file: b.start.file, line: b.start.line, offset: b.start.offset, endLine: b.endLine });
  };

  const blocks = blockParser<null>(
    {
      opens: (text) => {
        const m = TAG.exec(text);
        return m && m[1] === 'prompt' ? { header: null, field: { key: 'prompt', rest: m[2]! } } : null;
      },
      field: (text) => {
        const m = TAG.exec(text);
        return m ? { key: m[1]!, rest: m[2]! } : null;
      },
      ignorable: (text) => RULE.test(text),
      trailer: RULE,
    },
    sink,
    emit,
  );

  return {
    get holding() {
      return blocks.holding;
    },
    line(text, loc) {
      const m = afterRule ? STEP.exec(text) : null;
      afterRule = RULE.test(text);
      if (m) {
        blocks.flush(); // the banner ends the previous call's last block
        step = Number(m[1]);
        return;
      }
      blocks.line(text, loc);
    },
    flush: () => blocks.flush(),
    end: () => blocks.end(),
  };
}

/** `experiment_log.jsonl`: every numeric leaf becomes a metric named by its "/"-joined path. */
export function easyr1MetricsParser(sink: RecordSink): TextParser {
  return jsonLines(sink, (raw, loc) => {
    if (!isObj(raw)) return sink.bad({ file: loc.file, line: loc.line, error: 'a metrics line must be a JSON object' });
    const step = stepValue(raw.step);
    if (step === undefined) return sink.bad({ file: loc.file, line: loc.line, error: '"step" is missing or not a non-negative integer' });
    const walk = (obj: Record<string, unknown>, prefix: string): void => {
      for (const [k, v] of Object.entries(obj)) {
        if (prefix === '' && k === 'step') continue;
        const name = prefix ? `${prefix}/${k}` : k;
        const n = typeof v === 'boolean' ? undefined : finiteNumber(v);
        if (n !== undefined) sink.metric?.({ step, name, value: n });
        else if (isObj(v)) walk(v, name);
      }
    };
    walk(raw, '');
  });
}
