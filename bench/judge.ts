/**
 * Judge throughput benchmark (docs/judge.md: ≥ 90% of concurrency ÷ latency). A server that
 * answers every Chat Completions request after a fixed delay makes the ideal exact: with c
 * requests in flight, c ÷ latency per second. Whatever we lose below that is our overhead
 * (client, pool, parsing), which is what this measures.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LlmJudge, type PreparedItem } from '../src/core/judge/llm';

export interface JudgeBenchOptions {
  /** Concurrency levels to measure. */
  levels?: number[];
  /** Fixed server latency per request. */
  latencyMs?: number;
  /** Requests per level = level × rounds. */
  rounds?: number;
  /** An already running fixed-latency server; by default one is started on 127.0.0.1. */
  baseURL?: string;
}

export interface JudgeBenchRow {
  concurrency: number;
  requests: number;
  seconds: number;
  /** Completions judged per second. */
  throughput: number;
  /** concurrency ÷ latency. */
  ideal: number;
  /** throughput ÷ ideal; the target is ≥ 0.9. */
  ratio: number;
}

/** A Chat Completions server that answers every request with one aligned verdict after `latencyMs`. */
export async function startFixedLatencyServer(latencyMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const reply = JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 0,
    model: 'bench',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: '{"aligns":true,"type":null,"why":"ok"}', refusal: null } }],
    usage: { prompt_tokens: 100, completion_tokens: 12, total_tokens: 112 },
  });
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
        res.end(reply);
      }, latencyMs);
    });
  });
  // The default keep-alive pool must not be the bottleneck being measured.
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function benchJudgeThroughput(opts: JudgeBenchOptions = {}): Promise<JudgeBenchRow[]> {
  const levels = opts.levels ?? [1, 4, 16, 64];
  const latencyMs = opts.latencyMs ?? 500;
  const rounds = opts.rounds ?? 5;
  const own = opts.baseURL ? null : await startFixedLatencyServer(latencyMs);
  const baseURL = opts.baseURL ?? own!.url;
  const rows: JudgeBenchRow[] = [];
  try {
    for (const concurrency of levels) {
      const judge = new LlmJudge({ baseURL, model: 'bench', apiKey: 'bench', concurrency, retry: { maxRetries: 0 } });
      const items: PreparedItem[] = Array.from({ length: concurrency * rounds }, (_, i) => ({
        completion: `c${i}`,
        question: 'q',
        input: { question: 'Which object is left of the chair?', reasoning: `Step ${i}: the cup is left of the chair, so the answer is B.`, answer: 'B' },
      }));
      // One warm-up round opens the connections, as a long run would have them open.
      await judge.judgeAll(items.slice(0, concurrency));
      const t0 = performance.now();
      const out = await judge.judgeAll(items);
      const seconds = (performance.now() - t0) / 1000;
      const failed = out.filter((o) => 'failed' in o).length;
      if (failed > 0) throw new Error(`${failed} bench requests failed at concurrency ${concurrency}`);
      const throughput = items.length / seconds;
      const ideal = concurrency / (latencyMs / 1000);
      rows.push({ concurrency, requests: items.length, seconds, throughput, ideal, ratio: throughput / ideal });
    }
  } finally {
    await own?.close();
  }
  return rows;
}

/** The rows as a Markdown table for the bench report. */
export function benchTable(rows: readonly JudgeBenchRow[]): string {
  const head = '| concurrency | requests | seconds | judged/s | ideal/s | ratio |\n| --- | --- | --- | --- | --- | --- |';
  const body = rows.map((r) => `| ${r.concurrency} | ${r.requests} | ${r.seconds.toFixed(2)} | ${r.throughput.toFixed(1)} | ${r.ideal.toFixed(1)} | ${(r.ratio * 100).toFixed(1)}% |`);
  return [head, ...body].join('\n');
}
