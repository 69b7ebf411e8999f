#!/usr/bin/env bash
# `npm run demo`: build the VSIX and open the sample rollouts in VS Code. With a desktop `code`
# on PATH it installs the VSIX there; otherwise it runs code-server (real VS Code in the
# browser, installed by scripts/install-code-server.sh, which installs the Debian packages it
# builds with when run as root) on 127.0.0.1:${PORT:-8080}.
# The sample is written to ~/grpo-studio-sample (GRPO_SAMPLE_DIR overrides), the folder the
# extension's Open Sample command uses too: one the user can see and open again.
# Ctrl-C stops code-server and everything it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

[[ -d node_modules ]] || ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
npm run --silent package
SAMPLE="${GRPO_SAMPLE_DIR:-$HOME/grpo-studio-sample}"
mkdir -p "$SAMPLE"
cp -R dist/sample/. "$SAMPLE/"
FILE="$SAMPLE/sample.rollouts.jsonl"

if command -v code >/dev/null 2>&1 && code --version >/dev/null 2>&1; then
  code --install-extension grpo-studio.vsix --force
  # A *.rollouts.jsonl opens in the GRPO Rollout Viewer (its default editor).
  code "$SAMPLE" "$FILE"
  echo "Opened $FILE in VS Code (the GRPO Rollout Viewer)."
  exit 0
fi

# Its stdout is exactly the launcher's path (its progress goes to stderr).
CODE_SERVER="$(bash scripts/install-code-server.sh)"
[[ -x "$CODE_SERVER" ]] || { echo "demo: install-code-server.sh gave no launcher ($CODE_SERVER)" >&2; exit 1; }
PORT="${PORT:-8080}"
DATA="$ROOT/.cache/demo"
mkdir -p "$DATA/user-data/User" "$DATA/extensions"
# Written every run: these are the demo's settings, not the user's (its own --user-data-dir).
# The secondary side bar (chat) would stand empty beside the viewer; the sample folder is ours,
# so no trust prompt stands before the first screen.
cat >"$DATA/user-data/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "chat.disableAIFeatures": true,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "git.openRepositoryInParentFolders": "never"
}
JSON
# Own config file too: code-server would otherwise write one under ~/.config.
DIRS=(--user-data-dir "$DATA/user-data" --extensions-dir "$DATA/extensions" --config "$DATA/config.yaml")
export XDG_DATA_HOME="$DATA/data"  # code-server's logs and heartbeat, kept out of ~
"$CODE_SERVER" "${DIRS[@]}" --install-extension "$ROOT/grpo-studio.vsix" --force >/dev/null

# Own process group, so the trap ends code-server and every extension host it forked.
set -m
EXTENSIONS_GALLERY='{}' GRPO_STUDIO_DEMO_OPEN="$FILE" "$CODE_SERVER" "${DIRS[@]}" --auth none --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry --disable-update-check "$SAMPLE" &
SERVER=$!
set +m
stop() { kill -TERM -- "-$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap stop EXIT
trap 'exit 130' INT TERM

# The URL is printed once it answers. The extension opens $FILE in the viewer when the
# workbench starts (GRPO_STUDIO_DEMO_OPEN, read by src/extension.ts; its extension host inherits
# code-server's environment).
for _ in $(seq 1 120); do
  kill -0 "$SERVER" 2>/dev/null || { echo "demo: code-server exited" >&2; exit 1; }
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
    "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.5
done
URL="http://127.0.0.1:$PORT/?folder=$(node -p 'encodeURIComponent(process.argv[1])' "$SAMPLE")"

echo
echo "GRPO Studio demo: open $URL"
echo "(the sample: $FILE; \"GRPO Studio: Open Sample\" (F1) opens it again). Ctrl-C stops it."
wait "$SERVER"
