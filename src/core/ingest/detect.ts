/**
 * Which trainer wrote a path: by file name first (`completions_00012.parquet`, `12.jsonl`,
 * `generations.log`), then by a folder's contents, then by the first bytes of a file.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { filesOf, isDirectory } from './files';
import { pythonJson } from './swift';
import { isObj, type FormatName } from './types';
import { parseHeader } from './vlmr1';

export interface DetectedFormat {
  format: FormatName;
  /** Why, in words, for the UI and the CLI's errors. */
  why: string;
}

const SNIFF_BYTES = 64 << 10;

/** The first 64 KiB of a file as UTF-8, what detection looks at. */
export async function head(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Format of a JSON object line: ms-swift has a table of parallel lists with `completion` (or a
 * Ray row with `gen_step`), v1 has `completion`, verl has `output` with `input`/`gts`/`score`.
 */
function jsonShape(line: string): FormatName | null {
  let raw: unknown;
  try {
    raw = pythonJson(line);
  } catch {
    return null;
  }
  if (!isObj(raw)) return null;
  if (Array.isArray(raw.completion) && Object.values(raw).every(Array.isArray)) return 'swift';
  if (typeof raw.completion === 'string' && 'gen_step' in raw && typeof raw.prompt === 'string') return 'swift';
  if ('completion' in raw) return 'native';
  if ('output' in raw && ('input' in raw || 'gts' in raw || 'score' in raw)) return 'verl';
  return null;
}

const SWIFT_TABLE = /^\{\s*"(gen_)?step"\s*:\s*\[/;

const WHY: Partial<Record<FormatName, string>> = {
  native: 'JSON lines with "completion"',
  verl: 'JSON lines with "output" and "input"/"gts"/"score" (verl)',
  swift: 'JSON lines of column lists with "completion" (ms-swift completions.jsonl)',
};

/** The format of what a file's first bytes hold, or null. */
export function sniff(text: string): DetectedFormat | null {
  const lines = text.split('\n').slice(0, 200);
  const first = lines.find((l) => l.trim() !== '');
  if (first === undefined) return null;
  // A bad first line should not hide the format: look at the first few objects.
  for (const l of lines.filter((x) => x.trimStart().startsWith('{')).slice(0, 20)) {
    const f = jsonShape(l.trim());
    if (f) return { format: f, why: WHY[f] ?? f };
  }
  // An ms-swift table line often outgrows the sniffed bytes; its opening is enough.
  if (SWIFT_TABLE.test(first.trimStart())) return { format: 'swift', why: 'a JSON line opening with a "step" column list (ms-swift completions.jsonl)' };
  if (lines.some((l) => parseHeader(l) !== null)) return { format: 'vlmr1', why: 'VLM-R1 debug log block header (timestamp + reward)' };
  if (lines.some((l) => l.startsWith('[prompt] ') || l === '[prompt]') && lines.some((l) => /^\[(output|score)\]/.test(l))) {
    return { format: 'easyr1', why: 'EasyR1 [prompt]/[output] blocks' };
  }
  return null;
}

/** Detects the format of a file or a folder; null when nothing here is recognised. */
export async function detectFormat(path: string): Promise<DetectedFormat | null> {
  if (await isDirectory(path)) {
    if ((await filesOf(path, 'trl')).length) return { format: 'trl', why: 'folder holds completions_<step>.parquet files' };
    if ((await filesOf(path, 'verl')).length) return { format: 'verl', why: 'folder holds <step>.jsonl files' };
    if ((await filesOf(path, 'easyr1')).length) return { format: 'easyr1', why: 'folder holds generations.log' };
    for (const f of await filesOf(path, 'swift')) {
      if ((await detectFormat(f))?.format === 'swift') return { format: 'swift', why: 'folder holds an ms-swift completions.jsonl' };
    }
    for (const f of await filesOf(path, 'native')) {
      const d = await detectFormat(f);
      if (d) return { format: d.format, why: `folder holds ${basename(f)}: ${d.why}` };
    }
    for (const f of await filesOf(path, 'vlmr1')) {
      const d = await detectFormat(f);
      if (d?.format === 'vlmr1') return { format: 'vlmr1', why: `folder holds ${basename(f)}: ${d.why}` };
    }
    return null;
  }
  const name = basename(path);
  if (/^completions_\d+\.parquet$/.test(name) || name.endsWith('.parquet')) return { format: 'trl', why: 'a parquet file (TRL completions)' };
  if (name === 'generations.log' || name === 'experiment_log.jsonl') return { format: 'easyr1', why: `EasyR1's ${name}` };
  let text: string;
  try {
    text = await head(path);
  } catch {
    return null;
  }
  const d = sniff(text);
  if (d) return d;
  if (/^\d+\.jsonl$/.test(name)) return { format: 'verl', why: 'file named <step>.jsonl' };
  return null;
}
