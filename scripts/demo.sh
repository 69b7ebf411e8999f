#!/usr/bin/env bash
# `npm run demo`: build the VSIX and open the sample rollouts in VS Code. With a desktop `code`
# on PATH it installs the VSIX there; otherwise it runs code-server (real VS Code in the
# browser, installed by scripts/install-code-server.sh) on 127.0.0.1:${PORT:-8080}.
# Ctrl-C stops code-server and everything it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

[[ -d node_modules ]] || ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
npm run --silent package
SAMPLE="$ROOT/dist/sample"

if command -v code >/dev/null 2>&1 && code --version >/dev/null 2>&1; then
  code --install-extension grpo-studio.vsix --force
  code "$SAMPLE"
  echo "Opened $SAMPLE in VS Code; run \"GRPO Studio: Open Sample\" or open sample.rollouts.jsonl."
  exit 0
fi

CODE_SERVER="$(bash scripts/install-code-server.sh)"
PORT="${PORT:-8080}"
DATA="$ROOT/.cache/demo"
mkdir -p "$DATA/user-data/User" "$DATA/extensions"
[[ -f "$DATA/user-data/User/settings.json" ]] || cat >"$DATA/user-data/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "chat.disableAIFeatures": true,
  "telemetry.telemetryLevel": "off",
  "git.openRepositoryInParentFolders": "never"
}
JSON
# Own config file too: code-server would otherwise write one under ~/.config.
DIRS=(--user-data-dir "$DATA/user-data" --extensions-dir "$DATA/extensions" --config "$DATA/config.yaml")
export XDG_DATA_HOME="$DATA/data"  # code-server's logs and heartbeat, kept out of ~
"$CODE_SERVER" "${DIRS[@]}" --install-extension "$ROOT/grpo-studio.vsix" --force >/dev/null

# Own process group, so the trap ends code-server and every extension host it forked.
set -m
EXTENSIONS_GALLERY='{}' "$CODE_SERVER" "${DIRS[@]}" --auth none --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry --disable-update-check "$SAMPLE" &
SERVER=$!
set +m
stop() { kill -TERM -- "-$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap stop EXIT
trap 'exit 130' INT TERM

echo
echo "GRPO Studio demo: open http://127.0.0.1:$PORT/?folder=$SAMPLE"
echo "then run \"GRPO Studio: Open Sample\" (F1) or click sample.rollouts.jsonl. Ctrl-C stops it."
wait "$SERVER"
