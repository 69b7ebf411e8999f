/**
 * What an answer says, and what the reasoning concludes, as comparable values. The rules tier
 * must never flag an aligned chain, so every reader here declines (returns null) rather than
 * guess: "A cat sits on the mat" is text, not option A.
 */

export type AnswerValue =
  | { kind: 'choice'; letters: string[] }
  | { kind: 'bool'; value: boolean }
  | { kind: 'number'; value: number }
  | { kind: 'text'; text: string };

const LETTER = '[A-H]';
/** A letter set alone: "B", "(B)", "B.", "A, C", "A and C", "(A)(C)", "B. Because …", "Option B". */
const CHOICE_RE = new RegExp(
  String.raw`^(?:(?:[Tt]he\s+)?(?:[Ff]inal\s+)?(?:[Aa]nswer|[Oo]ption|[Cc]hoice)s?\s*(?:is|are|:)?\s*)?` +
    // Letters need a separator ("A, C", "A and C", "A C") or parentheses ("(A)(C)"): "BAD" is a word.
    String.raw`(\(?${LETTER}\)?(?:(?:\s*(?:,|and|&|/|or)\s*|\s+|(?<=\)))\(?${LETTER}\)?)*)` +
    // After the set: nothing, or punctuation then anything ("B. Because …", "B) the dog").
    String.raw`\s*(?:$|[.):;,\-–—]\s*([\s\S]*))$`,
);
const BOOL_RE = /^(yes|no|true|false)\b\s*(?:$|[.,:;!\-–—]\s*[\s\S]*)$/i;
const NUMBER_RE = /^(-?\d[\d,]*(?:\.\d+)?|-?\.\d+)\s*([a-z%°]+(?:\s+[a-z]+){0,2})?\s*\.?$/i;

function lettersOf(set: string): string[] {
  const letters = new Set(set.match(/[A-H]/g) ?? []);
  return [...letters].sort();
}

function toNumber(s: string): number | null {
  const n = Number(s.replace(/,/g, ''));
  return Number.isFinite(n) ? n : null;
}

/** Lowercase, no articles, no punctuation, single spaces: how free-text answers are compared. */
export function normalizeText(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\b(the|a|an)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Read the final answer's text. Box-only answers come back as text; the box check handles them. */
export function readAnswer(text: string): AnswerValue {
  const t = text.trim();
  const c = CHOICE_RE.exec(t);
  // A lone lowercase letter is still an option ("b"); inside a sentence it would be a word.
  if (c && /[A-H]/.test(c[1]!)) return { kind: 'choice', letters: lettersOf(c[1]!) };
  if (/^\(?[a-h]\)?\.?$/.test(t)) return { kind: 'choice', letters: [t.replace(/[().]/g, '').toUpperCase()] };
  const b = BOOL_RE.exec(t);
  if (b) {
    const w = b[1]!.toLowerCase();
    return { kind: 'bool', value: w === 'yes' || w === 'true' };
  }
  const n = NUMBER_RE.exec(t);
  if (n) {
    const v = toNumber(n[1]!);
    if (v !== null) return { kind: 'number', value: v };
  }
  return { kind: 'text', text: normalizeText(t) };
}

/** Cues that state the conclusion outright; when several appear, the last one counts (models revise). */
const STRONG_CUE =
  /(?:\b(?:final|correct|right|best)\s+(?:answer|option|choice)s?\s*(?:is|are|should be|would be|:)|\b(?:the\s+)?answer\s*(?:is|are|should be|would be|must be|:)|\bI\s+(?:choose|select|pick|will choose|would choose|go with)|\b(?:choose|select|pick)\s+(?:option\s+)?(?=\(?[A-H]\)?\b))\s*/gi;
/** Weaker cues: a consequence that may or may not be the conclusion. */
const WEAK_CUE = /\b(?:so|therefore|thus|hence|consequently|in conclusion|this means)\b[,:]?\s*/gi;
/** "B is correct", "option C is the answer": the letter comes before the cue. */
const LETTER_FIRST = /(?:\boption\s+|\()?\b([A-H])\)?\s+(?:is|must be|should be)\s+(?:the\s+)?(?:correct|right|answer|best)/g;

/** The sentence that starts at `from` (up to a full stop followed by space or the end). */
function sentenceFrom(text: string, from: number): string {
  const rest = text.slice(from);
  const end = rest.search(/(?<![A-H\d])[.!?](?:\s|$)|\n/);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

/** Letters named in a conclusion phrase; an "A" followed by a lowercase word is the article. */
function lettersIn(phrase: string): string[] {
  const found: string[] = [];
  const re = /\(([A-Ha-h])\)|(?<![\w'])([A-H])(?![\w'])(?!\s+(?!(?:is|and|or|are|as|because|since)\b)[a-z])/g;
  for (const m of phrase.matchAll(re)) found.push((m[1] ?? m[2]!).toUpperCase());
  return [...new Set(found)].sort();
}

/** A value of the wanted kind in a conclusion phrase, or null. */
function valueIn(phrase: string, kind: AnswerValue['kind']): AnswerValue | null {
  if (kind === 'choice') {
    const letters = lettersIn(phrase);
    return letters.length > 0 ? { kind, letters } : null;
  }
  if (kind === 'bool') {
    const words = [...phrase.matchAll(/\b(yes|no|true|false|correct|incorrect|not)\b/gi)].map((m) => m[1]!.toLowerCase());
    const w = words.find((x) => x === 'yes' || x === 'no' || x === 'true' || x === 'false');
    if (!w) return null;
    // "is not true" flips; "incorrect"/"not" alone are too vague to read.
    const negated = words.includes('not') && (w === 'true' || w === 'false');
    const v = w === 'yes' || w === 'true';
    return { kind, value: negated ? !v : v };
  }
  if (kind === 'number') {
    const nums = [...phrase.matchAll(/(?<![\w.])-?\d[\d,]*(?:\.\d+)?/g)].map((m) => toNumber(m[0]));
    const last = nums.filter((n): n is number => n !== null).pop();
    return last === undefined ? null : { kind, value: last };
  }
  const t = normalizeText(phrase);
  return t ? { kind, text: t } : null;
}

export interface Conclusion {
  value: AnswerValue;
  /** The reasoning's words that state it, for the verdict's `why`. */
  quote: string;
  strong: boolean;
}

/** The conclusion the reasoning states, read as the same kind as the answer; null when it states none. */
export function readConclusion(reasoning: string, kind: AnswerValue['kind']): Conclusion | null {
  type Hit = { at: number; phrase: string; strong: boolean };
  const hits: Hit[] = [];
  for (const m of reasoning.matchAll(STRONG_CUE)) hits.push({ at: m.index, phrase: sentenceFrom(reasoning, m.index + m[0].length), strong: true });
  if (kind === 'choice') {
    for (const m of reasoning.matchAll(LETTER_FIRST)) hits.push({ at: m.index, phrase: m[1]!, strong: true });
  }
  for (const m of reasoning.matchAll(WEAK_CUE)) hits.push({ at: m.index, phrase: sentenceFrom(reasoning, m.index + m[0].length), strong: false });
  hits.sort((a, b) => b.at - a.at);
  // Strong cues win over weak ones anywhere; among equals, the latest wins.
  for (const strong of [true, false]) {
    for (const h of hits) {
      if (h.strong !== strong) continue;
      // A free-text conclusion is only trusted after a strong cue ("so I look left" is not one).
      if (kind === 'text' && !strong) continue;
      const phrase = kind === 'text' ? h.phrase.replace(/[.!?]$/, '') : h.phrase;
      const v = valueIn(phrase, kind);
      if (v) return { value: v, quote: reasoning.slice(h.at, h.at + 160).split('\n')[0]!.trim(), strong };
    }
  }
  return null;
}

/** True/false when two values of one kind agree or not; null when they cannot be compared safely. */
export function sameValue(a: AnswerValue, b: AnswerValue): boolean | null {
  if (a.kind === 'choice' && b.kind === 'choice') return a.letters.join() === b.letters.join();
  if (a.kind === 'bool' && b.kind === 'bool') return a.value === b.value;
  if (a.kind === 'number' && b.kind === 'number') return Math.abs(a.value - b.value) <= 1e-9 * Math.max(1, Math.abs(a.value));
  if (a.kind === 'text' && b.kind === 'text') {
    if (a.text === b.text || ` ${a.text} `.includes(` ${b.text} `) || ` ${b.text} `.includes(` ${a.text} `)) return true;
    // Only short phrases with no word in common are a clear disagreement ("left" vs "right").
    const wa = new Set(a.text.split(' '));
    const short = a.text.split(' ').length <= 4 && b.text.split(' ').length <= 4;
    return short && !b.text.split(' ').some((w) => wa.has(w)) ? false : null;
  }
  return null;
}

export function showValue(v: AnswerValue): string {
  switch (v.kind) {
    case 'choice':
      return v.letters.join(', ');
    case 'bool':
      return String(v.value);
    case 'number':
      return String(v.value);
    case 'text':
      return JSON.stringify(v.text);
  }
}
