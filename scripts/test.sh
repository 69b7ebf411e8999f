#!/usr/bin/env bash
# `npm test`: build, type-check, package the VSIX, bundle the extension-host suite, install
# code-server, then ONE node:test run over unit, webview and real-VS-Code tests, so the run ends
# with node's test summary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHROMIUM="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" ]]; then
  echo "test.sh: $CHROMIUM not found; the real VS Code tests need Debian chromium:" >&2
  echo "  apt-get install -y chromium   (or set CHROMIUM_BIN)" >&2
  exit 1
fi

phase() { echo; echo "=== $* ==="; }
t0=$(date +%s)

phase "build";               npm run --silent build
phase "typecheck";           npm run --silent typecheck
phase "package (VSIX)";      npm run --silent package
phase "bundle host suite";   node test/extension-host/bundle.mjs
phase "install code-server"; bash scripts/install-code-server.sh >/dev/null
echo "prepared in $(($(date +%s) - t0))s"

phase "tests"
shopt -s nullglob
files=(test/unit/*.test.ts test/webview/*.test.ts test/vscode/*.test.ts)
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
