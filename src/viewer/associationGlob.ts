/**
 * How a `workbench.editorAssociations` glob matches a file (no vscode import: unit-tested).
 */

/** VS Code's association globs (`*`, `**`, `?`): a pattern without `/` matches the file name, else the path. */
export function globMatches(glob: string, path: string): boolean {
  const target = glob.includes('/') ? path : path.slice(path.lastIndexOf('/') + 1);
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i').test(target);
}

