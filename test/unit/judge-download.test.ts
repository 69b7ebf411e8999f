/**
 * The local model download against a real HTTP server on loopback laid out like the hub
 * (`/<repo>/resolve/<rev>/<path>`, the weights behind a redirect as LFS files are), serving the
 * tiny NLI model built in the test. Failures of every kind leave no folder where the judge looks.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadModel, modelDownloadSize, modelFiles, modelFolderName } from '../../src/core/judge/local/download';
import { LocalJudge } from '../../src/core/judge/local/judge';
import { prepare } from '../../src/core/judge/input';
import { isFailure } from '../../src/core/judge/verdict';
import { modelFolder } from '../support/tinyNli';

const REPO = 'tiny/nli-test';
const tiny = modelFolder(false);
const FILES: Record<string, Buffer> = {
  'config.json': readFileSync(join(tiny, 'config.json')),
  'tokenizer.json': readFileSync(join(tiny, 'tokenizer.json')),
  'onnx/model.onnx': readFileSync(join(tiny, 'model.onnx')),
};

/** What the server does to a path: serve it, 404 it, cut it short, or stall it. */
const faults = new Map<string, 'missing' | 'cut' | 'stall' | 'bad-config'>();
const seen: string[] = [];

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  seen.push(`${req.method} ${url.pathname}`);
  const send = (status: number, body: Buffer | string, headers: Record<string, string> = {}, res2: ServerResponse = res) => {
    res2.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
    res2.end(req.method === 'HEAD' ? undefined : body);
  };
  // LFS weights: the hub redirects to a CDN path, which serves the bytes.
  if (url.pathname.startsWith('/cdn/')) {
    const file = decodeURIComponent(url.pathname.slice('/cdn/'.length));
    const body = FILES[file]!;
    const fault = faults.get(file);
    if (fault === 'cut') {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    if (fault === 'stall') {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, 10)); // and never the rest
      return;
    }
    return send(200, body);
  }
  const prefix = `/${REPO}/resolve/main/`;
  if (!url.pathname.startsWith(prefix)) return send(404, 'not found');
  const file = decodeURIComponent(url.pathname.slice(prefix.length));
  if (!(file in FILES) || faults.get(file) === 'missing') return send(404, 'Entry not found');
  if (file === 'config.json' && faults.get(file) === 'bad-config') return send(200, JSON.stringify({ architectures: ['X'] }));
  if (file.endsWith('.onnx')) {
    res.writeHead(302, { location: `/cdn/${encodeURIComponent(file)}`, 'x-linked-size': String(FILES[file]!.length), 'content-length': '0' });
    return res.end();
  }
  send(200, FILES[file]!);
});
let baseUrl = '';
before(async () => {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const newRoot = () => mkdtempSync(join(tmpdir(), 'grpo-models-'));
const entries = (root: string) => readdirSync(root).sort();

test('downloads config, tokenizer and weights (through a redirect) into a folder the local judge runs', async () => {
  faults.clear();
  const root = newRoot();
  const size = await modelDownloadSize({ repo: REPO, baseUrl });
  assert.equal(size, Object.values(FILES).reduce((a, b) => a + b.length, 0), 'HEAD sizes add up (x-linked-size for the weights)');
  const progress: number[] = [];
  const info = await downloadModel({ repo: REPO, baseUrl }, root, { onProgress: (p) => progress.push(p.bytes) });
  const dir = join(root, modelFolderName(REPO));
  assert.equal(info.dir, dir);
  assert.deepEqual(entries(root), [modelFolderName(REPO)], 'only the model folder, no partial left');
  assert.deepEqual(readFileSync(join(dir, 'model.onnx')), FILES['onnx/model.onnx']);
  assert.deepEqual(readFileSync(join(dir, 'tokenizer.json')), FILES['tokenizer.json']);
  assert.equal(progress.at(-1), size);
  assert.deepEqual(info.labels, ['contradiction', 'entailment', 'neutral']);

  // The downloaded folder runs through the real local tier.
  const judge = await LocalJudge.open({ dir });
  try {
    const [out] = await judge.judgeAll([prepare({ completion: '<think>the ball is red therefore b</think><answer>B</answer>', question: 'q' })]);
    assert.ok(out && !isFailure(out), JSON.stringify(out));
    assert.equal(out.aligns, true);
  } finally {
    await judge.close();
  }
});

test('a 404, a body cut short, a config that is no NLI model, and a cancel leave no folder behind', async () => {
  const cases: [string, 'missing' | 'cut' | 'bad-config', RegExp][] = [
    ['tokenizer.json', 'missing', /tokenizer\.json: HTTP 404/],
    ['onnx/model.onnx', 'cut', /model\.onnx|aborted|terminated|premature|got \d+ of \d+/i],
    ['config.json', 'bad-config', /config\.json has no id2label/],
  ];
  for (const [file, fault, message] of cases) {
    faults.clear();
    faults.set(file, fault);
    const root = newRoot();
    await assert.rejects(downloadModel({ repo: REPO, baseUrl }, root), message, `${fault} ${file}`);
    assert.deepEqual(entries(root), [], `${fault}: nothing left in the models folder`);
  }

  faults.clear();
  faults.set('onnx/model.onnx', 'stall');
  const root = newRoot();
  const ctl = new AbortController();
  const run = downloadModel({ repo: REPO, baseUrl }, root, {
    signal: ctl.signal,
    onProgress: (p) => {
      if (p.file === 'onnx/model.onnx') ctl.abort();
    },
  });
  await assert.rejects(run, /abort/i);
  assert.deepEqual(entries(root), [], 'cancelled: nothing left');
});

test('a failed download keeps the model that was there; a good one replaces it', async () => {
  const root = newRoot();
  const dir = join(root, modelFolderName(REPO));
  mkdirSync(dir);
  for (const [f, b] of Object.entries(FILES)) writeFileSync(join(dir, f.replace('onnx/', '')), b);
  writeFileSync(join(dir, 'marker'), 'old');
  faults.clear();
  faults.set('onnx/model.onnx', 'cut');
  await assert.rejects(downloadModel({ repo: REPO, baseUrl }, root));
  assert.ok(existsSync(join(dir, 'marker')), 'the old model is untouched');
  assert.deepEqual(entries(root), [modelFolderName(REPO)]);
  faults.clear();
  await downloadModel({ repo: REPO, baseUrl }, root);
  assert.ok(!existsSync(join(dir, 'marker')), 'replaced by the new download');
  assert.deepEqual(entries(root), [modelFolderName(REPO)]);
});

test('repository ids are checked before any request; URLs follow the hub layout', () => {
  for (const bad of ['../etc', 'a/../../b', 'noslash', '/abs/x', 'a/b/c']) assert.throws(() => modelFiles({ repo: bad }), /not a model repository id/);
  assert.deepEqual(modelFiles({ repo: 'Xenova/nli-deberta-v3-xsmall' }).map((f) => f.url), [
    'https://huggingface.co/Xenova/nli-deberta-v3-xsmall/resolve/main/config.json',
    'https://huggingface.co/Xenova/nli-deberta-v3-xsmall/resolve/main/tokenizer.json',
    'https://huggingface.co/Xenova/nli-deberta-v3-xsmall/resolve/main/onnx/model.onnx',
  ]);
});
