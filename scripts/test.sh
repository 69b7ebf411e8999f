#!/usr/bin/env bash
# `npm test`: install missing system packages, build, type-check, package the VSIX, bundle the
# extension-host suite, install code-server, then ONE node:test run over unit, webview and
# real-VS-Code tests, so the run ends with node's test summary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

t0=$(date +%s)
step() {
  local name="$1" s; shift
  echo; echo "=== $name ==="
  s=$(date +%s)
  "$@"
  echo "--- $name: $(($(date +%s) - s))s"
}

# The Debian packages the real-VS-Code tests need (chromium, fonts; libkrb5-dev and a compiler
# to build code-server): installed when missing and root, else the command to run is printed.
step "system packages"     bash scripts/system-deps.sh all
step "build"               npm run --silent build
step "typecheck"           npm run --silent typecheck
step "package (VSIX)"      npm run --silent package
step "bundle host suite"   node test/extension-host/bundle.mjs
step "install code-server" bash -c 'bash scripts/install-code-server.sh >/dev/null'
echo "prepared in $(($(date +%s) - t0))s"

echo; echo "=== tests ==="
shopt -s nullglob
files=(test/unit/*.test.ts test/webview/*.test.ts test/vscode/*.test.ts)
# A test that hangs fails after 5 minutes instead of holding CI to its 90-minute limit.
exec node --import tsx --test --test-concurrency=1 --test-timeout=300000 "${files[@]}"
