/**
 * Turns an image path named in a rollout into something the webview may load. Paths are
 * untrusted (they come from the trainer's output): only image files that resolve inside the
 * rollout file's folder, a workspace folder or a configured image root are served, and each
 * candidate path tried is reported so a missing image says where we looked.
 */
import * as path from 'node:path';
import { stat } from 'node:fs/promises';
import type * as vscode from 'vscode';
import { readImageSize } from '../core/images/size';
import type { ImageView } from '../protocol/viewer';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp', '.bmp']);

export interface ImageRoots {
  /** Folders searched, in order, after the rollout file's own folder. */
  searchRoots: string[];
}

export function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export function createImageResolver(webview: vscode.Webview, toUri: (fsPath: string) => vscode.Uri, roots: ImageRoots) {
  const cache = new Map<string, Promise<ImageView>>();
  return (imagePath: string, recordFile: string): Promise<ImageView> => {
    const key = `${recordFile}\u0000${imagePath}`;
    let hit = cache.get(key);
    if (!hit) {
      hit = resolve(imagePath, recordFile);
      cache.set(key, hit);
    }
    return hit;
  };

  async function resolve(imagePath: string, recordFile: string): Promise<ImageView> {
    const allowed = [path.dirname(recordFile), ...roots.searchRoots];
    const candidates = path.isAbsolute(imagePath)
      ? [path.normalize(imagePath)]
      : allowed.map((r) => path.resolve(r, imagePath));
    const tried: string[] = [];
    for (const c of [...new Set(candidates)]) {
      tried.push(c);
      if (!IMAGE_EXT.has(path.extname(c).toLowerCase())) continue;
      if (!allowed.some((r) => isInside(c, r))) continue;
      try {
        if (!(await stat(c)).isFile()) continue;
      } catch {
        continue;
      }
      const size = await readImageSize(c).catch(() => null);
      return { path: imagePath, src: webview.asWebviewUri(toUri(c)).toString(), width: size?.width ?? null, height: size?.height ?? null, tried };
    }
    return { path: imagePath, src: null, width: null, height: null, tried };
  }
}
