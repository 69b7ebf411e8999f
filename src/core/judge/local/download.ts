/**
 * Downloads an NLI cross-encoder exported to ONNX (a Hugging Face repository laid out like
 * `Xenova/nli-deberta-v3-xsmall`: `config.json`, `tokenizer.json`, `onnx/model.onnx`) into a
 * folder the local tier reads. Only ever run on an explicit request that named the model and its
 * size. Each file streams to a `.partial-*` folder beside the target; the folder becomes the
 * model only after every file arrived and `readModelFolder` accepts it, so a failed, cancelled or
 * wrong download never leaves a half model where the judge looks.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { readModelFolder, type NliModelInfo } from './nli';

export const DEFAULT_MODEL_REPO = 'Xenova/nli-deberta-v3-xsmall';
export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface ModelSource {
  /** `owner/name` on the hub. */
  repo: string;
  /** Branch, tag or commit (default `main`). */
  revision?: string;
  /** The hub's base URL (default https://huggingface.co; a mirror works too). */
  baseUrl?: string;
  /** Path of the ONNX weights in the repository (default `onnx/model.onnx`). */
  modelFile?: string;
}

export interface DownloadProgress {
  file: string;
  /** Bytes of all files so far, and their total when every size is known. */
  bytes: number;
  total: number | null;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
}

const REPO = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** The three files and where each lands in the model folder. */
export function modelFiles(src: ModelSource): { url: string; remote: string; local: string }[] {
  if (!REPO.test(src.repo) || src.repo.includes('..')) throw new Error(`"${src.repo}" is not a model repository id (owner/name)`);
  const base = (src.baseUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  const rev = encodeURIComponent(src.revision ?? 'main');
  const files = [
    { remote: 'config.json', local: 'config.json' },
    { remote: 'tokenizer.json', local: 'tokenizer.json' },
    { remote: src.modelFile ?? 'onnx/model.onnx', local: 'model.onnx' },
  ];
  return files.map((f) => ({ ...f, url: `${base}/${src.repo}/resolve/${rev}/${f.remote.split('/').map(encodeURIComponent).join('/')}` }));
}

/** The folder name a repository gets under the models root. */
export function modelFolderName(repo: string): string {
  return repo.replace(/\//g, '--');
}

/** Sizes of the files from HEAD requests (null where the server does not say), for the confirmation. */
export async function modelDownloadSize(src: ModelSource, signal?: AbortSignal): Promise<number | null> {
  let total = 0;
  for (const f of modelFiles(src)) {
    const res = await fetch(f.url, { method: 'HEAD', redirect: 'follow', signal });
    if (!res.ok) throw new Error(`${f.url}: HTTP ${res.status} ${res.statusText}`.trim());
    const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length'));
    if (!Number.isFinite(size) || size <= 0) return null;
    total += size;
  }
  return total;
}

/**
 * Downloads into `<root>/<owner--name>` and returns the model it holds. An existing folder of
 * that name is replaced only once the new one is complete and valid.
 */
export async function downloadModel(src: ModelSource, root: string, opts: DownloadOptions = {}): Promise<NliModelInfo> {
  const files = modelFiles(src);
  await mkdir(root, { recursive: true });
  const target = join(root, modelFolderName(src.repo));
  const partial = await mkdtemp(join(root, `.partial-${modelFolderName(src.repo)}-`));
  try {
    let bytes = 0;
    let total: number | null = 0;
    for (const f of files) {
      const res = await fetch(f.url, { redirect: 'follow', signal: opts.signal });
      if (!res.ok || !res.body) throw new Error(`download failed: ${f.url}: HTTP ${res.status} ${res.statusText}`.trim());
      const length = Number(res.headers.get('content-length'));
      total = total !== null && Number.isFinite(length) && length > 0 ? total + length : null;
      let got = 0;
      const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        got += chunk.length;
        bytes += chunk.length;
        opts.onProgress?.({ file: f.remote, bytes, total });
      });
      await pipeline(body, createWriteStream(join(partial, f.local)), { signal: opts.signal });
      if (Number.isFinite(length) && length > 0 && got !== length) {
        throw new Error(`download failed: ${f.url}: got ${got} of ${length} bytes`);
      }
    }
    readModelFolder(partial); // throws, naming the file, when this is not an NLI model folder
    if (existsSync(target)) {
      const old = `${partial}-old`;
      await rename(target, old);
      await rename(partial, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(partial, target);
    }
    return readModelFolder(target);
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
}
