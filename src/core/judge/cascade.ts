/**
 * The judging policy for a run: which tiers run, in what order. Only completions a tier calls
 * uncertain (or fails on) go on to the next, so the cheap tiers absorb what they can. Every
 * verdict goes to the cache the moment it is known, and a cached verdict is never asked again.
 */
import type { VerdictCacheLike } from './caches';
import { prepare, type JudgeSubject } from './input';
import type { JudgeRunOptions, PreparedItem } from './llm';
import { RulesJudge } from './rules';
import { isFailure, verdictAtStep, verdictKey, type JudgeItem, type JudgeOutcome, type JudgeTier, type JudgeVerdict } from './verdict';

export type JudgePolicy = 'rules' | 'rules>local' | 'rules>local>llm' | 'rules>llm' | 'local' | 'llm';
export const JUDGE_POLICIES: readonly JudgePolicy[] = ['rules', 'rules>local', 'rules>local>llm', 'rules>llm', 'local', 'llm'];

/** What the local and LLM tiers share: judge a list, report each outcome as it lands. */
export interface ModelJudge {
  readonly tier: JudgeTier;
  readonly model: string;
  readonly promptHash: string;
  judgeAll(items: readonly PreparedItem[], run: JudgeRunOptions): Promise<JudgeOutcome[]>;
}

export interface CascadeJudges {
  rules?: RulesJudge;
  local?: ModelJudge;
  llm?: ModelJudge;
}

export interface JudgedCompletion {
  /** Position in the input list. */
  index: number;
  item: JudgeItem;
  /** The final verdict; null when every tier that tried failed. */
  verdict: JudgeVerdict | null;
  /** Why no verdict, when `verdict` is null. */
  failure: string | null;
  /** The final verdict came from the cache (or from an identical completion earlier in this run). */
  cached: boolean;
  /** Every tier's verdict on the way, first to last (for agreement between tiers). */
  trail: JudgeVerdict[];
}

export interface CascadeSummary {
  judged: number;
  aligned: number;
  misaligned: number;
  /** Verdicts with aligns = null: no answer found, or no tier could tell. */
  unparseable: number;
  failed: number;
  cached: number;
}

export interface CascadeOptions {
  signal?: AbortSignal;
  cache?: VerdictCacheLike;
  /** Called once per completion when its final verdict (or failure) is known. */
  onJudged?: (r: JudgedCompletion) => void;
}

export function tiersOf(policy: JudgePolicy): JudgeTier[] {
  return policy.split('>') as JudgeTier[];
}

interface Pending {
  subject: JudgeSubject;
  result: JudgedCompletion;
  lastFailure: string | null;
}

export async function judgeCompletions(items: readonly JudgeItem[], policy: JudgePolicy, judges: CascadeJudges, opts: CascadeOptions = {}): Promise<JudgedCompletion[]> {
  const tiers = tiersOf(policy);
  for (const t of tiers) if (!judges[t]) throw new Error(`policy ${policy} needs the ${t} judge`);
  const done: JudgedCompletion[] = [];
  const finish = (p: Pending): void => {
    done.push(p.result);
    opts.onJudged?.(p.result);
  };

  let pending: Pending[] = items.map((item, index) => ({
    subject: prepare(item),
    result: { index, item, verdict: null, failure: null, cached: false, trail: [] },
    lastFailure: null,
  }));

  for (const [ti, tier] of tiers.entries()) {
    const last = ti === tiers.length - 1;
    const next: Pending[] = [];
    const accept = (p: Pending, v: JudgeVerdict, cached: boolean): void => {
      p.result.trail.push(v);
      p.result.verdict = v;
      p.result.cached = cached;
      p.lastFailure = null;
      // A completion without an answer is unparseable for every tier: asking a model costs money for nothing.
      if (v.aligns !== null || last || !p.subject.hasAnswer) finish(p);
      else next.push(p);
    };
    const reject = (p: Pending, reason: string): void => {
      p.lastFailure = `${tier}: ${reason}`;
      if (!last) return void next.push(p);
      // Only uncertain verdicts escalate, so a failed last tier leaves no verdict: the completion failed.
      p.result.verdict = null;
      p.result.cached = false;
      p.result.failure = p.lastFailure;
      finish(p);
    };

    if (tier === 'rules') {
      const rules = judges.rules!;
      for (const p of pending) {
        const cachedV = opts.cache?.get(verdictKey(p.subject, 'rules', rules.model, rules.promptHash));
        const v = cachedV ?? rules.judge(p.subject);
        // Stored at this completion's step (a cached verdict found at a new step adds that step).
        opts.cache?.put(verdictAtStep(v, p.subject.step));
        accept(p, v, !!cachedV);
      }
    } else {
      const judge = judges[tier]!;
      // One request per distinct content: duplicates in the run wait for the first one.
      const byKey = new Map<string, Pending[]>();
      for (const p of pending) {
        if (!p.subject.hasAnswer) {
          accept(p, p.result.verdict ?? (judges.rules ?? new RulesJudge()).judge(p.subject), p.result.cached);
          continue;
        }
        const key = verdictKey(p.subject, tier, judge.model, judge.promptHash);
        const hit = opts.cache?.get(key);
        if (hit) {
          opts.cache?.put(verdictAtStep(hit, p.subject.step));
          accept(p, hit, true);
        }
        else byKey.set(key, [...(byKey.get(key) ?? []), p]);
      }
      const groups = [...byKey.values()];
      if (groups.length > 0) {
        await judge.judgeAll(
          groups.map((g) => g[0]!.subject),
          {
            ...(opts.signal ? { signal: opts.signal } : {}),
            onOutcome: (o, i) => {
              const g = groups[i]!;
              if (isFailure(o)) {
                for (const p of g) reject(p, o.reason);
                return;
              }
              for (const p of g) opts.cache?.put(verdictAtStep(o, p.subject.step));
              g.forEach((p, j) => accept(p, o, j > 0));
            },
          },
        );
      }
    }
    pending = next;
    if (pending.length === 0) break;
  }
  return done.sort((a, b) => a.index - b.index);
}

export function summarize(results: readonly JudgedCompletion[]): CascadeSummary {
  const s: CascadeSummary = { judged: 0, aligned: 0, misaligned: 0, unparseable: 0, failed: 0, cached: 0 };
  for (const r of results) {
    if (r.cached) s.cached++;
    if (!r.verdict) {
      s.failed++;
      continue;
    }
    s.judged++;
    if (r.verdict.aligns === true) s.aligned++;
    else if (r.verdict.aligns === false) s.misaligned++;
    else s.unparseable++;
  }
  return s;
}
