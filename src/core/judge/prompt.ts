/**
 * The LLM judge's prompt (docs/judge.md) and a lenient reader of its reply:
 * servers without structured output wrap JSON in fences, add prose, or answer "yes".
 */
import { MISALIGNMENT_TYPES, promptHashOf, type MisalignmentType } from './verdict';

/** The editable template. {question}, {reasoning} and {answer} are filled in; nothing else is. */
export const DEFAULT_JUDGE_TEMPLATE = `You check whether a model's reasoning supports its own final answer.

Ignore whether the answer is factually right or wrong. Decide only one thing: does the chain of
thought, taken on its own terms, logically lead to the final answer that was given?

- aligns = true when the final answer follows from the reasoning.
- aligns = false when it does not. Then pick a type:
  "contradiction": the reasoning concludes something different from the answer;
  "missing_detail": the answer relies on something (an object, a value, a step) the reasoning never established;
  "irrelevant": the reasoning is about something else and does not bear on the answer;
  "other": any other break between reasoning and answer.
- type is null when aligns is true.
- why: one sentence explaining the decision.

Reply with a JSON object only: {"aligns": true|false, "type": null|"contradiction"|"missing_detail"|"irrelevant"|"other", "why": "..."}

Question:
{question}

Reasoning:
{reasoning}

Final answer:
{answer}`;

export interface JudgeInput {
  question: string;
  reasoning: string;
  answer: string;
}

/** Fill the template in one pass so text inside a field that looks like "{answer}" is never expanded. */
export function renderPrompt(template: string, input: JudgeInput): string {
  return template.replace(/\{(question|reasoning|answer)\}/g, (_m, name: keyof JudgeInput) => input[name]);
}

export function templateHash(template: string): string {
  return promptHashOf(`judge-template-v1\n${template}`);
}

/** JSON schema for `response_format: json_schema` (strict mode needs every field required). */
export const VERDICT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['aligns', 'type', 'why'],
  properties: {
    aligns: { type: 'boolean' },
    type: { type: ['string', 'null'], enum: [...MISALIGNMENT_TYPES, null] },
    why: { type: 'string' },
  },
} as const;

export interface JudgeReply {
  aligns: boolean;
  type: MisalignmentType | null;
  why: string;
}

export type ReplyParse = { ok: true; reply: JudgeReply } | { ok: false; error: string };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function asBool(x: unknown): boolean | null {
  if (typeof x === 'boolean') return x;
  if (typeof x === 'string') {
    const s = x.trim().toLowerCase();
    if (s === 'true' || s === 'yes') return true;
    if (s === 'false' || s === 'no') return false;
  }
  return null;
}

function asType(x: unknown): MisalignmentType | null {
  if (typeof x !== 'string') return null;
  const s = x.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return (MISALIGNMENT_TYPES as readonly string[]).includes(s) ? (s as MisalignmentType) : null;
}

function fromObject(o: Record<string, unknown>): JudgeReply | null {
  const aligns = asBool(o.aligns ?? o.aligned ?? o.align);
  if (aligns === null) return null;
  const why = typeof o.why === 'string' ? o.why.trim() : typeof o.reason === 'string' ? o.reason.trim() : '';
  return { aligns, type: aligns ? null : (asType(o.type) ?? 'other'), why };
}

/** The first balanced {...} in the text, skipping braces inside strings. */
function firstObject(text: string): string | null {
  let start = text.indexOf('{');
  while (start >= 0) {
    let depth = 0;
    let inStr = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inStr) {
        if (c === '\\') i++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return text.slice(start, i + 1);
    }
    start = text.indexOf('{', start + 1);
  }
  return null;
}

/** Read a judge reply: JSON, fenced JSON, JSON followed by prose, or a bare true/false/yes/no. */
export function parseJudgeReply(text: string): ReplyParse {
  const trimmed = text.trim();
  if (!trimmed) return { ok: false, error: 'empty reply' };
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(trimmed);
  const candidates = [trimmed, fenced?.[1]?.trim(), firstObject(fenced?.[1] ?? trimmed)].filter((c): c is string => !!c);
  for (const c of candidates) {
    try {
      const v: unknown = JSON.parse(c);
      if (isObj(v)) {
        const r = fromObject(v);
        if (r) return { ok: true, reply: r };
      }
    } catch {
      // not JSON as a whole; try the next reading
    }
  }
  const word = /^\W*(true|false|yes|no)\b[\s.,:;!-]*([\s\S]*)$/i.exec(trimmed);
  if (word) {
    const aligns = asBool(word[1]);
    if (aligns !== null) return { ok: true, reply: { aligns, type: aligns ? null : 'other', why: word[2]!.trim() } };
  }
  return { ok: false, error: `unreadable judge reply: ${JSON.stringify(trimmed.slice(0, 120))}` };
}
