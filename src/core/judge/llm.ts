/**
 * Tier 3: an LLM judge over any OpenAI-compatible Chat Completions server (OpenAI, Azure, vLLM,
 * Ollama, …). Retries, timeouts and the structured-output fallback are ours rather than the
 * client's so every attempt is counted and every failure keeps its reason. The API key is held
 * only inside the client object: it is never put into a message, a verdict or a log line.
 */
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { estimateCost, UsageMeter, type CostReport, type PriceTable } from './cost';
import { DEFAULT_JUDGE_TEMPLATE, VERDICT_SCHEMA, parseJudgeReply, renderPrompt, templateHash, type JudgeInput } from './prompt';
import { DEFAULT_RETRY, abortReason, parseRetryAfter, retryDelay, runPool, sleep, type RetryPolicy } from './retry';
import { makeVerdict, type JudgeItem, type JudgeOutcome } from './verdict';

/** How the reply is asked to be JSON; servers that reject one mode get the next. */
export type OutputMode = 'json_schema' | 'json_object' | 'text';
const MODES: readonly OutputMode[] = ['json_schema', 'json_object', 'text'];

export interface LlmJudgeOptions {
  baseURL: string;
  model: string;
  /** From SecretStorage or OPENAI_API_KEY; kept inside the client only. */
  apiKey: string;
  /** Editable template with {question} {reasoning} {answer}. */
  template?: string;
  concurrency?: number;
  /** Whole request, headers and body, per attempt. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  prices?: PriceTable;
  maxTokens?: number;
  /** Start in a lower mode for servers known to lack structured output. */
  outputMode?: OutputMode;
}

/** A completion ready for a judge: the split the chain parser made, plus where it came from. */
export interface PreparedItem extends JudgeItem {
  input: JudgeInput;
}

export interface JudgeRunOptions {
  signal?: AbortSignal;
  /** Called as each outcome is known, in completion order (for progress and the cache). */
  onOutcome?: (outcome: JudgeOutcome, index: number) => void;
}

class AttemptTimeout extends Error {}

export class LlmJudge {
  readonly tier = 'llm' as const;
  readonly model: string;
  readonly promptHash: string;
  readonly meter = new UsageMeter();
  /** HTTP requests sent, retries included: what a server would count. */
  requests = 0;
  retries = 0;
  mode: OutputMode;
  private readonly client: OpenAI;
  private readonly template: string;
  private readonly policy: RetryPolicy;

  constructor(private readonly opts: LlmJudgeOptions) {
    this.model = opts.model;
    this.template = opts.template ?? DEFAULT_JUDGE_TEMPLATE;
    this.promptHash = templateHash(this.template);
    this.policy = { ...DEFAULT_RETRY, ...opts.retry };
    this.mode = opts.outputMode ?? 'json_schema';
    this.client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, maxRetries: 0, logLevel: 'off' });
  }

  prompt(input: JudgeInput): string {
    return renderPrompt(this.template, input);
  }

  /** Before a run: tokens and dollars from character counts. */
  estimate(items: readonly PreparedItem[]): CostReport {
    return estimateCost(items.map((i) => this.prompt(i.input)), this.model, this.opts.prices);
  }

  /** After (or during) a run: tokens and dollars from the server's `usage`. */
  actual(): CostReport {
    return this.meter.report(this.model, this.opts.prices);
  }

  /** Chat Completions request body for one item in a given mode (also the Batch API line body). */
  requestBody(input: JudgeInput, mode: OutputMode): ChatCompletionCreateParamsNonStreaming {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: [{ role: 'user', content: this.prompt(input) }],
      temperature: 0,
      max_tokens: this.opts.maxTokens ?? 300,
    };
    if (mode === 'json_schema') {
      body.response_format = { type: 'json_schema', json_schema: { name: 'alignment_verdict', strict: true, schema: { ...VERDICT_SCHEMA } } };
    } else if (mode === 'json_object') body.response_format = { type: 'json_object' };
    return body;
  }

  async judgeAll(items: readonly PreparedItem[], run: JudgeRunOptions = {}): Promise<JudgeOutcome[]> {
    return runPool(items, this.opts.concurrency ?? 8, async (item, i) => {
      const o = await this.judge(item, run.signal);
      run.onOutcome?.(o, i);
      return o;
    });
  }

  /** One completion: a verdict, or a failure with its reason. Never throws. */
  async judge(item: PreparedItem, signal?: AbortSignal): Promise<JudgeOutcome> {
    const fail = (reason: string): JudgeOutcome => ({ failed: true, tier: 'llm', model: this.model, reason: this.redact(reason) });
    let attempt = 0;
    for (;;) {
      if (signal?.aborted) return fail('cancelled');
      const mode = this.mode;
      let completion: ChatCompletion;
      try {
        completion = await this.send(item.input, mode, signal);
      } catch (e) {
        if (signal?.aborted) return fail('cancelled');
        const status = e instanceof OpenAI.APIError ? e.status : undefined;
        if (status === 400 && mode !== 'text') {
          // The server rejects this response_format: step down once for everyone.
          const lower = MODES[MODES.indexOf(mode) + 1]!;
          if (MODES.indexOf(this.mode) < MODES.indexOf(lower)) this.mode = lower;
          continue;
        }
        const reason = describeError(e);
        if (!isRetryable(e) || attempt >= this.policy.maxRetries) {
          return fail(attempt > 0 ? `${reason} (after ${attempt + 1} attempts)` : reason);
        }
        const headers = e instanceof OpenAI.APIError ? e.headers : undefined;
        const wait = retryDelay(attempt, this.policy, parseRetryAfter(headers?.get('retry-after')));
        attempt++;
        this.retries++;
        try {
          await sleep(wait, signal);
        } catch {
          return fail('cancelled');
        }
        continue;
      }
      this.meter.add(completion.usage);
      const choice = completion.choices?.[0];
      const message = choice?.message;
      if (!message) return fail('the server replied without a message');
      if (message.refusal) return fail(`the judge refused: ${message.refusal.slice(0, 200)}`);
      const parsed = parseJudgeReply(message.content ?? '');
      if (!parsed.ok) return fail(choice.finish_reason === 'length' ? `reply cut off at max_tokens; ${parsed.error}` : parsed.error);
      return makeVerdict(item, parsed.reply, { tier: 'llm', model: this.model, promptHash: this.promptHash });
    }
  }

  private async send(input: JudgeInput, mode: OutputMode, signal?: AbortSignal): Promise<ChatCompletion> {
    this.requests++;
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    const timer = new AbortController();
    const t = setTimeout(() => timer.abort(new AttemptTimeout(`no complete reply within ${timeoutMs} ms`)), timeoutMs);
    // Our own timer covers the body too; the client's timeout stops at the headers.
    const both = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
    try {
      return await this.client.chat.completions.create(this.requestBody(input, mode), { signal: both, timeout: timeoutMs + 1000 });
    } catch (e) {
      if (timer.signal.aborted && !signal?.aborted) throw abortReason(timer.signal);
      throw e;
    } finally {
      clearTimeout(t);
    }
  }

  /** Some servers echo the key in a 401 message: it must not reach a verdict, a file or a log. */
  redact(text: string): string {
    const key = this.opts.apiKey;
    return key.length >= 4 ? text.split(key).join('[api key]') : text;
  }

  /** The client, for the Batch API module (same base URL and key). */
  get api(): OpenAI {
    return this.client;
  }
}

function isRetryable(e: unknown): boolean {
  if (e instanceof AttemptTimeout) return true;
  if (e instanceof OpenAI.APIError) {
    const s = e.status;
    if (s === undefined) return true; // connection error: nothing reached the server's logic
    return s === 408 || s === 409 || s === 429 || s >= 500;
  }
  // A 200 whose body is not JSON, or a body cut off mid-way: the server may do better next time.
  return e instanceof SyntaxError || e instanceof TypeError;
}

function describeError(e: unknown): string {
  if (e instanceof AttemptTimeout) return `timeout: ${e.message}`;
  if (e instanceof OpenAI.APIError) {
    if (e.status === undefined) return `connection error: ${e.message}`;
    return `HTTP ${e.status}: ${e.message.slice(0, 200)}`;
  }
  if (e instanceof SyntaxError) return `malformed reply body: ${e.message.slice(0, 120)}`;
  // undici reports a body cut off mid-way as TypeError("terminated").
  if (e instanceof TypeError) return `connection cut mid-reply: ${e.message.slice(0, 120)}`;
  if (e instanceof Error) return `${e.name}: ${e.message.slice(0, 200)}`;
  return String(e);
}
