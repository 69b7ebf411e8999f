/**
 * Editing and reading `.vscode/grpo-studio.json` as text: adding a preset (creating the file when
 * there is none) and finding where each profile's name is written, for CodeLenses. No vscode
 * import, so it is tested directly.
 */
import type { RunProfile } from '../core/training/profile';

/** `name`, or `name-2`, `name-3`, … : the first not in `taken`. */
export function uniqueName(name: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(name)) return name;
  for (let i = 2; ; i++) if (!used.has(`${name}-${i}`)) return `${name}-${i}`;
}

/**
 * The file's new text with `profile` appended to `profiles` (renamed if its name is taken).
 * `current` undefined: a new file. Throws when the current text is not a JSON object.
 */
export function addProfile(current: string | undefined, profile: RunProfile): { text: string; name: string } {
  let doc: Record<string, unknown> = {};
  if (current !== undefined && current.trim()) {
    let raw: unknown;
    try {
      raw = JSON.parse(current);
    } catch (e) {
      throw new Error(`the file is not plain JSON (${(e as Error).message}); fix it or add the preset by hand`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('the file must hold a JSON object with a "profiles" array');
    doc = raw as Record<string, unknown>;
  }
  const list = Array.isArray(doc.profiles) ? [...(doc.profiles as unknown[])] : [];
  const names = list.flatMap((p) => (typeof p === 'object' && p !== null && typeof (p as { name?: unknown }).name === 'string' ? [(p as { name: string }).name] : []));
  const name = uniqueName(profile.name, names);
  list.push({ ...profile, name });
  return { text: JSON.stringify({ ...doc, profiles: list }, null, 2) + '\n', name };
}

/**
 * Offset of each wanted profile's `"name": "…"` value in the text (first occurrence of each).
 * A plain scan rather than a JSON tree: the names come from the validated profiles, so a stray
 * `"name"` elsewhere only matters if it repeats a profile's name earlier in the file.
 */
export function profileNameOffsets(text: string, names: readonly string[]): Map<string, number> {
  const wanted = new Set(names);
  const out = new Map<string, number>();
  const re = /"name"\s*:\s*("(?:[^"\\\n]|\\.)*")/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let value: unknown;
    try {
      value = JSON.parse(m[1]!);
    } catch {
      continue;
    }
    if (typeof value === 'string' && wanted.has(value) && !out.has(value)) out.set(value, m.index);
  }
  return out;
}
