/**
 * Worker thread of the local NLI tier: tokenizes (premise, hypothesis) pairs and runs the ONNX
 * model on a padded batch, off the extension host's event loop. Bundled as its own entry
 * (dist/nli-worker.js) because a worker needs a file of its own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Tokenizer } from '@huggingface/tokenizers';
import type * as Ort from 'onnxruntime-node';
import type { NliReply, NliRequest, NliWorkerData } from './nli';

/** Platforms whose VSIX carries the ONNX runtime's binaries (scripts/package-targets.sh). */
const LOCAL_TIER_TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64'] as const;

/**
 * The ONNX runtime, loaded when the tier is first asked for (not at import): the universal VSIX
 * (and a platform onnxruntime-node has no binaries for, such as darwin-x64) leaves it out, and
 * that must read as such rather than as a crash of the worker.
 */
function loadOnnxRuntime(): typeof Ort {
  try {
    return require('onnxruntime-node') as typeof Ort;
  } catch (e) {
    const here = `${process.platform}-${process.arch}`;
    throw new Error(
      `the local judge tier is not available in this build: its ONNX runtime (onnxruntime-node) for ${here} is not installed `
      + `(the universal VSIX and platforms without onnxruntime binaries leave it out). Install the GRPO Studio VSIX for your platform `
      + `(${LOCAL_TIER_TARGETS.join(', ')}), or use the rules or LLM tier (grpoStudio.judge.policy, grpo-studio judge --tier). `
      + `Loading it said: ${(e as Error).message.split('\n')[0]}`,
    );
  }
}

interface PairEncoding {
  ids: number[];
  mask: number[];
  types: number[];
}

function loadTokenizer(dir: string): Tokenizer {
  const json: unknown = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  const cfgPath = join(dir, 'tokenizer_config.json');
  const config: unknown = existsSync(cfgPath) ? JSON.parse(readFileSync(cfgPath, 'utf8')) : {};
  return new Tokenizer(json as object, config as object);
}

function padId(tok: Tokenizer): number {
  return tok.token_to_id('[PAD]') ?? tok.token_to_id('<pad>') ?? 0;
}

/** Encode a pair within maxLength by dropping the START of the premise: reasoning concludes at its end. */
function encodePair(tok: Tokenizer, premise: string, hypothesis: string, maxLength: number): PairEncoding {
  let p = premise;
  for (let i = 0; i < 8; i++) {
    const e = tok.encode(p, { text_pair: hypothesis, return_token_type_ids: true });
    if (e.ids.length <= maxLength || p === '') {
      return { ids: e.ids.slice(0, maxLength), mask: e.attention_mask.slice(0, maxLength), types: e.token_type_ids.slice(0, maxLength) };
    }
    const premiseTokens = Math.max(1, tok.encode(p, { add_special_tokens: false }).ids.length);
    const keep = Math.max(0, 1 - (e.ids.length - maxLength + 4) / premiseTokens);
    p = keep <= 0 ? '' : p.slice(Math.floor(p.length * (1 - keep)));
  }
  return encodePair(tok, '', hypothesis, maxLength);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const data = workerData as NliWorkerData;
  let ort: typeof Ort;
  try {
    ort = loadOnnxRuntime();
  } catch (e) {
    port.postMessage({ id: -1, ok: false, error: (e as Error).message } satisfies NliReply);
    return;
  }
  let session: Ort.InferenceSession;
  let tok: Tokenizer;
  try {
    tok = loadTokenizer(data.dir);
    session = await ort.InferenceSession.create(join(data.dir, 'model.onnx'), {
      executionProviders: ['cpu'],
      intraOpNumThreads: data.threads,
      interOpNumThreads: 1,
    });
  } catch (e) {
    port.postMessage({ id: -1, ok: false, error: `cannot load the local model: ${(e as Error).message}` } satisfies NliReply);
    return;
  }
  const pad = padId(tok);
  const wantsTypes = session.inputNames.includes('token_type_ids');
  port.postMessage({ id: 0, ok: true, logits: [] } satisfies NliReply);

  port.on('message', (req: NliRequest) => {
    void (async () => {
      try {
        const enc = req.pairs.map(([p, h]) => encodePair(tok, p, h, data.maxLength));
        const seq = Math.max(1, ...enc.map((e) => e.ids.length));
        const n = enc.length;
        const ids = new BigInt64Array(n * seq).fill(BigInt(pad));
        const mask = new BigInt64Array(n * seq);
        const types = new BigInt64Array(n * seq);
        enc.forEach((e, r) => {
          for (let j = 0; j < e.ids.length; j++) {
            ids[r * seq + j] = BigInt(e.ids[j]!);
            mask[r * seq + j] = BigInt(e.mask[j]!);
            types[r * seq + j] = BigInt(e.types[j]!);
          }
        });
        const feeds: Record<string, Ort.Tensor> = {
          input_ids: new ort.Tensor('int64', ids, [n, seq]),
          attention_mask: new ort.Tensor('int64', mask, [n, seq]),
        };
        if (wantsTypes) feeds.token_type_ids = new ort.Tensor('int64', types, [n, seq]);
        const out = await session.run(feeds);
        const logits = out.logits ?? out[session.outputNames[0]!];
        if (!logits) throw new Error('the model has no "logits" output');
        const flat = Array.from(logits.data as Float32Array);
        const width = flat.length / n;
        const rows = Array.from({ length: n }, (_, r) => flat.slice(r * width, (r + 1) * width));
        port.postMessage({ id: req.id, ok: true, logits: rows } satisfies NliReply);
      } catch (e) {
        port.postMessage({ id: req.id, ok: false, error: (e as Error).message } satisfies NliReply);
      }
    })();
  });
}

void main();
