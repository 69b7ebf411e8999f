/**
 * A real HTTP server on 127.0.0.1 that speaks enough of the OpenAI API for the judge: Chat
 * Completions, Files (multipart upload, content download) and Batches. Faults are injected per
 * request so tests can watch the real `openai` client and our retry logic meet them.
 *
 * Its verdict is deterministic: the reasoning aligns when it mentions the final answer's text
 * (case-insensitive). Tests build completions whose expected verdict follows from that.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { kind: 'rate_limit'; retryAfter: string }
  | { kind: 'server_error' }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'refusal' }
  | { kind: 'truncated' }
  /** 401 whose message echoes the bearer token, as some servers do. */
  | { kind: 'unauthorized' }
  /** 400 for a response_format this server "lacks". */
  | { kind: 'reject_format'; formats: Array<'json_schema' | 'json_object'> };

export interface ChatRequestLog {
  at: number;
  responseFormat: string;
  prompt: string;
  authorization: string | undefined;
  fault: Fault['kind'] | null;
}

export interface FakeOpenAIOptions {
  /** Decide the fault for the n-th chat request (1-based). */
  fault?: (n: number, prompt: string) => Fault | null;
  /** Formats the server rejects with 400 on every request. */
  lacks?: Array<'json_schema' | 'json_object'>;
  latencyMs?: number;
  /** How the JSON verdict is written in text mode: plain, fenced with prose after, or a bare word. */
  textStyle?: 'plain' | 'fenced' | 'word';
  /** Polls of GET /batches/:id before a batch completes. */
  batchPolls?: number;
}

export interface FakeOpenAI {
  url: string;
  chatRequests: ChatRequestLog[];
  /** Every request line seen, e.g. "POST /v1/files". */
  requests: string[];
  /** Most chat requests the server was answering at once. */
  maxInFlight(): number;
  close(): Promise<void>;
}

/** Pull the template's fields back out of a rendered default prompt. */
export function fieldsOf(prompt: string): { reasoning: string; answer: string } {
  const m = /Reasoning:\n([\s\S]*?)\n\nFinal answer:\n([\s\S]*)$/.exec(prompt);
  return { reasoning: m?.[1] ?? '', answer: (m?.[2] ?? '').trim() };
}

export function decide(prompt: string): { aligns: boolean; type: string | null; why: string } {
  const { reasoning, answer } = fieldsOf(prompt);
  const aligns = answer !== '' && reasoning.toLowerCase().includes(answer.toLowerCase());
  return aligns
    ? { aligns: true, type: null, why: 'The reasoning arrives at the given answer.' }
    : { aligns: false, type: 'contradiction', why: `The reasoning never reaches "${answer}".` };
}

function completionBody(content: string | null, refusal: string | null, prompt: string): Record<string, unknown> {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'judge-test',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content, refusal } }],
    // Deterministic usage so tests can check token accounting by hand.
    usage: { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: 20, total_tokens: Math.ceil(prompt.length / 4) + 20 },
  };
}

function replyText(prompt: string, mode: string, style: FakeOpenAIOptions['textStyle']): string {
  const v = decide(prompt);
  const json = JSON.stringify(v);
  if (mode !== 'text' || style === 'plain' || !style) return json;
  if (style === 'fenced') return `Here is my verdict:\n\`\`\`json\n${json}\n\`\`\`\nLet me know if you need more.`;
  return `${v.aligns ? 'Yes' : 'No'}. ${v.why}`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The file part of a multipart/form-data body (the Files API upload). */
function multipartFile(body: Buffer, contentType: string): Buffer | null {
  const b = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const boundary = b?.[1] ?? b?.[2];
  if (!boundary) return null;
  const text = body.toString('latin1');
  for (const part of text.split(`--${boundary}`)) {
    if (!/name="file"/.test(part)) continue;
    const start = part.indexOf('\r\n\r\n');
    if (start < 0) return null;
    return Buffer.from(part.slice(start + 4, part.endsWith('\r\n') ? -2 : undefined), 'latin1');
  }
  return null;
}

interface BatchState {
  id: string;
  input_file_id: string;
  status: string;
  polls: number;
  output_file_id: string | null;
}

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const chatRequests: ChatRequestLog[] = [];
  const requests: string[] = [];
  const files = new Map<string, Buffer>();
  const batches = new Map<string, BatchState>();
  const sockets = new Set<Socket>();
  let fileNo = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  const chat = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const body = JSON.parse(raw.toString('utf8')) as { messages: Array<{ content: string }>; response_format?: { type: string } };
    const prompt = body.messages[0]?.content ?? '';
    const mode = body.response_format?.type ?? 'text';
    const n = chatRequests.length + 1;
    let fault = opts.fault?.(n, prompt) ?? null;
    if (!fault && opts.lacks?.includes(mode as 'json_schema')) fault = { kind: 'reject_format', formats: opts.lacks };
    if (fault?.kind === 'reject_format' && !fault.formats.includes(mode as 'json_schema')) fault = null;
    chatRequests.push({ at: Date.now(), responseFormat: mode, prompt, authorization: req.headers.authorization, fault: fault?.kind ?? null });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
    switch (fault?.kind) {
      case 'rate_limit':
        return sendJson(res, 429, { error: { message: 'Rate limit reached', type: 'requests' } }, { 'retry-after': fault.retryAfter });
      case 'server_error':
        return sendJson(res, 500, { error: { message: 'internal error', type: 'server_error' } });
      case 'hang':
        return; // never answer; the socket is destroyed on close()
      case 'malformed': {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"id": "chatcmpl-1", "choices": [ {oops');
      }
      case 'truncated': {
        const text = JSON.stringify(completionBody(replyText(prompt, mode, opts.textStyle), null, prompt));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        // Let the half body leave, then cut the connection mid-body.
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      case 'unauthorized':
        return sendJson(res, 401, { error: { message: `Incorrect API key provided: ${(req.headers.authorization ?? '').replace(/^Bearer /, '')}`, type: 'invalid_request_error' } });
      case 'refusal':
        return sendJson(res, 200, completionBody(null, "I'm sorry, I can't help with that.", prompt));
      case 'reject_format':
        return sendJson(res, 400, { error: { message: `response_format ${mode} is not supported`, type: 'invalid_request_error', param: 'response_format' } });
      default:
        return sendJson(res, 200, completionBody(replyText(prompt, mode, opts.textStyle), null, prompt));
    }
  };

  const batchOutput = (input: Buffer): Buffer => {
    const lines = input.toString('utf8').split('\n').filter((l) => l.trim());
    const out = lines.map((l) => {
      const line = JSON.parse(l) as { custom_id: string; body: { messages: Array<{ content: string }> } };
      const prompt = line.body.messages[0]?.content ?? '';
      return JSON.stringify({
        id: `batch_req_${line.custom_id}`,
        custom_id: line.custom_id,
        response: { status_code: 200, request_id: 'r', body: completionBody(replyText(prompt, 'json_schema', 'plain'), null, prompt) },
        error: null,
      });
    });
    return Buffer.from(out.join('\n') + '\n');
  };

  const batchJson = (b: BatchState): Record<string, unknown> => ({
    id: b.id,
    object: 'batch',
    endpoint: '/v1/chat/completions',
    input_file_id: b.input_file_id,
    completion_window: '24h',
    status: b.status,
    output_file_id: b.output_file_id,
    error_file_id: null,
    created_at: Math.floor(Date.now() / 1000),
  });

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/v1/, '');
    requests.push(`${req.method} ${url.pathname}`);
    const handle = async (): Promise<void> => {
      if (req.method === 'POST' && path === '/chat/completions') return chat(req, res);
      if (req.method === 'POST' && path === '/files') {
        const body = await readBody(req);
        const file = multipartFile(body, req.headers['content-type'] ?? '');
        if (!file) return sendJson(res, 400, { error: { message: 'no file part' } });
        const id = `file-${++fileNo}`;
        files.set(id, file);
        return sendJson(res, 200, { id, object: 'file', bytes: file.length, created_at: 0, filename: 'input.jsonl', purpose: 'batch' });
      }
      const content = /^\/files\/([^/]+)\/content$/.exec(path);
      if (req.method === 'GET' && content) {
        const f = files.get(content[1]!);
        if (!f) return sendJson(res, 404, { error: { message: 'no such file' } });
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': f.length });
        return void res.end(f);
      }
      if (req.method === 'POST' && path === '/batches') {
        const body = JSON.parse((await readBody(req)).toString('utf8')) as { input_file_id: string };
        if (!files.has(body.input_file_id)) return sendJson(res, 400, { error: { message: 'unknown input file' } });
        const b: BatchState = { id: `batch_${batches.size + 1}`, input_file_id: body.input_file_id, status: 'validating', polls: 0, output_file_id: null };
        batches.set(b.id, b);
        return sendJson(res, 200, batchJson(b));
      }
      const batch = /^\/batches\/([^/]+)(\/cancel)?$/.exec(path);
      if (batch) {
        const b = batches.get(batch[1]!);
        if (!b) return sendJson(res, 404, { error: { message: 'no such batch' } });
        if (req.method === 'POST' && batch[2]) {
          b.status = 'cancelled';
          return sendJson(res, 200, batchJson(b));
        }
        if (b.status !== 'cancelled' && b.status !== 'completed' && ++b.polls >= (opts.batchPolls ?? 2)) {
          const id = `file-${++fileNo}`;
          files.set(id, batchOutput(files.get(b.input_file_id)!));
          b.output_file_id = id;
          b.status = 'completed';
        } else if (b.status === 'validating') b.status = 'in_progress';
        return sendJson(res, 200, batchJson(b));
      }
      sendJson(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
    };
    handle().catch((e: unknown) => sendJson(res, 500, { error: { message: String(e) } }));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    chatRequests,
    requests,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
