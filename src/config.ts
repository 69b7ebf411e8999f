/** One typed reader for the extension's settings, re-read when they change. */
import { isAbsolute, resolve } from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_SCORE_OPTIONS } from './core/rewards/scoreDefaults';
import { JUDGE_POLICIES, type JudgePolicy } from './core/judge/cascade';
import type { BoxFrameSetting } from './protocol/viewer';

export interface StudioConfig {
  boxFrame: BoxFrameSetting;
  minPixels: number;
  maxPixels: number;
  rewardVariant: string;
  boxMatching: 'seed' | 'optimal';
  imageRoots: string[];
}

const FRAMES: readonly BoxFrameSetting[] = ['auto', 'abs', 'resized', 'rel1000', 'rel1'];

export function readConfig(): StudioConfig {
  const c = vscode.workspace.getConfiguration('grpoStudio');
  const frame = c.get<string>('boxFrame', 'auto');
  const matching = c.get<string>('boxMatching', 'seed');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const positive = (n: number | undefined, d: number) => (typeof n === 'number' && n > 0 ? n : d);
  return {
    boxFrame: (FRAMES as readonly string[]).includes(frame) ? (frame as BoxFrameSetting) : 'auto',
    minPixels: positive(c.get<number>('minPixels'), DEFAULT_SCORE_OPTIONS.minPixels),
    maxPixels: positive(c.get<number>('maxPixels'), DEFAULT_SCORE_OPTIONS.maxPixels),
    rewardVariant: c.get<string>('rewardVariant', DEFAULT_SCORE_OPTIONS.variant),
    boxMatching: matching === 'optimal' ? 'optimal' : 'seed',
    imageRoots: (c.get<string[]>('imageRoots') ?? []).map((r) => r.replace(/\$\{workspaceFolder\}/g, folder)),
  };
}

/** Fires `listener` with the new config whenever a grpoStudio setting changes. */
export function onConfigChange(listener: (c: StudioConfig) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('grpoStudio')) listener(readConfig());
  });
}

/** The judge's settings (`grpoStudio.judge.*`). The API key is not one: it lives in SecretStorage. */
export interface JudgeConfig {
  policy: JudgePolicy;
  baseUrl: string;
  model: string;
  concurrency: number;
  timeoutMs: number;
  /** Absolute folder of the local ONNX model, or '' when unset. */
  localModelPath: string;
  /** Absolute path of a prompt template file, or '' for the built-in prompt. */
  promptTemplate: string;
  /** Send the LLM tier's requests through the OpenAI Batch API. */
  useBatchApi: boolean;
  /** Wait between polls of a batch's status. */
  batchPollMs: number;
  /** Ask (modal, with the estimate) before an LLM run that may judge more completions than this. */
  confirmAbove: number;
  /** Dollars per million input / output tokens of the model, when both are set: costs get dollars. */
  price: { input: number; output: number } | undefined;
}

function priceOf(input: number | null | undefined, output: number | null | undefined): { input: number; output: number } | undefined {
  const ok = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  return ok(input) && ok(output) ? { input, output } : undefined;
}

export function readJudgeConfig(): JudgeConfig {
  const c = vscode.workspace.getConfiguration('grpoStudio.judge');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const expand = (p: string | undefined) => (p ?? '').trim().replace(/\$\{workspaceFolder\}/g, folder);
  const absolute = (p: string) => (p === '' || isAbsolute(p) ? p : resolve(folder, p));
  const policy = c.get<string>('policy', 'rules');
  const positive = (n: number | undefined, d: number) => (typeof n === 'number' && n > 0 ? n : d);
  return {
    policy: (JUDGE_POLICIES as readonly string[]).includes(policy) ? (policy as JudgePolicy) : 'rules',
    baseUrl: c.get<string>('baseUrl', '').trim() || 'https://api.openai.com/v1',
    model: c.get<string>('model', '').trim() || 'gpt-4o-mini',
    concurrency: Math.floor(positive(c.get<number>('concurrency'), 8)),
    timeoutMs: Math.round(positive(c.get<number>('timeoutSeconds'), 60) * 1000),
    localModelPath: absolute(expand(c.get<string>('localModelPath'))),
    promptTemplate: absolute(expand(c.get<string>('promptTemplate'))),
    useBatchApi: c.get<boolean>('useBatchApi', false) === true,
    batchPollMs: Math.round(positive(c.get<number>('batchPollSeconds'), 30) * 1000),
    confirmAbove: Math.max(0, Math.floor(c.get<number>('confirmAbove', 100) ?? 100)),
    // Unset is null (a bare number setting would read 0: a price of nothing).
    price: priceOf(c.get<number | null>('pricePerMillionInput'), c.get<number | null>('pricePerMillionOutput')),
  };
}
