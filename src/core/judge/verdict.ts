/**
 * What a judge says about one completion, in every tier. Plain data: the cache file, the CLI
 * and the viewer protocol carry it unchanged.
 */
import { createHash } from 'node:crypto';

/** Why the reasoning does not support the answer (docs/judge.md, "Misalignment types"). */
export type MisalignmentType = 'contradiction' | 'missing_detail' | 'irrelevant' | 'other';
export const MISALIGNMENT_TYPES: readonly MisalignmentType[] = ['contradiction', 'missing_detail', 'irrelevant', 'other'];

export type JudgeTier = 'rules' | 'local' | 'llm';
export const JUDGE_TIERS: readonly JudgeTier[] = ['rules', 'local', 'llm'];

export interface JudgeVerdict {
  /** true: the reasoning entails the answer; false: it does not; null: this tier cannot tell. */
  aligns: boolean | null;
  /** Set only when `aligns` is false. */
  type: MisalignmentType | null;
  /** One sentence. */
  why: string;
  tier: JudgeTier;
  /** Which rules version, local model or LLM gave the verdict. */
  model: string;
  /** Hash of the prompt / hypothesis template / rule options: a changed prompt is a new verdict. */
  promptHash: string;
  /** ISO time the verdict was made. */
  at: string;
  /** Content hash of (completion, question, tier, model, promptHash): the cache key. */
  key: string;
  /**
   * The step of the completion this verdict was made or found for (null: a completion without a
   * step). A completion repeated at another step shares the verdict but counts as judged there
   * only once it is asked there too: the cache then holds one line per (key, step). Absent in
   * caches written before: such a verdict counts wherever its content is.
   */
  step?: number | null;
}

/** What a judge reads: the completion and its question, and where it sits in the run. */
export interface JudgeItem {
  completion: string;
  question: string;
  /** 1-based line in the rollout file, for reports. */
  line?: number;
  group?: string;
  /** The record's step (null: none); recorded on the verdict so per-step counts count what was judged there. */
  step?: number | null;
}

/** A judge that could not give a verdict: the reason is kept, nothing is cached. */
export interface JudgeFailure {
  failed: true;
  tier: JudgeTier;
  model: string;
  reason: string;
}

export type JudgeOutcome = JudgeVerdict | JudgeFailure;

export const isFailure = (o: JudgeOutcome): o is JudgeFailure => 'failed' in o;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Short, stable hash of a prompt or option set. */
export function promptHashOf(text: string): string {
  return sha256(text).slice(0, 16);
}

/** The cache key. Fields are length-prefixed so no two different tuples can join into one string. */
export function verdictKey(item: Pick<JudgeItem, 'completion' | 'question'>, tier: JudgeTier, model: string, promptHash: string): string {
  const parts = [item.completion, item.question, tier, model, promptHash];
  return sha256(parts.map((p) => `${p.length}:${p}`).join('|'));
}

export function makeVerdict(
  item: Pick<JudgeItem, 'completion' | 'question'>,
  fields: { aligns: boolean | null; type: MisalignmentType | null; why: string },
  who: { tier: JudgeTier; model: string; promptHash: string },
  now: Date = new Date(),
): JudgeVerdict {
  return {
    aligns: fields.aligns,
    type: fields.aligns === false ? (fields.type ?? 'other') : null,
    why: fields.why,
    tier: who.tier,
    model: who.model,
    promptHash: who.promptHash,
    at: now.toISOString(),
    key: verdictKey(item, who.tier, who.model, who.promptHash),
  };
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Read a verdict back from untrusted JSON (the cache file); null when it is not one. */
export function toVerdict(raw: unknown): JudgeVerdict | null {
  if (!isObj(raw)) return null;
  const { aligns, type, why, tier, model, promptHash, at, key, step } = raw;
  if (!(aligns === true || aligns === false || aligns === null)) return null;
  if (!(type === null || (MISALIGNMENT_TYPES as readonly unknown[]).includes(type))) return null;
  if (!(JUDGE_TIERS as readonly unknown[]).includes(tier)) return null;
  if (typeof why !== 'string' || typeof model !== 'string' || typeof promptHash !== 'string') return null;
  if (typeof at !== 'string' || typeof key !== 'string') return null;
  const v: JudgeVerdict = { aligns, type: type as MisalignmentType | null, why, tier: tier as JudgeTier, model, promptHash, at, key };
  if (step === null || (typeof step === 'number' && Number.isInteger(step) && step >= 0)) v.step = step;
  return v;
}

/** `v` as found for a completion at `step` (unchanged when the item has no step recorded). */
export function verdictAtStep(v: JudgeVerdict, step: number | null | undefined): JudgeVerdict {
  return step === undefined || v.step === step ? v : { ...v, step };
}
