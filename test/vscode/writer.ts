/**
 * A writer in its own process that appends text to a file in random pieces with random pauses,
 * as a trainer does: pieces split lines and UTF-8 sequences. The text goes through a temporary
 * file (not argv, which has a size limit).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = `
  const fs = require('node:fs');
  const bytes = fs.readFileSync(process.argv[2]);
  const most = Number(process.argv[3]);
  const pause = Number(process.argv[4]);
  let at = 0;
  const next = () => {
    if (at >= bytes.length) return;
    const n = 1 + Math.floor(Math.random() * most);
    fs.appendFileSync(process.argv[1], bytes.subarray(at, at + n));
    at += n;
    setTimeout(next, Math.random() * pause);
  };
  next();`;

export function appendInPieces(file: string, text: string, opts: { mostBytes?: number; mostPauseMs?: number } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-writer-'));
  const src = join(dir, 'text');
  writeFileSync(src, text);
  return new Promise<void>((ok, fail) => {
    const child = spawn(process.execPath, ['-e', SCRIPT, file, src, String(opts.mostBytes ?? 300), String(opts.mostPauseMs ?? 40)], { stdio: 'inherit' });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`writer exited with ${code}`))));
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
