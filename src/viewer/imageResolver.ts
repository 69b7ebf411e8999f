/**
 * Turns an image path named in a rollout into something the webview may load. Paths are
 * untrusted (they come from the trainer's output): only image files that resolve inside the
 * rollout file's folder, a workspace folder or a configured image root are served, and each
 * candidate path tried is reported so a missing image says where we looked. "Resolve" means
 * the real path (every symlink followed, `fs.realpath`) against the roots' real paths: a link
 * inside the workspace that points outside it (`images/x.png → /etc/passwd`) is not served.
 * Both prompt images and images inside chains come through here (src/core/view/groupDetail.ts).
 */
import * as path from 'node:path';
import { realpath, stat } from 'node:fs/promises';
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
    let realRoots: string[] | undefined;
    for (const c of [...new Set(candidates)]) {
      tried.push(c);
      if (!IMAGE_EXT.has(path.extname(c).toLowerCase())) continue;
      if (!allowed.some((r) => isInside(c, r))) continue;
      realRoots ??= await realPaths(allowed);
      const real = await servable(c, realRoots);
      if (real === null) continue;
      const size = await readImageSize(real).catch(() => null);
      // The path as named (inside a root, so inside the webview's localResourceRoots); its real
      // path was checked just above.
      return { path: imagePath, src: webview.asWebviewUri(toUri(c)).toString(), width: size?.width ?? null, height: size?.height ?? null, tried };
    }
    return { path: imagePath, src: null, width: null, height: null, tried };
  }
}

/** The roots' real paths (a root that does not exist allows nothing). */
export async function realPaths(roots: readonly string[]): Promise<string[]> {
  const out = await Promise.all(roots.map((r) => realpath(r).catch(() => null)));
  return out.filter((r): r is string => r !== null);
}

/**
 * The real path of `file` when it is a regular image file whose real path lies inside one of
 * `realRoots` (real paths themselves), else null: a symlink, or a symlinked folder on the way,
 * that leads outside every root is refused, and so is one that leads to a non-image file.
 */
export async function servable(file: string, realRoots: readonly string[]): Promise<string | null> {
  let real: string;
  try {
    real = await realpath(file);
    if (!(await stat(real)).isFile()) return null;
  } catch {
    return null;
  }
  if (!IMAGE_EXT.has(path.extname(real).toLowerCase())) return null;
  return realRoots.some((r) => isInside(real, r)) ? real : null;
}
