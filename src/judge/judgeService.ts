/**
 * Judges rollout records from the extension: the settings pick the policy and tiers, the key
 * comes from SecretStorage, the LLM's cost is estimated first (and asked about above
 * `confirmAbove` completions), progress is a cancellable notification whose token aborts the
 * core (the cache keeps every verdict already made), and the totals are shown after. Each judged
 * file fires `onDidJudge` so its viewers show the new verdicts.
 */
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { VerdictCache, cachePathFor } from '../core/judge/cache';
import { judgeCompletions, tiersOf, type JudgedCompletion } from '../core/judge/cascade';
import { estimateLine, judgeItemOf, judgeTotals, llmEstimate, openJudges, sumEstimates, totalsLine, type JudgeTotals, type LlmEstimate, type OpenJudges } from '../core/judge/session';
import { LlmJudge } from '../core/judge/llm';
import type { JudgeItem } from '../core/judge/verdict';
import { readRollouts } from '../core/rollouts/read';
import { GroupKeys } from '../core/rollouts/groups';
import type { LoadedRecord } from '../core/view/rolloutSet';
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

/** What a judge run was given: the items and open cache of each file, the settings, the estimate. */
interface JudgePlan {
  runs: { file: string; items: JudgeItem[]; cache: VerdictCache }[];
  total: number;
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

  /** Reads a rollout file through the core and judges every record in it. */
  async judgeFile(file: string): Promise<JudgeRunResult | undefined> {
    const records: LoadedRecord[] = [];
    const summary = await readRollouts(file, (record, loc) => records.push({ record, file, line: loc.line }));
    for (const b of summary.badLines) log().warn(`${file}:${b.line}: ${b.error}`);
    return this.judge(records, vscode.workspace.asRelativePath(file));
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

    const byFile = new Map<string, LoadedRecord[]>();
    for (const r of records) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);

    // Every file's items and cache first: the LLM's cost is estimated over all of them before any call.
    const runs = [...byFile].map(([file, recs]) => {
      const keys = new GroupKeys();
      return { file, items: recs.map((l) => judgeItemOf(l.record, { line: l.line, group: keys.keyOf(l.record) })), cache: VerdictCache.open(cachePathFor(file)) };
    });
    try {
      let estimate: LlmEstimate | undefined;
      if (apiKey) {
        // Prompt rendering and cache keys only: this client makes no request.
        const pricing = new LlmJudge({ baseURL: cfg.baseUrl, model: cfg.model, apiKey, ...(template ? { template } : {}), ...prices(cfg) });
        estimate = sumEstimates(runs.map((r) => llmEstimate(pricing, r.items, r.cache)));
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
      return await this.run({ runs, total: records.length, what, cfg, tiers, apiKey, template, estimate });
    } finally {
      for (const r of runs) r.cache.close();
    }
  }

  /** The judging itself, under a cancellable progress; the caller owns (and closes) the caches. */
  private run(plan: JudgePlan): Thenable<JudgeRunResult | undefined> {
    const { runs, total, what, cfg, tiers, apiKey, template, estimate } = plan;
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
          let done = 0;
          for (const { file, items, cache } of runs) {
            if (ctl.signal.aborted) break;
            const results = await judgeCompletions(items, cfg.policy, opened.judges, {
              cache,
              signal: ctl.signal,
              onJudged: () => {
                done++;
                progress.report({ increment: 100 / total, message: `${done} of ${total}` });
              },
            });
            all.push(...results);
            const failures = new Map<number, { reason: string; tier: string }>();
            for (const r of results) if (!r.verdict && r.item.line !== undefined) failures.set(r.item.line, { reason: r.failure ?? 'not judged', tier: r.trail.at(-1)?.tier ?? tiers.at(-1)! });
            this.verdicts.judged(file, failures, results.filter((r) => r.verdict).map((r) => r.item.line!));
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
