/**
 * Seeded random v1 lines for the index and query tests: every layout the fast scanner must get
 * right or hand to the full parse (shuffled keys, whitespace, escapes, \u-escaped text, segment
 * completions, numbers in every JSON form, unknown nested fields, CRLF, blank lines), plus
 * broken lines of the kinds both paths must reject.
 */
import { seededRandom } from '../../bench/generate';
import { GroupKeys } from '../../src/core/rollouts/groups';
import { completionText, type RolloutRecord } from '../../src/core/schema/record';

export { seededRandom };

const WORDS = ['the', 'motorcyclist', 'left', 'of', 'car', 'café', '東京', 'dog', '🙂', 'a"quote', 'back\\slash', 'tab\there', '<b>', 'x&y', 'zero'];

export function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

function words(rnd: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(pick(rnd, WORDS));
  return out.join(pick(rnd, [' ', ' ', '\n', '  ']));
}

/** JSON text of `v` in one of the ways writers encode it. */
function encode(rnd: () => number, v: unknown, style: number): string {
  let s = style === 2 ? JSON.stringify(v, null, 1).replace(/\n/g, ' ') : JSON.stringify(v);
  if (style === 1) s = s.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (style === 3) s = s.replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return s;
}

const NUMBER_FORMS = [(x: number) => String(x), (x: number) => x.toExponential(), (x: number) => x.toFixed(20).replace(/0+$/, '0')];

function completion(rnd: () => number): RolloutRecord['completion'] {
  const r = rnd();
  const body = words(rnd, 1 + Math.floor(rnd() * 8));
  if (r < 0.08) return [{ type: 'text', text: `<think>${body}</think>` }, { type: 'image', path: 'a.png' }, { type: 'text', text: '<answer>A</answer>' }];
  if (r < 0.5) return `<think>${body}</think>${pick(rnd, ['', ' ', '\n', '\u00a0', '\t\n'])}<answer>${pick(rnd, ['A', 'B', body])}</answer>${pick(rnd, ['', ' ', '\n', ' x', '\u2028'])}`;
  if (r < 0.6) return `<think>${body}</think> junk </think>\n<answer>B</answer>`;
  if (r < 0.7) return `\u00a0<think>${body}</think><answer>C</answer>`;
  return body;
}

export interface RandomLine {
  text: string;
  /** 'bad': both paths reject it; 'deep': the fast path indexes it, reading it back fails. */
  kind: 'good' | 'bad' | 'deep' | 'blank';
}

/** One random line (no newline). */
export function randomLine(rnd: () => number, n: number): RandomLine {
  const r = rnd();
  if (r < 0.02) return { text: pick(rnd, ['', '   ', '\t', '\r']), kind: 'blank' };
  if (r < 0.05) {
    const bad = pick(rnd, ['{"completion":"cut', 'not json', '[1,2]', '{"completion":5}', '{"step":"3","completion":"a"}', '{"completion":"a","rewards":{"x":null}}',
      '{"completion":"a","reward":"1"}', '{"completion":"a","step":-1}', '{"completion":"a","step":1.5}', '{"completion":"a"} trailing', '{}', '{"v":2,"completion":"a"}',
      '{"completion":"a","box_frame":"pixels"}', '{"completion":"a","gt_boxes":{}}', '{"completion":"a","index":1e400}']);
    return { text: bad, kind: 'bad' };
  }
  if (r < 0.06) return { text: '{"group":"d",' + pick(rnd, ['"completion":"a","gt_boxes":[{"label":"x","box":[1,2,3]}]}', '"completion":"a","image_size":[0,5]}', '"completion":"a","solution":"bad \\x escape"}']), kind: 'deep' };
  const step = Math.floor(n / 20);
  const fields: [string, unknown][] = [];
  const maybe = (p: number, k: string, v: unknown): void => {
    if (rnd() < p) fields.push([k, v]);
  };
  maybe(0.9, 'v', 1);
  maybe(0.5, 'run', 'r');
  maybe(0.9, 'step', step);
  const g = rnd();
  if (g < 0.75) fields.push(['group', `${step}/${Math.floor((n % 20) / 4)}`]);
  else if (g < 0.8) fields.push(['group', Math.floor(n / 4)]);
  maybe(0.8, 'index', n % 4);
  const promptText = `q${Math.floor(n / 4)} ${words(rnd, 2)}`;
  maybe(0.9, 'prompt', rnd() < 0.15 ? promptText : { text: promptText, images: [`i${n % 3}.png`] });
  fields.push(['completion', completion(rnd)]);
  maybe(0.5, 'solution', rnd() < 0.1 ? null : `<answer>${pick(rnd, ['A', 'B'])}</answer>`);
  maybe(0.2, 'gt_boxes', [{ label: 'car', box: [1, 2, 30, 40] }]);
  maybe(0.2, 'box_frame', pick(rnd, ['abs', 'rel1000']));
  maybe(0.2, 'image_size', [640, 480]);
  const names = ['accuracy', 'format', 'bbox', '7', 'iou.v2'].filter(() => rnd() < 0.6);
  const rewards: Record<string, number> = {};
  for (const k of names) rewards[k] = Math.round((rnd() * 3 - 1) * 1e4) / 1e4;
  if (names.length || rnd() < 0.1) fields.push(['rewards', rewards]);
  maybe(0.6, 'reward', Math.round(rnd() * 3e5) / 1e5);
  maybe(0.6, 'advantage', (rnd() - 0.5) * 4);
  maybe(0.3, 'meta', { nested: [{ a: '}' }, '{', [[]]], t: 1.5 });
  maybe(0.1, 'extra_field', { deep: { deeper: ['x', 1, true, null] } });
  for (let i = fields.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  const style = Math.floor(rnd() * 4);
  const sep = pick(rnd, [',', ', ', ' ,\t']);
  const colon = pick(rnd, [':', ': ', ' : ']);
  const parts = fields.map(([k, v]) => {
    const key = rnd() < 0.02 ? JSON.stringify(k).replace(/^"(.)/, (_, c: string) => `"\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : JSON.stringify(k);
    const value = typeof v === 'number' && rnd() < 0.3 ? pick(rnd, NUMBER_FORMS)(v) : encode(rnd, v, style);
    return `${key}${colon}${value}`;
  });
  const line = `${pick(rnd, ['', ' '])}{${pick(rnd, ['', ' '])}${parts.join(sep)}${pick(rnd, ['', ' '])}}${pick(rnd, ['', ' ', '\r'])}`;
  return { text: line, kind: 'good' };
}

/** `count` random lines joined with "\n" (a final newline or not). */
export function randomFile(seed: number, count: number): { text: string; lines: RandomLine[] } {
  const rnd = seededRandom(seed);
  const lines: RandomLine[] = [];
  for (let n = 0; n < count; n++) lines.push(randomLine(rnd, n));
  return { text: lines.map((l) => l.text).join('\n') + (rnd() < 0.5 ? '\n' : ''), lines };
}

/** What the index should hold for each record, computed from the full parse. */
export interface ExpectedRow {
  record: RolloutRecord;
  line: number;
  offset: number;
  step: number;
  group: string;
  index: number;
  total: number;
  advantage: number;
  length: number;
  rewards: Record<string, number>;
}

export function expectedRows(items: { record: RolloutRecord; loc: { line: number; offset: number } }[]): ExpectedRow[] {
  const keys = new GroupKeys();
  return items.map(({ record, loc }) => {
    const names = Object.keys(record.rewards ?? {}).sort();
    const sum = names.reduce((s, k) => s + record.rewards![k]!, 0);
    return {
      record,
      line: loc.line,
      offset: loc.offset,
      step: record.step ?? -1,
      group: keys.keyOf(record),
      index: record.index ?? -1,
      total: record.reward ?? (names.length ? sum : NaN),
      advantage: record.advantage ?? NaN,
      length: Buffer.byteLength(completionText(record)),
      rewards: record.rewards ?? {},
    };
  });
}
