/**
 * The reasoning-chain parser: one completion in, a flat token list out (docs/chains.md).
 *
 * Completions are hostile model output and files hold many thousands of them, so this is a
 * single left-to-right pass with one global regex that finds the next interesting construct;
 * each construct is then checked on its own (already bounded) text. Invalid candidates fall
 * back to plain text. Nothing in here throws on any input.
 */
import type { CompletionSegmentInput } from '../schema/record';
import type { BoxSyntax, ChainRegion, ChainToken, ParsedBox, ParsedChain } from './types';

const NUM = String.raw`-?(?:\d+(?:\.\d+)?|\.\d+)`;
const PAIR = String.raw`\(\s*${NUM}\s*,\s*${NUM}\s*\)`;

/**
 * Alternatives in priority order; each named group wraps one whole construct. Steps come last
 * and start with a cheap lookahead so the variable-length lookbehind runs only on candidates.
 */
const MASTER_SOURCE = [
  String.raw`(?<tag><\/?(?:think|answer)>)`,
  String.raw`(?<marker><image:[^>\n]+>)`,
  String.raw`(?<seedimg><img>(?:\s*<img_\d+>)*\s*<\/img>)`,
  String.raw`(?<qwen2>(?:<\|object_ref_start\|>[^<]*<\|object_ref_end\|>\s*)?<\|box_start\|>\s*${PAIR}\s*,?\s*${PAIR}\s*<\|box_end\|>)`,
  String.raw`(?<ref>(?:<ref>[^<]*<\/ref>\s*)?<box>\s*${PAIR}\s*,?\s*${PAIR}\s*<\/box>)`,
  String.raw`(?<json>\{[^{}]*?"(?:bbox_2d|point_2d)"[^{}]*\})`,
  String.raw`(?<bracket>\[\s*${NUM}\s*,\s*${NUM}\s*,\s*${NUM}\s*,\s*${NUM}(?:\s+[^\[\]\s,][^\[\]]*?)?\s*\])`,
  String.raw`(?<step>(?=[Ss]tep|\d)(?<=(?:^|\n|<think>|<answer>)[ \t*#]*)(?:[Ss]tep\s*\d{1,4}\s*[:.]|\d{1,3}[.)](?=[ \t])))`,
].join('|');

const NUM_RE = new RegExp(NUM, 'g');
const ONE_NUM_RE = new RegExp(`^${NUM}$`);
const REF_LABEL_RE = /<ref>([^<]*)<\/ref>/;
const QWEN2_LABEL_RE = /<\|object_ref_start\|>([^<]*)<\|object_ref_end\|>/;
const BRACKET_RE = new RegExp(String.raw`^\[\s*(${NUM})\s*,\s*(${NUM})\s*,\s*(${NUM})\s*,\s*(${NUM})(?:\s+([^\[\]]*?))?\s*\]$`);
const SEED_CODE_RE = /<img_(\d+)>/g;
/** The seeds' format reward regex (re.match, DOTALL): anchored at the start, not at the end. */
const SEED_FORMAT_RE = /^<think>[\s\S]*?<\/think>\s*<answer>[\s\S]*?<\/answer>/;
const MAX_VIOLATIONS = 20;

type Box4 = [number, number, number, number];

/** The completion as one string, exactly as `completionText` in record.ts writes it, plus where its image markers sit. */
interface ChainSource {
  text: string;
  images: { start: number; end: number; path: string }[];
}

function toSource(completion: string | CompletionSegmentInput[]): ChainSource {
  if (typeof completion === 'string') return { text: completion, images: [] };
  let text = '';
  const images: ChainSource['images'] = [];
  for (const seg of completion) {
    if (seg.type === 'image') {
      const marker = `<image:${seg.path}>`;
      images.push({ start: text.length, end: text.length + marker.length, path: String(seg.path) });
      text += marker;
    } else text += String(seg.text);
  }
  return { text, images };
}

function numbers(s: string): number[] {
  return (s.match(NUM_RE) ?? []).map(Number);
}

function cleanLabel(s: string | null | undefined): string | null {
  if (typeof s !== 'string') return null;
  const t = s.trim();
  return t === '' ? null : t;
}

function box4(values: unknown[]): Box4 | null {
  if (values.length !== 4) return null;
  const out = values.map((v) => (typeof v === 'number' ? v : NaN));
  return out.every(Number.isFinite) ? (out as Box4) : null;
}

interface BoxFields {
  label: string | null;
  coords: Box4;
  point: boolean;
}

/** A Qwen2.5-VL grounding object; JSON first, then a lenient field scan for near-JSON (single quotes aside). */
function jsonBox(text: string): BoxFields | null {
  let obj: unknown = null;
  try {
    obj = JSON.parse(text);
  } catch {
    obj = null;
  }
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    const o = obj as Record<string, unknown>;
    const label = typeof o.label === 'string' ? cleanLabel(o.label) : null;
    if (Array.isArray(o.bbox_2d)) {
      const c = box4(o.bbox_2d);
      return c ? { label, coords: c, point: false } : null;
    }
    if (Array.isArray(o.point_2d) && o.point_2d.length === 2) {
      const c = box4([o.point_2d[0], o.point_2d[1], o.point_2d[0], o.point_2d[1]]);
      return c ? { label, coords: c, point: true } : null;
    }
    return null;
  }
  // Models sometimes emit trailing commas or unquoted keys; read the two fields directly.
  const labelMatch = /"label"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text);
  const label = cleanLabel(labelMatch?.[1]);
  const bbox = /"bbox_2d"\s*:\s*\[([^\]]*)\]/.exec(text);
  if (bbox) {
    const parts = bbox[1]!.split(',').map((p) => p.trim());
    const c = parts.every((p) => ONE_NUM_RE.test(p)) ? box4(parts.map(Number)) : null;
    return c ? { label, coords: c, point: false } : null;
  }
  const point = /"point_2d"\s*:\s*\[([^\]]*)\]/.exec(text);
  if (point) {
    const parts = point[1]!.split(',').map((p) => p.trim());
    if (parts.length !== 2 || !parts.every((p) => ONE_NUM_RE.test(p))) return null;
    const c = box4([Number(parts[0]), Number(parts[1]), Number(parts[0]), Number(parts[1])]);
    return c ? { label, coords: c, point: true } : null;
  }
  return null;
}

function boxFields(kind: BoxSyntax | 'bracket', text: string): BoxFields | null {
  switch (kind) {
    case 'qwen25-json':
      return jsonBox(text);
    case 'qwen-ref':
    case 'qwen2-special': {
      const labelMatch = (kind === 'qwen-ref' ? REF_LABEL_RE : QWEN2_LABEL_RE).exec(text);
      const afterLabel = labelMatch ? text.slice(labelMatch.index + labelMatch[0].length) : text;
      const c = box4(numbers(afterLabel));
      return c ? { label: cleanLabel(labelMatch?.[1]), coords: c, point: false } : null;
    }
    default: {
      const m = BRACKET_RE.exec(text);
      if (!m) return null;
      const c = box4([Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]);
      return c ? { label: cleanLabel(m[5]), coords: c, point: false } : null;
    }
  }
}

function quote(s: string): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}…` : t);
}

type TagName = 'think' | 'answer';

/** Running state of the single pass: which region we are in and what the tag structure looks like so far. */
class ChainBuilder {
  readonly tokens: ChainToken[] = [];
  readonly boxes: ParsedBox[] = [];
  readonly violations: string[] = [];
  think: string | null = null;
  answer: string | null = null;
  private region: ChainRegion = 'outside';
  private openedAt = 0;
  private readonly opens: Record<TagName, number> = { think: 0, answer: 0 };
  private readonly firstInnerStart: Record<TagName, number | null> = { think: null, answer: null };
  private lastClosed: TagName | null = null;
  private extraViolations = 0;

  constructor(private readonly text: string) {}

  violation(msg: string): void {
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(msg);
    else this.extraViolations++;
  }

  plain(start: number, end: number): void {
    if (end <= start) return;
    const text = this.text.slice(start, end);
    this.tokens.push({ kind: 'text', region: this.region, text, start, end });
    if (this.region === 'outside' && text.trim() !== '') {
      const where =
        this.lastClosed === null
          ? 'before <think>'
          : this.lastClosed === 'think' && this.opens.answer === 0
            ? 'between </think> and <answer>'
            : `after </${this.lastClosed}>`;
      this.violation(`Text ${where} at offset ${start}: ${quote(text)}.`);
    }
  }

  tag(start: number, end: number): void {
    const text = this.text.slice(start, end);
    this.tokens.push({ kind: 'tag', text, start, end });
    const closing = text[1] === '/';
    const name: TagName = text.includes('think') ? 'think' : 'answer';
    if (!closing) {
      if (this.region !== 'outside') this.violation(`<${name}> at offset ${start} opens inside an unclosed <${this.region}>.`);
      this.opens[name]++;
      if (this.opens[name] === 2) this.violation(`A second <${name}> block starts at offset ${start}; only the first one counts.`);
      if (name === 'think' && this.opens.answer > 0 && this.opens.think === 1) {
        this.violation(`<think> at offset ${start} comes after <answer>.`);
      }
      this.firstInnerStart[name] ??= end;
      this.region = name;
      this.openedAt = start;
      return;
    }
    const innerStart = this.firstInnerStart[name];
    if (innerStart !== null && this[name] === null) this[name] = this.text.slice(innerStart, start);
    if (this.region === name) {
      this.region = 'outside';
      this.lastClosed = name;
    } else if (this.region === 'outside') {
      this.violation(`</${name}> at offset ${start} closes nothing.`);
    } else {
      this.violation(`</${name}> at offset ${start} appears inside <${this.region}>.`);
    }
  }

  box(start: number, end: number, syntax: BoxSyntax, f: BoxFields): void {
    const id = this.boxes.length;
    this.boxes.push({ id, label: f.label, coords: f.coords, point: f.point, syntax, region: this.region, start, end });
    this.tokens.push({ kind: 'box', region: this.region, text: this.text.slice(start, end), start, end, boxId: id });
  }

  image(start: number, end: number, path: string | null, codes: number[] | null): void {
    this.tokens.push({ kind: 'image', region: this.region, text: this.text.slice(start, end), start, end, path, codes });
  }

  step(start: number, end: number): void {
    this.tokens.push({ kind: 'step', region: this.region, text: this.text.slice(start, end), start, end });
  }

  finish(): ParsedChain {
    if (this.region !== 'outside') this.violation(`<${this.region}> opened at offset ${this.openedAt} is never closed.`);
    if (this.opens.think === 0) this.violation('There is no <think> block.');
    if (this.opens.answer === 0) this.violation('There is no <answer> block.');
    const formatOk = formatMatches(this.text);
    if (!formatOk && this.violations.length === 0) {
      this.violation(
        /^\s/.test(this.text)
          ? 'Whitespace before <think>: the format check requires <think> as the very first characters.'
          : 'The completion is not <think>…</think> followed by <answer>…</answer>.',
      );
    }
    if (this.extraViolations > 0) this.violations.push(`…and ${this.extraViolations} more problems.`);
    return { tokens: this.tokens, boxes: this.boxes, think: this.think, answer: this.answer, formatOk, violations: this.violations };
  }
}

/**
 * The seed's format regex matched at the start, and — our addition — nothing but whitespace
 * after the `</answer>` that regex stopped at. The seed itself ignores trailing text; the
 * viewer must not call a chain "well formed" when it rambles on after its answer.
 */
export function formatMatches(text: string): boolean {
  const m = SEED_FORMAT_RE.exec(text);
  return m !== null && text.slice(m[0].length).trim() === '';
}

const SYNTAX_OF_GROUP: Record<string, BoxSyntax | 'bracket'> = {
  qwen2: 'qwen2-special',
  ref: 'qwen-ref',
  json: 'qwen25-json',
  bracket: 'bracket',
};

function scan(src: ChainSource): ParsedChain {
  const { text, images } = src;
  const out = new ChainBuilder(text);
  const re = new RegExp(MASTER_SOURCE, 'g');
  let pos = 0; // end of the last token emitted
  let from = 0; // where the next search starts (> pos after a rejected candidate)
  let imageIdx = 0;
  // A match found past the next known image marker stays valid once we jump over that marker.
  let pending: RegExpExecArray | null = null;
  let exhausted = false;

  for (;;) {
    const marker = images[imageIdx];
    const limit = marker ? marker.start : text.length;
    let m: RegExpExecArray | null = null;
    if (pending && pending.index >= from) m = pending;
    else if (!exhausted && from < text.length) {
      re.lastIndex = from;
      m = re.exec(text);
      if (m === null) exhausted = true;
    }
    pending = null;
    if (m === null || m.index + m[0].length > limit) {
      if (m !== null && m.index >= limit) pending = m;
      out.plain(pos, limit);
      if (!marker) break;
      out.image(marker.start, marker.end, marker.path, null);
      pos = from = marker.end;
      imageIdx++;
      continue;
    }
    const start = m.index;
    const end = start + m[0].length;
    const g = m.groups ?? {};
    if (g.tag !== undefined) {
      out.plain(pos, start);
      out.tag(start, end);
    } else if (g.marker !== undefined) {
      out.plain(pos, start);
      out.image(start, end, g.marker.slice('<image:'.length, -1), null);
    } else if (g.seedimg !== undefined) {
      out.plain(pos, start);
      out.image(start, end, null, Array.from(g.seedimg.matchAll(SEED_CODE_RE), (c) => Number(c[1])));
    } else if (g.step !== undefined) {
      out.plain(pos, start);
      out.step(start, end);
    } else {
      const groupName = Object.keys(SYNTAX_OF_GROUP).find((k) => g[k] !== undefined) ?? 'bracket';
      const kind = SYNTAX_OF_GROUP[groupName]!;
      const fields = boxFields(kind, m[0]);
      if (fields === null) {
        // Not a usable box after all: leave it as text and look again one character later.
        from = start + 1;
        continue;
      }
      out.plain(pos, start);
      const syntax: BoxSyntax = kind === 'bracket' ? (fields.label === null ? 'bare' : 'seed') : kind;
      out.box(start, end, syntax, fields);
    }
    pos = from = end;
  }
  return out.finish();
}

/**
 * Parse a completion (plain text, or text/image segments) into tokens whose texts concatenate
 * back to exactly `completionText` of the same completion.
 */
export function parseChain(completion: string | CompletionSegmentInput[]): ParsedChain {
  let src: ChainSource = { text: '', images: [] };
  try {
    src = toSource(completion);
    return scan(src);
  } catch (e) {
    // A bug must not take the viewer down with it: degrade to one plain text token.
    const text = src.text;
    return {
      tokens: text === '' ? [] : [{ kind: 'text', region: 'outside', text, start: 0, end: text.length }],
      boxes: [],
      think: null,
      answer: null,
      formatOk: false,
      violations: [`The chain could not be parsed (${e instanceof Error ? e.message : String(e)}).`],
    };
  }
}
