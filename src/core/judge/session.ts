/**
 * What every caller of the judge does around `judgeCompletions`: turn records into items, open the
 * tiers a policy needs (and close them), and add the LLM's usage to the cascade's summary. The
 * CLI and the extension both go through here, so they judge (and key the cache) the same way.
 */
import type { RolloutRecord } from '../schema/record';
import { completionText } from '../schema/record';
import { BatchLlmJudge } from './batch';
import { tiersOf, type CascadeJudges, type CascadeSummary, type JudgePolicy, type JudgedCompletion } from './cascade';
import { summarize } from './cascade';
import { LlmJudge } from './llm';
import { LocalJudge } from './local/judge';
import { RulesJudge } from './rules';
import type { VerdictCacheLike } from './caches';
import type { CostReport } from './cost';
import { prepare } from './input';
import { verdictKey, type JudgeItem } from './verdict';

/** The text a judge reads from a record: its completion and question (the cache key's content). */
export function judgeItemOf(record: RolloutRecord, where: { line?: number; group?: string } = {}): JudgeItem {
  return { completion: completionText(record), question: record.prompt?.text ?? '', step: record.step ?? null, ...where };
}

export interface JudgeSetup {
  policy: JudgePolicy;
  /** For the llm tier: an OpenAI-compatible server. */
  llm?: {
    baseURL: string;
    model: string;
    /** Held by the client object only; never logged or stored. */
    apiKey: string;
    concurrency?: number;
    timeoutMs?: number;
    template?: string;
    prices?: Record<string, { input: number; output: number }>;
    /** Send the requests through the Batch API. */
    batch?: { pollMs: number; onStatus?: (status: string, id: string) => void };
  };
  /** For the local tier: the ONNX model folder. */
  localModelDir?: string;
}

export interface OpenJudges {
  judges: CascadeJudges;
  llm: LlmJudge | undefined;
  local: LocalJudge | undefined;
  close(): Promise<void>;
}

/** Opens the judges `setup.policy` names; throws with a clear message when one lacks its setting. */
export async function openJudges(setup: JudgeSetup): Promise<OpenJudges> {
  const tiers = tiersOf(setup.policy);
  const judges: CascadeJudges = {};
  let llm: LlmJudge | undefined;
  let local: LocalJudge | undefined;
  if (tiers.includes('rules')) judges.rules = new RulesJudge();
  if (tiers.includes('local')) {
    if (!setup.localModelDir) throw new Error(`policy ${setup.policy} needs a local model folder`);
    judges.local = local = await LocalJudge.open({ dir: setup.localModelDir });
  }
  if (tiers.includes('llm')) {
    const o = setup.llm;
    if (!o) {
      await local?.close();
      throw new Error(`policy ${setup.policy} needs an LLM server and key`);
    }
    llm = new LlmJudge({
      baseURL: o.baseURL,
      model: o.model,
      apiKey: o.apiKey,
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.template ? { template: o.template } : {}),
      ...(o.prices ? { prices: o.prices } : {}),
    });
    judges.llm = o.batch ? new BatchLlmJudge(llm, { pollMs: o.batch.pollMs, ...(o.batch.onStatus ? { onStatus: o.batch.onStatus } : {}) }) : llm;
  }
  return { judges, llm, local, close: async () => { await local?.close(); } };
}

/**
 * Before a run, the most the LLM tier can cost: every completion with an answer that the cache
 * cannot already answer (earlier tiers may settle some of them first).
 */
export interface LlmEstimate extends CostReport {
  completions: number;
}

export function llmEstimate(llm: LlmJudge, items: readonly JudgeItem[], cache: Pick<VerdictCacheLike, 'get'>): LlmEstimate {
  const uncached = items.map(prepare).filter((s) => s.hasAnswer && !cache.get(verdictKey(s, 'llm', llm.model, llm.promptHash)));
  return { completions: uncached.length, ...llm.estimate(uncached) };
}

/** Estimates of several files added up (dollars only when every part has a price). */
export function sumEstimates(parts: readonly LlmEstimate[]): LlmEstimate {
  return parts.reduce<LlmEstimate>(
    (a, b) => ({
      completions: a.completions + b.completions,
      promptTokens: a.promptTokens + b.promptTokens,
      completionTokens: a.completionTokens + b.completionTokens,
      dollars: a.dollars === null || b.dollars === null ? null : a.dollars + b.dollars,
    }),
    { completions: 0, promptTokens: 0, completionTokens: 0, dollars: 0 },
  );
}

export function estimateLine(e: LlmEstimate): string {
  return `${e.completions} completions, ~${e.promptTokens} prompt + ~${e.completionTokens} completion tokens${e.dollars === null ? '' : `, ~$${e.dollars.toFixed(4)}`}`;
}

/** The cascade's counts plus what the LLM used (the CLI's `--json` summary and the extension's totals). */
export interface JudgeTotals extends CascadeSummary {
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  dollars: number | null;
}

export function judgeTotals(results: readonly JudgedCompletion[], llm: LlmJudge | undefined): JudgeTotals {
  const used = llm?.actual();
  return {
    ...summarize(results),
    calls: llm?.requests ?? 0,
    prompt_tokens: used?.promptTokens ?? 0,
    completion_tokens: used?.completionTokens ?? 0,
    dollars: used?.dollars ?? null,
  };
}

/** One line for people: the CLI's stderr and the extension's notification. */
export function totalsLine(t: JudgeTotals): string {
  const tokens = t.calls > 0 || t.prompt_tokens > 0 ? `; ${t.calls} LLM calls, ${t.prompt_tokens + t.completion_tokens} tokens${t.dollars === null ? '' : ` ($${t.dollars.toFixed(4)})`}` : '';
  return `judged ${t.judged}: ${t.aligned} aligned, ${t.misaligned} misaligned, ${t.unparseable} uncertain or unparseable; ${t.failed} failed; ${t.cached} from cache${tokens}`;
}
