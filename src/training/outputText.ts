/**
 * Run output as the terminal shows it: line endings for a pseudoterminal, and the source
 * locations in tracebacks that become links. No vscode import, so it is tested directly.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** Pseudoterminals need CRLF; tqdm's lone '\r' redraws stay as they are. */
export function terminalText(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** `File "x.py", line 12` (Python tracebacks) and `x.py:12` (warnings, logging). */
export function findSourceLinks(line: string): { start: number; length: number; file: string; line: number }[] {
  const out: { start: number; length: number; file: string; line: number }[] = [];
  const tb = /File "([^"]+)", line (\d+)/g;
  for (let m = tb.exec(line); m; m = tb.exec(line)) out.push({ start: m.index, length: m[0].length, file: m[1]!, line: Number(m[2]) });
  if (out.length) return out;
  const plain = /((?:[\w.~-]*\/)*[\w.-]+\.py):(\d+)/g;
  for (let m = plain.exec(line); m; m = plain.exec(line)) out.push({ start: m.index, length: m[0].length, file: m[1]!, line: Number(m[2]) });
  return out;
}

/** A traceback's path as the run saw it: absolute, or relative to the run's working folder. */
export function resolveSource(file: string, cwd: string): string | undefined {
  const abs = isAbsolute(file) ? file : join(cwd, file);
  return existsSync(abs) ? abs : undefined;
}
