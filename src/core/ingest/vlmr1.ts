/**
 * VLM-R1 debug log (`DEBUG_MODE=true`, `LOG_PATH=…`): every rank appends blocks to one file,
 * with no step and no group. A block opens with
 *   `------------- 05-14-03-27-123456 Accuracy reward: 1.0 -------------`
 * (a `%d-%H-%M-%S-%f` timestamp taken once per reward call), then fields, in the upstream
 * spelling (`image_path:`, `problem:`, `Content:`, `Solution:`) or the seed's (`Image Path:`,
 * `Problem:`, `Completion:`, `Possible Answers:`, `Golden: … Predicted: …`). The format reward
 * writes `<log>_format.txt` with `Format reward` blocks of `Content:` / `Has format:` pairs,
 * joined here by completion text.
 *
 * Steps are inferred (meta.step_inferred): one timestamp is one reward call on one rank; calls
 * within `stepGapMs` of a step's calls belong to that step (ranks call at nearly the same time),
 * a call later than that opens the next step. Group = step + identical problem and image.
 */
import type { RolloutRecord } from '../schema/record';
import { blockParser, type Block } from './blocks';
import type { AdapterOptions, RecordSink, TextParser } from './types';

const HEADER = /^-{3,}\s*(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{6})\s+(.*?)\s*-{3,}\s*$/;
const FIELD = /^(image[ _]path|problem|content|completion|solution|possible[ _]answers|golden|predicted|has[ _]format):\s?(.*)$/i;
const DAY_US = 86_400e6;

export interface VlmHeader {
  stamp: string;
  /** Microseconds since the start of the month named by the day field. */
  time: number;
  /** "Accuracy reward: 1.0" → name accuracy, value 1; "Format reward" → name format. */
  name: string;
  value?: number;
  raw: string;
}

export function parseHeader(text: string): VlmHeader | null {
  const m = HEADER.exec(text);
  if (!m) return null;
  const [d, h, mi, s, us] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const time = (((d * 24 + h) * 60 + mi) * 60 + s) * 1e6 + us;
  const label = m[6]!;
  const colon = label.lastIndexOf(':');
  const title = (colon >= 0 ? label.slice(0, colon) : label).trim();
  const sub = /^(\w+) reward of (\w+)$/i.exec(title) ?? /^(\w+) reward$/i.exec(title);
  const name = (sub ? sub[sub.length - 1]! : title.replace(/\W+/g, '_')).toLowerCase();
  const header: VlmHeader = { stamp: `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`, time, name, raw: label };
  if (colon >= 0) header.value = Number(label.slice(colon + 1).trim());
  return header;
}

function fieldKey(text: string): { key: string; rest: string } | null {
  const m = FIELD.exec(text);
  if (!m) return null;
  return { key: m[1]!.toLowerCase().replace(' ', '_'), rest: m[2]! };
}

function opensBlock(text: string): { header: VlmHeader } | null {
  const header = parseHeader(text);
  return header ? { header } : null;
}

/** A Python list repr (`['a.jpg', "b"]`) or JSON list → its strings; any other text → [text]. */
export function listOf(text: string): string[] {
  const t = text.trim();
  if (!(t.startsWith('[') && t.endsWith(']'))) return t === '' ? [] : [t];
  const out: string[] = [];
  for (const m of t.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)) out.push((m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1'));
  return out;
}

/** Completion text → has format, filled from the `_format.txt` sibling. Bounded: oldest dropped first. */
export class FormatVerdicts {
  private readonly map = new Map<string, boolean>();
  constructor(private readonly cap = 100_000) {}
  set(content: string, ok: boolean): void {
    this.map.delete(content);
    this.map.set(content, ok);
    if (this.map.size > this.cap) this.map.delete(this.map.keys().next().value as string);
  }
  get(content: string): boolean | undefined {
    return this.map.get(content);
  }
  get size(): number {
    return this.map.size;
  }
}

/** The `_format.txt` sibling: fills `verdicts`, emits no records. */
export function vlmr1FormatParser(sink: RecordSink, verdicts: FormatVerdicts): TextParser {
  return blockParser<VlmHeader>(
    { opens: opensBlock, field: fieldKey },
    sink,
    (b) => {
      let content: string | undefined;
      for (const f of b.fields) {
        if (f.key === 'content' || f.key === 'completion') content = f.value;
        else if (f.key === 'has_format' && content !== undefined) {
          verdicts.set(content, f.value.trim().toLowerCase() === 'true');
          content = undefined;
        }
      }
    },
  );
}

interface StepSpan {
  step: number;
  first: number;
  last: number;
  groups: Map<string, number>;
  counts: Map<string, number>;
}

const KEEP_STEPS = 16;

export function vlmr1Parser(sink: RecordSink, verdicts: FormatVerdicts, opts: AdapterOptions = {}): TextParser {
  const gap = (opts.stepGapMs ?? 2000) * 1000;
  const spans: StepSpan[] = []; // the most recent steps, oldest first
  let nextStep = 0;
  let monthShift = 0;
  let latest = -Infinity;

  const spanFor = (time: number): StepSpan => {
    const newest = spans[spans.length - 1];
    if (!newest || time > newest.last + gap) {
      const s: StepSpan = { step: nextStep++, first: time, last: time, groups: new Map(), counts: new Map() };
      spans.push(s);
      if (spans.length > KEEP_STEPS) spans.shift();
      return s;
    }
    for (let i = spans.length - 1; i >= 0; i--) {
      const s = spans[i]!;
      if (time >= s.first - gap) {
        // Within reach of this step's calls, or a late block of an older call (ranks interleave)
        // that falls between two steps: the step that began before it.
        if (time <= s.last + gap) {
          s.first = Math.min(s.first, time);
          s.last = Math.max(s.last, time);
        }
        return s;
      }
    }
    return spans[0]!;
  };

  const emit = (b: Block<VlmHeader>): void => {
    const h = b.header;
    const bad = (error: string): void => sink.bad({ file: b.start.file, line: b.start.line, error });
    const get = (key: string): string | undefined => b.fields.find((f) => f.key === key)?.value;
    const content = get('content') ?? get('completion');
    if (content === undefined) return bad('block has no Content: / Completion: field');
    if (h.value !== undefined && !Number.isFinite(h.value)) return bad(`reward in the block header is not a number: ${JSON.stringify(h.raw)}`);

    // The day field wraps at a month boundary; keep time increasing across it.
    let time = h.time + monthShift;
    if (time < latest - 15 * DAY_US) {
      monthShift += 31 * DAY_US;
      time += 31 * DAY_US;
    }
    latest = Math.max(latest, time);
    const span = spanFor(time);

    const rec: RolloutRecord = { v: 1, step: span.step, completion: content };
    const problem = get('problem');
    const images = get('image_path');
    if (problem !== undefined || images !== undefined) {
      rec.prompt = {};
      if (problem !== undefined) rec.prompt.text = problem;
      if (images !== undefined) rec.prompt.images = listOf(images);
    }
    const solution = get('solution');
    if (solution !== undefined) rec.solution = solution;
    const possible = get('possible_answers');
    if (possible !== undefined) rec.possible_answers = listOf(possible);
    if (h.value !== undefined) rec.rewards = { [h.name]: h.value };

    const meta: Record<string, unknown> = { timestamp: h.stamp, step_inferred: true };
    const golden = get('golden');
    if (golden !== undefined) {
      const cut = golden.search(/\s+Predicted:/);
      meta.golden = (cut >= 0 ? golden.slice(0, cut) : golden).trim();
      if (cut >= 0) meta.predicted = golden.slice(cut).replace(/^\s+Predicted:\s?/, '').trim();
    }
    const predicted = get('predicted');
    if (predicted !== undefined) meta.predicted = predicted.trim();
    const hasFormat = verdicts.get(content);
    if (hasFormat !== undefined) {
      meta.has_format = hasFormat;
      (rec.rewards ??= {}).format = hasFormat ? 1 : 0;
    }
    rec.meta = meta;

    const signature = JSON.stringify([problem ?? null, rec.prompt?.images ?? []]);
    let n = span.groups.get(signature);
    if (n === undefined) span.groups.set(signature, (n = span.groups.size));
    rec.group = `${span.step}/${n}`;
    const index = span.counts.get(rec.group) ?? 0;
    span.counts.set(rec.group, index + 1);
    rec.index = index;
    sink.record(rec, { file: b.start.file, line: b.start.line, offset: b.start.offset, endLine: b.endLine });
  };

  return blockParser<VlmHeader>({ opens: opensBlock, field: fieldKey }, sink, emit);
}

/** `debug_log.txt` → `debug_log_format.txt`, as VLM-R1 names it (`LOG_PATH.replace(".txt", "_format.txt")`). */
export function formatSiblingOf(logPath: string): string | null {
  if (/_format\.txt$/.test(logPath) || !logPath.includes('.txt')) return null;
  return logPath.replace('.txt', '_format.txt');
}
