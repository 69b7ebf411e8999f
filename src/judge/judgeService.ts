/**
 * Judges rollout records from the extension: the settings pick the policy and tiers, the key
 * comes from SecretStorage, the LLM's cost is estimated first (and asked about above
 * `confirmAbove` completions), progress is a cancellable notification whose token aborts the
 * core (the cache keeps every verdict already made), and the totals are shown after. Each judged
 * file fires `onDidJudge` so its viewers show the new verdicts.
 */
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { VerdictCaches } from '../core/judge/caches';
import { judgeCompletions, tiersOf, type JudgedCompletion } from '../core/judge/cascade';
import { estimateLine, judgeItemOf, judgeTotals, llmEstimate, openJudges, totalsLine, type JudgeTotals, type LlmEstimate, type OpenJudges } from '../core/judge/session';
import { LlmJudge } from '../core/judge/llm';
import type { JudgeItem } from '../core/judge/verdict';
import { openSource } from '../core/ingest/source';
import { GroupKeys } from '../core/rollouts/groups';
import type { LoadedRecord } from '../core/view/rolloutView';
import { readJudgeConfig, type JudgeConfig } from '../config';
import { log } from '../log';
import type { JudgeApiKey } from './apiKey';
import { VerdictStore } from './verdictStore';

export const SET_KEY_COMMAND = 'grpoStudio.setJudgeApiKey';
const DOWNLOAD_MODEL_COMMAND = 'grpoStudio.downloadLocalJudgeModel';

export interface JudgeRunResult extends JudgeTotals {
  cancelled: boolean;
}

/** The Batch API's status changes go to the progress notification and the log. */
function batchOptions(pollMs: number, progress: vscode.Progress<{ message?: string }>): { pollMs: number; onStatus: (status: string, id: string) => void } {
  return {
    pollMs,
    onStatus: (status, id) => {
      log().info(`judge: batch ${id} ${status}`);
      progress.report({ message: `batch ${id}: ${status}` });
    },
  };
}

/** The configured model's price, as the core's price table. */
const prices = (cfg: JudgeConfig): { prices?: Record<string, { input: number; output: number }> } => (cfg.price ? { prices: { [cfg.model]: cfg.price } } : {});

/** What a judge run was given: the items and the file of each, their caches, the settings, the estimate. */
interface JudgePlan {
  items: JudgeItem[];
  /** Per item: the file it came from. */
  files: string[];
  caches: VerdictCaches;
  what: string;
  cfg: JudgeConfig;
  tiers: readonly string[];
  apiKey: string | undefined;
  template: string | undefined;
  estimate: LlmEstimate | undefined;
}

export class JudgeService implements vscode.Disposable {
  readonly verdicts = new VerdictStore();
  private readonly emitter = new vscode.EventEmitter<string>();
  /** Fires with each rollout file whose verdict cache a run wrote to. */
  readonly onDidJudge = this.emitter.event;

  constructor(private readonly key: JudgeApiKey) {}

  /**
   * Reads a rollout file or folder of any format through the viewer's ingest and judges every
   * record in it. Each record keeps the file and line (or parquet row) it came from, so its
   * verdict lands in that file's cache, where the viewer looks.
   */
  async judgeFile(file: string): Promise<JudgeRunResult | undefined> {
    const records: LoadedRecord[] = [];
    const source = await openSource(file, { fallback: 'native' });
    const summary = await source.read((record, loc) => records.push({ record, file: loc.file, line: loc.line }));
    for (const b of summary.badLines) log().warn(`${b.file ?? file}:${b.line}: ${b.error}`);
    for (const n of summary.notes) log().info(`note: ${n.file}${n.line === undefined ? '' : `:${n.line}`}: ${n.message}`);
    const what = vscode.workspace.asRelativePath(file);
    if (records.length === 0) {
      const bad = summary.badLines.length ? `; ${summary.badLines.length} bad line(s), listed in the GRPO Studio log` : '';
      void vscode.window.showWarningMessage(`No completions to judge in ${what}, read as ${source.format} (${source.why})${bad}.`);
      return undefined;
    }
    return this.judge(records, what);
  }

  /**
   * Judges `records` (any files) under the configured policy. Returns the totals, or undefined
   * when the run could not start (a missing key or model: the user is told why and how to fix it).
   */
  async judge(records: readonly LoadedRecord[], what: string): Promise<JudgeRunResult | undefined> {
    if (records.length === 0) {
      void vscode.window.showInformationMessage(`Nothing to judge in ${what}.`);
      return undefined;
    }
    const cfg = readJudgeConfig();
    const tiers = tiersOf(cfg.policy);
    let apiKey: string | undefined;
    if (tiers.includes('llm')) {
      apiKey = await this.key.get();
      if (!apiKey) {
        const pick = await vscode.window.showErrorMessage(
          `The judge policy '${cfg.policy}' uses an LLM, and no judge API key is set. Run “GRPO Studio: Set Judge API Key…” first (the key is kept in secret storage).`,
          'Set Judge API Key…',
        );
        if (pick) await vscode.commands.executeCommand(SET_KEY_COMMAND);
        return undefined;
      }
    }
    if (tiers.includes('local') && !cfg.localModelPath) {
      const pick = await vscode.window.showErrorMessage(
        `The judge policy '${cfg.policy}' uses the local model, and grpoStudio.judge.localModelPath is empty.`,
        'Download Local Judge Model…',
      );
      if (pick) await vscode.commands.executeCommand(DOWNLOAD_MODEL_COMMAND);
      return undefined;
    }
    let template: string | undefined;
    if (cfg.promptTemplate) {
      try {
        template = await readFile(cfg.promptTemplate, 'utf8');
      } catch (e) {
        void vscode.window.showErrorMessage(`Cannot read the judge prompt template ${cfg.promptTemplate} (grpoStudio.judge.promptTemplate): ${(e as Error).message}`);
        return undefined;
      }
    }

    // One run over every file (one LLM pool, one batch); each verdict still goes to the cache of
    // the file its completion came from. The cost is estimated over all of them before any call.
    const keys = new GroupKeys();
    const items = records.map((l) => judgeItemOf(l.record, { line: l.line, group: keys.keyOf(l.record) }));
    const files = records.map((l) => l.file);
    const caches = VerdictCaches.perFile();
    try {
      let estimate: LlmEstimate | undefined;
      if (apiKey) {
        // Prompt rendering and cache keys only: this client makes no request.
        const pricing = new LlmJudge({ baseURL: cfg.baseUrl, model: cfg.model, apiKey, ...(template ? { template } : {}), ...prices(cfg) });
        caches.route(items.map((item, i) => ({ item, file: files[i]! })), { llm: pricing });
        estimate = llmEstimate(pricing, items, { get: (k) => caches.peek(k) });
        log().info(`judge ${what} (${cfg.policy}): LLM estimate (at most) ${estimateLine(estimate)}`);
        if (estimate.completions > cfg.confirmAbove) {
          const go = await vscode.window.showWarningMessage(
            `Judge ${what} with ${cfg.model}?`,
            { modal: true, detail: `The LLM tier may be asked about ${estimateLine(estimate)} (at most: earlier tiers and the cache may settle some). Asked because it is more than grpoStudio.judge.confirmAbove (${cfg.confirmAbove}).` },
            'Judge',
          );
          if (go !== 'Judge') {
            log().info(`judge ${what}: not started (declined at the estimate)`);
            return undefined;
          }
        }
      }
      return await this.run({ items, files, caches, what, cfg, tiers, apiKey, template, estimate });
    } finally {
      caches.close();
    }
  }

  /** The judging itself, under a cancellable progress; the caller owns (and closes) the caches. */
  private run(plan: JudgePlan): Thenable<JudgeRunResult | undefined> {
    const { items, files, caches, what, cfg, tiers, apiKey, template, estimate } = plan;
    const total = items.length;
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Judging ${what} (${cfg.policy})`, cancellable: true },
      async (progress, token) => {
        const ctl = new AbortController();
        const sub = token.onCancellationRequested(() => ctl.abort());
        const all: JudgedCompletion[] = [];
        let opened: OpenJudges | undefined;
        try {
          opened = await openJudges({
            policy: cfg.policy,
            ...(cfg.localModelPath ? { localModelDir: cfg.localModelPath } : {}),
            ...(apiKey ? { llm: { baseURL: cfg.baseUrl, model: cfg.model, apiKey, concurrency: cfg.concurrency, timeoutMs: cfg.timeoutMs, ...(template ? { template } : {}), ...prices(cfg), ...(cfg.useBatchApi ? { batch: batchOptions(cfg.batchPollMs, progress) } : {}) } } : {}),
          });
          if (estimate) progress.report({ message: `LLM at most ${estimateLine(estimate)}` });
          caches.route(items.map((item, i) => ({ item, file: files[i]! })), opened.judges);
          let done = 0;
          all.push(...(await judgeCompletions(items, cfg.policy, opened.judges, {
            cache: caches,
            signal: ctl.signal,
            onJudged: () => {
              done++;
              progress.report({ increment: 100 / total, message: `${done} of ${total}` });
            },
          })));
          // Per file: which lines (or parquet rows) got a verdict and which failed (failures are never cached).
          const byFile = new Map<string, { failures: Map<number, { reason: string; tier: string }>; judged: number[] }>();
          for (const r of all) {
            const file = files[r.index]!;
            let f = byFile.get(file);
            if (!f) byFile.set(file, (f = { failures: new Map(), judged: [] }));
            if (r.verdict) f.judged.push(r.item.line!);
            else if (r.item.line !== undefined) f.failures.set(r.item.line, { reason: r.failure ?? 'not judged', tier: r.trail.at(-1)?.tier ?? tiers.at(-1)! });
          }
          for (const [file, f] of byFile) {
            this.verdicts.judged(file, f.failures, f.judged);
            this.emitter.fire(file);
          }
          const totals: JudgeRunResult = { ...judgeTotals(all, opened.llm), cancelled: ctl.signal.aborted };
          const before = estimate ? ` (estimated before: at most ~${estimate.promptTokens + estimate.completionTokens} tokens${estimate.dollars === null ? '' : `, ~$${estimate.dollars.toFixed(4)}`})` : '';
          const line = `${totals.cancelled ? 'Cancelled: ' : ''}${totalsLine(totals)}${before}.`;
          log().info(`judge ${what} (${cfg.policy}): ${line}`);
          const firstFailure = all.find((r) => !r.verdict)?.failure;
          if (totals.failed > 0 && !totals.cancelled) void vscode.window.showWarningMessage(`${line} First failure: ${firstFailure}`);
          else void vscode.window.showInformationMessage(line);
          return totals;
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          log().error(`judge ${what}: ${msg}`);
          void vscode.window.showErrorMessage(`Judging ${what} failed: ${msg}`);
          return undefined;
        } finally {
          sub.dispose();
          await opened?.close();
        }
      },
    );
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
