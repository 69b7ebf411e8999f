/**
 * Tokens and money for an LLM judge run: an estimate before (from character counts, since no
 * tokenizer for an arbitrary server model is at hand) and the actual after (from `usage`).
 */

/** US dollars per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

export type PriceTable = Record<string, ModelPrice>;

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface CostReport extends TokenUsage {
  /** Null when the model has no price in the table. */
  dollars: number | null;
}

/** English prose averages about four characters per token in GPT-style BPE vocabularies. */
export const CHARS_PER_TOKEN = 4;
/** A one-sentence JSON verdict is about this long. */
export const REPLY_TOKENS_ESTIMATE = 60;

export function priceOf(usage: TokenUsage, model: string, prices: PriceTable | undefined): CostReport {
  const p = prices?.[model];
  const dollars = p ? (usage.promptTokens * p.input + usage.completionTokens * p.output) / 1e6 : null;
  return { ...usage, dollars };
}

/** Estimate for prompts about to be sent (the rendered prompt texts). */
export function estimateCost(prompts: readonly string[], model: string, prices?: PriceTable): CostReport {
  let promptTokens = 0;
  for (const p of prompts) promptTokens += Math.ceil(p.length / CHARS_PER_TOKEN);
  return priceOf({ promptTokens, completionTokens: prompts.length * REPLY_TOKENS_ESTIMATE }, model, prices);
}

/** Accumulates usage as replies arrive. */
export class UsageMeter {
  promptTokens = 0;
  completionTokens = 0;
  calls = 0;

  add(u: { prompt_tokens?: number; completion_tokens?: number } | null | undefined): void {
    this.calls++;
    this.promptTokens += u?.prompt_tokens ?? 0;
    this.completionTokens += u?.completion_tokens ?? 0;
  }

  report(model: string, prices?: PriceTable): CostReport {
    return priceOf({ promptTokens: this.promptTokens, completionTokens: this.completionTokens }, model, prices);
  }
}
