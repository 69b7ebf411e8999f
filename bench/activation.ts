/**
 * Extension activation (docs/benchmarks.md: ≤ 50 ms, nothing heavy loaded before first use): the
 * bundle evaluated and activate() run in fresh node processes against a stand-in `vscode`
 * whose APIs are no-ops (bench/activation-child.cjs), so the number is our own code's cost; the
 * median of `runs`, and the modules outside the bundle it loaded (there should be none).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ActivationStats {
  ms: number;
  loadMs: number;
  activateMs: number;
  required: string[];
  production: boolean;
  /** Why a run did not count: activate() threw, or ended before registering every contributed command. */
  error: string | null;
}

export function measureActivation(root: string, runs = 7): ActivationStats | null {
  const bundle = join(root, 'dist/extension.js');
  if (!existsSync(bundle)) return null;
  const samples = Array.from({ length: runs }, () => {
    const out = execFileSync(process.execPath, [join(root, 'bench/activation-child.cjs'), bundle], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; error?: string; loadMs: number; activateMs: number; required: string[]; registered: string[] };
  });
  const contributed = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } }).contributes.commands.map((c) => c.command);
  const missing = contributed.filter((c) => !samples[0]!.registered.includes(c));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    ms: median(samples.map((s) => s.loadMs + s.activateMs)),
    loadMs: median(samples.map((s) => s.loadMs)),
    activateMs: median(samples.map((s) => s.activateMs)),
    required: [...new Set(samples.flatMap((s) => s.required))],
    // The development build links its source map at the end of the bundle; the production one has none.
    production: !readFileSync(bundle, 'utf8').trimEnd().endsWith('extension.js.map'),
    error: samples.find((s) => !s.ok)?.error ?? (missing.length ? `activate() did not register ${missing.join(', ')}` : null),
  };
}
