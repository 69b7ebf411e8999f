/**
 * Tier 2: a local NLI cross-encoder. Premise = the reasoning, hypothesis = "The answer is X.";
 * contradiction → misaligned, entailment → aligned, neutral → uncertain (escalated in the
 * cascade). Inference runs in a worker thread so a long batch never blocks the host.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelJudge } from '../cascade';
import type { JudgeRunOptions, PreparedItem } from '../llm';
import { makeVerdict, type JudgeOutcome } from '../verdict';
import {
  DEFAULT_HYPOTHESIS,
  hypothesisFor,
  localModelName,
  localPromptHash,
  readModelFolder,
  softmax,
  type NliLabel,
  type NliModelInfo,
  type NliReply,
  type NliRequest,
  type NliWorkerData,
} from './nli';

export interface LocalJudgeOptions {
  /** Folder with model.onnx, tokenizer.json, config.json. */
  dir: string;
  /** Pairs per inference call. */
  batchSize?: number;
  /** {answer} is replaced by the final answer. */
  hypothesis?: string;
  threads?: number;
  /** The worker script; defaults to the bundled dist/nli-worker.js, else the source file (tests). */
  workerPath?: string;
}

export function defaultWorkerPath(): string {
  const bundled = join(__dirname, 'nli-worker.js');
  return existsSync(bundled) ? bundled : join(__dirname, 'worker.ts');
}

export class LocalJudge implements ModelJudge {
  readonly tier = 'local' as const;
  readonly model: string;
  readonly promptHash: string;
  /** Inference calls made (one per batch). */
  batches = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: NliReply) => void>();
  private readonly template: string;
  /** Set once the worker is gone: later calls fail at once instead of waiting forever. */
  private dead: string | null = null;

  private constructor(
    readonly info: NliModelInfo,
    private readonly worker: Worker,
    private readonly opts: LocalJudgeOptions,
  ) {
    this.template = opts.hypothesis ?? DEFAULT_HYPOTHESIS;
    this.model = localModelName(info);
    this.promptHash = localPromptHash(info, this.template);
    worker.on('message', (r: NliReply) => {
      this.waiting.get(r.id)?.(r);
      this.waiting.delete(r.id);
    });
    worker.on('error', (e) => this.failAll(`the local model worker crashed: ${e.message}`));
    worker.on('exit', (code) => this.failAll(`the local model worker exited (code ${code})`));
  }

  /** Check the folder, start the worker and wait until the model is loaded. */
  static async open(opts: LocalJudgeOptions): Promise<LocalJudge> {
    const info = readModelFolder(opts.dir);
    const data: NliWorkerData = { dir: opts.dir, maxLength: info.maxLength, threads: opts.threads ?? 1 };
    const path = opts.workerPath ?? defaultWorkerPath();
    // Running from source (tests): a worker does not inherit `--import tsx`, so it loads tsx's CommonJS hook itself.
    const execArgv = path.endsWith('.ts') ? ['--require', 'tsx/cjs'] : undefined;
    const worker = new Worker(path, { workerData: data, ...(execArgv ? { execArgv } : {}) });
    const ready = await new Promise<NliReply>((resolve) => {
      const onMessage = (r: NliReply): void => {
        if (r.id === 0 || r.id === -1) {
          worker.off('message', onMessage);
          resolve(r);
        }
      };
      worker.on('message', onMessage);
      worker.once('error', (e) => resolve({ id: -1, ok: false, error: e.message }));
    });
    if (!ready.ok) {
      await worker.terminate();
      throw new Error(ready.error);
    }
    return new LocalJudge(info, worker, opts);
  }

  hypothesis(answer: string): string {
    return hypothesisFor(this.template, answer);
  }

  /** Raw label probabilities for pairs, in input order (one worker call per batch). */
  async classify(pairs: Array<[string, string]>): Promise<Array<Record<NliLabel, number>>> {
    if (this.dead) throw new Error(this.dead);
    const id = this.nextId++;
    this.batches++;
    const reply = await new Promise<NliReply>((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ id, pairs } satisfies NliRequest);
    });
    if (!reply.ok) throw new Error(reply.error);
    return reply.logits.map((row) => {
      const p = softmax(row);
      const out: Record<NliLabel, number> = { entailment: 0, neutral: 0, contradiction: 0 };
      this.info.labels.forEach((l, i) => (out[l] = p[i] ?? 0));
      return out;
    });
  }

  async judgeAll(items: readonly PreparedItem[], run: JudgeRunOptions = {}): Promise<JudgeOutcome[]> {
    const size = Math.max(1, this.opts.batchSize ?? 16);
    const out: JudgeOutcome[] = [];
    for (let start = 0; start < items.length; start += size) {
      const batch = items.slice(start, start + size);
      let outcomes: JudgeOutcome[];
      if (run.signal?.aborted) {
        outcomes = batch.map(() => ({ failed: true, tier: 'local', model: this.model, reason: 'cancelled' }));
      } else {
        try {
          const probs = await this.classify(batch.map((it) => [it.input.reasoning, this.hypothesis(it.input.answer)]));
          outcomes = batch.map((it, i) => this.verdictFor(it, probs[i]!));
        } catch (e) {
          const reason = (e as Error).message;
          outcomes = batch.map(() => ({ failed: true, tier: 'local', model: this.model, reason }));
        }
      }
      outcomes.forEach((o, i) => {
        out.push(o);
        run.onOutcome?.(o, start + i);
      });
    }
    return out;
  }

  private verdictFor(item: PreparedItem, p: Record<NliLabel, number>): JudgeOutcome {
    const label = (Object.keys(p) as NliLabel[]).reduce((a, b) => (p[b] > p[a] ? b : a));
    const pct = `${Math.round(p[label] * 100)}%`;
    const hyp = this.hypothesis(item.input.answer);
    const fields =
      label === 'entailment'
        ? { aligns: true, type: null, why: `The local NLI model finds the reasoning entails "${hyp}" (${pct}).` }
        : label === 'contradiction'
          ? { aligns: false, type: 'contradiction' as const, why: `The local NLI model finds the reasoning contradicts "${hyp}" (${pct}).` }
          : { aligns: null, type: null, why: `The local NLI model finds the reasoning neutral towards "${hyp}" (${pct}).` };
    return makeVerdict(item, fields, { tier: 'local', model: this.model, promptHash: this.promptHash });
  }

  private failAll(reason: string): void {
    this.dead ??= reason;
    for (const [id, resolve] of this.waiting) resolve({ id, ok: false, error: reason });
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
