/**
 * The OpenAI Batch API for large judge runs (about half the price, results within the
 * completion window): upload the requests as a JSONL file, create a batch, poll it, download
 * the output file and read each line back into a verdict.
 */
import { toFile } from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { JudgeRunOptions, LlmJudge, PreparedItem } from './llm';
import { parseJudgeReply } from './prompt';
import { sleep } from './retry';
import { makeVerdict, type JudgeOutcome } from './verdict';

export interface BatchJudgeOptions extends JudgeRunOptions {
  /** Wait between polls of the batch status. */
  pollMs?: number;
  /** Called with each status the server reports (validating, in_progress, …). */
  onStatus?: (status: string, batchId: string) => void;
}

const DONE = new Set(['completed', 'failed', 'expired', 'cancelled']);

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Judge `items` through one batch. Never throws for a per-item problem: those become failures. */
export async function judgeWithBatchApi(judge: LlmJudge, items: readonly PreparedItem[], opts: BatchJudgeOptions = {}): Promise<JudgeOutcome[]> {
  const fail = (reason: string): JudgeOutcome => ({ failed: true, tier: 'llm', model: judge.model, reason: judge.redact(reason) });
  const finish = (out: JudgeOutcome[]): JudgeOutcome[] => {
    out.forEach((o, i) => opts.onOutcome?.(o, i));
    return out;
  };
  if (items.length === 0) return [];
  const api = judge.api;
  // custom_id is the position: two identical completions still get one line each.
  const lines = items.map((it, i) => JSON.stringify({ custom_id: `item-${i}`, method: 'POST', url: '/v1/chat/completions', body: judge.requestBody(it.input, judge.mode) }));
  let batchId: string;
  try {
    const file = await api.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'judge-batch.jsonl'), purpose: 'batch' });
    const batch = await api.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    batchId = batch.id;
    opts.onStatus?.(batch.status, batchId);
  } catch (e) {
    return finish(items.map(() => fail(`batch upload failed: ${(e as Error).message.slice(0, 200)}`)));
  }

  let status = '';
  let outputFileId: string | null | undefined = null;
  let errorFileId: string | null | undefined = null;
  while (!DONE.has(status)) {
    try {
      await sleep(opts.pollMs ?? 10_000, opts.signal);
    } catch {
      await api.batches.cancel(batchId).catch(() => undefined);
      return finish(items.map(() => fail('cancelled')));
    }
    const b = await api.batches.retrieve(batchId).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    if (b instanceof Error) continue; // a failed poll is tried again at the next tick
    if (b.status !== status) opts.onStatus?.(b.status, batchId);
    status = b.status;
    outputFileId = b.output_file_id;
    errorFileId = b.error_file_id;
  }

  const results = new Map<string, JudgeOutcome>();
  for (const fileId of [outputFileId, errorFileId]) {
    if (!fileId) continue;
    const text = await (await api.files.content(fileId)).text();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        continue;
      }
      if (!isObj(raw) || typeof raw.custom_id !== 'string') continue;
      const index = Number(raw.custom_id.replace(/^item-/, ''));
      const item = items[index];
      if (!item) continue;
      results.set(raw.custom_id, readLine(raw, item, judge));
    }
  }
  return finish(items.map((_it, i) => results.get(`item-${i}`) ?? fail(`batch ${batchId} ended ${status} without a result for this item`)));
}

function readLine(raw: Record<string, unknown>, item: PreparedItem, judge: LlmJudge): JudgeOutcome {
  const fail = (reason: string): JudgeOutcome => ({ failed: true, tier: 'llm', model: judge.model, reason: judge.redact(reason) });
  const response = raw.response;
  if (isObj(raw.error)) return fail(`batch error: ${String(raw.error.message ?? raw.error.code ?? 'unknown')}`);
  if (!isObj(response) || response.status_code !== 200 || !isObj(response.body)) {
    return fail(`batch item answered HTTP ${isObj(response) ? String(response.status_code) : '?'}`);
  }
  const body = response.body as unknown as ChatCompletion;
  judge.meter.add(body.usage);
  const message = body.choices?.[0]?.message;
  if (!message) return fail('the batch reply has no message');
  if (message.refusal) return fail(`the judge refused: ${message.refusal.slice(0, 200)}`);
  const parsed = parseJudgeReply(message.content ?? '');
  if (!parsed.ok) return fail(parsed.error);
  return makeVerdict(item, parsed.reply, { tier: 'llm', model: judge.model, promptHash: judge.promptHash });
}

/** The Batch API as a cascade tier: same model and prompt, so its verdicts share cache keys with live calls. */
export class BatchLlmJudge {
  readonly tier = 'llm' as const;
  constructor(
    readonly inner: LlmJudge,
    private readonly opts: Omit<BatchJudgeOptions, keyof JudgeRunOptions> = {},
  ) {}

  get model(): string {
    return this.inner.model;
  }

  get promptHash(): string {
    return this.inner.promptHash;
  }

  judgeAll(items: readonly PreparedItem[], run: JudgeRunOptions = {}): Promise<JudgeOutcome[]> {
    return judgeWithBatchApi(this.inner, items, { ...this.opts, ...run });
  }
}
