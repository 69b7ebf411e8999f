/**
 * "Download Local Judge Model…": for users with internet, and only when they ask. It names the
 * model, where it comes from and its size, asks, downloads into the extension's global storage
 * with a cancellable progress, and points `grpoStudio.judge.localModelPath` at the result.
 */
import * as vscode from 'vscode';
import { DEFAULT_HUB_URL, DEFAULT_MODEL_REPO, downloadModel, modelDownloadSize, type ModelSource } from './core/judge/local/download';
import { log } from './log';

export const DOWNLOAD_MODEL_COMMAND = 'grpoStudio.downloadLocalJudgeModel';

/** Optional arguments for scripts and tests: `{ repo, baseUrl, revision, modelFile, confirm: false }`. */
interface DownloadArgs extends Partial<ModelSource> {
  /** false skips the modal question (the caller has asked already). */
  confirm?: boolean;
}

const mb = (n: number): string => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

export function registerModelDownload(context: vscode.ExtensionContext): vscode.Disposable {
  return vscode.commands.registerCommand(DOWNLOAD_MODEL_COMMAND, async (arg?: DownloadArgs): Promise<string | undefined> => {
    const args: DownloadArgs = typeof arg === 'object' && arg !== null ? arg : {};
    const repo = args.repo ?? (await vscode.window.showInputBox({
      title: 'Download Local Judge Model',
      prompt: 'Hugging Face repository of an NLI cross-encoder exported to ONNX (config.json, tokenizer.json, onnx/model.onnx)',
      value: DEFAULT_MODEL_REPO,
      validateInput: (v) => (/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(v.trim()) ? null : 'owner/name'),
    }))?.trim();
    if (!repo) return undefined;
    const src: ModelSource = { repo, baseUrl: args.baseUrl ?? DEFAULT_HUB_URL, revision: args.revision, modelFile: args.modelFile };
    const root = vscode.Uri.joinPath(context.globalStorageUri, 'models').fsPath;
    try {
      if (args.confirm !== false) {
        const size = await modelDownloadSize(src);
        const answer = await vscode.window.showInformationMessage(
          `Download ${repo} (${size === null ? 'size unknown' : mb(size)}) from ${src.baseUrl} into the extension's storage, and use it as the local judge model?`,
          { modal: true, detail: `Files: config.json, tokenizer.json, ${src.modelFile ?? 'onnx/model.onnx'}. Nothing is downloaded unless you choose Download.` },
          'Download',
        );
        if (answer !== 'Download') return undefined;
      }
      const info = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Downloading ${repo}`, cancellable: true },
        async (progress, token) => {
          const ctl = new AbortController();
          const sub = token.onCancellationRequested(() => ctl.abort());
          let shown = 0;
          try {
            return await downloadModel(src, root, {
              signal: ctl.signal,
              onProgress: (p) => {
                const pct = p.total ? (100 * p.bytes) / p.total : 0;
                progress.report({ message: `${p.file} · ${mb(p.bytes)}${p.total ? ` of ${mb(p.total)}` : ''}`, increment: p.total ? pct - shown : undefined });
                shown = pct;
              },
            });
          } finally {
            sub.dispose();
          }
        },
      );
      await vscode.workspace.getConfiguration('grpoStudio').update('judge.localModelPath', info.dir, vscode.ConfigurationTarget.Global);
      log().info(`local judge model ${repo} downloaded to ${info.dir} (labels ${info.labels.join(', ')})`);
      void vscode.window.showInformationMessage(`Local judge model ready: ${repo} (labels ${info.labels.join(', ')}).`);
      return info.dir;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (/abort/i.test(msg)) {
        void vscode.window.showInformationMessage(`Download of ${repo} cancelled; nothing was kept.`);
        return undefined;
      }
      log().error(`model download failed: ${msg}`);
      void vscode.window.showErrorMessage(`Could not download ${repo}: ${msg}`);
      return undefined;
    }
  });
}
