// Bundles the extension-host suite (mocha inside, `vscode` external) into out/test/host-suite.js:
// one file that both @vscode/test-electron and the code-server driver load at run time.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['test/extension-host/suite.ts'],
  outfile: 'out/test/host-suite.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  sourcemap: 'inline',
  logLevel: 'warning',
  // mocha's parallel mode (never used here) resolves worker files by path.
  logOverride: { 'require-resolve-not-external': 'silent' },
});
console.log('bundled out/test/host-suite.js');
