/**
 * `npm run test:vscode`: the extension-host suite through @vscode/test-electron. It downloads
 * VS Code, which the project's own machines cannot reach (there the code-server driver in
 * test/vscode runs the same suite); this is for machines that can.
 */
import { runTests } from '@vscode/test-electron';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

async function main(): Promise<void> {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out/test/host-suite.js'),
    launchArgs: [
      join(root, 'dist/sample'),
      '--disable-extensions',
      '--disable-workspace-trust',
      `--user-data-dir=${mkdtempSync(join(tmpdir(), 'grpo-vscode-user-'))}`,
    ],
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  console.error('(@vscode/test-electron downloads VS Code; without that download, `npm run test:e2e` runs this suite in code-server)');
  process.exit(1);
});
