/**
 * Tier 1: instant rules. They flag only what they can see for certain (a stated conclusion
 * that differs from the answer, an answer object or box the reasoning never had) and say
 * "uncertain" otherwise, so the cascade sends those on to a model.
 */
import { iou, type Box, type IouMode } from '../boxes/iou';
import type { ParsedBox } from '../chain/types';
import { normalizeText, readAnswer, readConclusion, sameValue, showValue } from './answer';
import type { JudgeSubject } from './input';
import { makeVerdict, promptHashOf, type JudgeVerdict, type MisalignmentType } from './verdict';

export interface RulesOptions {
  /** An answer box whose best IoU with every reasoning box is below this is flagged. */
  iouThreshold?: number;
  iouMode?: IouMode;
}

export const RULES_MODEL = 'rules-v1';

/** Words that name no object: a label made only of these is never checked against the reasoning. */
const NOT_OBJECTS = new Set(['object', 'thing', 'item', 'target', 'region', 'box', 'answer', 'it', 'this', 'that', 'left', 'right', 'top', 'bottom']);

type Finding = { aligns: boolean | null; type: MisalignmentType | null; why: string };

export class RulesJudge {
  readonly tier = 'rules' as const;
  readonly model = RULES_MODEL;
  readonly promptHash: string;
  private readonly threshold: number;
  private readonly mode: IouMode;

  constructor(opts: RulesOptions = {}) {
    this.threshold = opts.iouThreshold ?? 0.5;
    this.mode = opts.iouMode ?? 'continuous';
    this.promptHash = promptHashOf(`${RULES_MODEL}|iou>=${this.threshold}|${this.mode}`);
  }

  judge(subject: JudgeSubject, now: Date = new Date()): JudgeVerdict {
    return makeVerdict(subject, this.find(subject), { tier: 'rules', model: this.model, promptHash: this.promptHash }, now);
  }

  private find(s: JudgeSubject): Finding {
    if (!s.hasAnswer) return { aligns: null, type: null, why: 'No final answer was found in the completion.' };
    const reasoning = s.input.reasoning;
    const answerBoxes = s.chain.boxes.filter((b) => b.region === 'answer');
    const reasoningBoxes = s.chain.boxes.filter((b) => b.region === 'think');

    const label = this.unmentionedLabel(answerBoxes, reasoning);
    if (label) return { aligns: false, type: 'missing_detail', why: `The answer names "${label}", which the reasoning never mentions.` };
    const stray = this.strayBox(answerBoxes, reasoningBoxes);
    if (stray) return stray;

    // Box-only answers: judged by the two checks above alone.
    const open = s.chain.tokens.find((t) => t.kind === 'tag' && t.text === '<answer>');
    const answerText = s.chain.answer !== null && open ? stripBoxes(s.chain.answer, answerBoxes, open.end) : s.input.answer;
    if (answerText === '' && answerBoxes.length > 0) {
      return reasoningBoxes.length > 0
        ? { aligns: true, type: null, why: 'Every answer box matches a box the reasoning drew, and its label appears there.' }
        : { aligns: null, type: null, why: 'The answer gives a box the reasoning never located; nothing to compare it with.' };
    }

    const answer = readAnswer(answerText || s.input.answer);
    const conclusion = readConclusion(reasoning, answer.kind);
    if (!conclusion) return { aligns: null, type: null, why: 'The reasoning states no conclusion the rules can read.' };
    const same = sameValue(answer, conclusion.value);
    if (same === true) return { aligns: true, type: null, why: `The reasoning concludes ${showValue(conclusion.value)}, as the answer does.` };
    if (same === false && (conclusion.strong || answer.kind !== 'text')) {
      return {
        aligns: false,
        type: 'contradiction',
        why: `The reasoning concludes ${showValue(conclusion.value)} ("${conclusion.quote}") but the answer is ${showValue(answer)}.`,
      };
    }
    return { aligns: null, type: null, why: 'The reasoning states a conclusion the rules cannot compare with the answer.' };
  }

  /** The first answer-box label none of whose object words occur in the reasoning. */
  private unmentionedLabel(answerBoxes: ParsedBox[], reasoning: string): string | null {
    const said = new Set(normalizeText(reasoning).split(' ').map(singular));
    for (const b of answerBoxes) {
      if (!b.label) continue;
      const words = normalizeText(b.label).split(' ').filter((w) => w && !NOT_OBJECTS.has(w) && !/^\d+$/.test(w));
      if (words.length === 0) continue;
      if (!words.some((w) => said.has(singular(w)))) return b.label.trim();
    }
    return null;
  }

  /** An answer box that overlaps none of the reasoning's boxes enough. */
  private strayBox(answerBoxes: ParsedBox[], reasoningBoxes: ParsedBox[]): Finding | null {
    const areas = reasoningBoxes.filter((b) => !b.point);
    if (areas.length === 0) return null;
    for (const a of answerBoxes) {
      if (a.point) continue;
      const best = Math.max(...areas.map((r) => iou(a.coords as Box, r.coords as Box, this.mode)));
      if (best >= this.threshold) continue;
      const sameLabel = a.label ? areas.find((r) => r.label && normalizeText(r.label) === normalizeText(a.label!)) : undefined;
      const where = `[${a.coords.join(', ')}]`;
      return sameLabel
        ? {
            aligns: false,
            type: 'contradiction',
            why: `The answer puts "${a.label!.trim()}" at ${where}, but the reasoning located it at [${sameLabel.coords.join(', ')}] (IoU ${best.toFixed(2)}).`,
          }
        : { aligns: false, type: 'missing_detail', why: `The answer box ${where} matches none of the reasoning's boxes (best IoU ${best.toFixed(2)}).` };
    }
    return null;
  }
}

/** Crude singular so "cups" in the reasoning counts for a "cup" label. */
function singular(w: string): string {
  return w.length > 3 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w;
}

/** The answer text with its boxes cut out (they were already checked). */
function stripBoxes(answer: string, boxes: ParsedBox[], answerStart: number): string {
  let out = '';
  let pos = 0;
  for (const b of boxes) {
    const s = b.start - answerStart;
    const e = b.end - answerStart;
    if (s < pos || e > answer.length) continue;
    out += answer.slice(pos, s);
    pos = e;
  }
  out += answer.slice(pos);
  return out.replace(/[\s,;.:]+/g, ' ').trim();
}
