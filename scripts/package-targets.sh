#!/usr/bin/env bash
# One VSIX per platform (`vsce package --target`), each carrying only its own ONNX runtime
# binaries for the local judge tier, plus a universal VSIX without the local tier (asked for, it
# says so: src/core/judge/local/worker.ts). Writes out/vsix/grpo-studio-<target>.vsix and
# out/vsix/grpo-studio-universal.vsix; test/package/vsix-targets.test.ts checks their contents.
#
#   bash scripts/package-targets.sh [--no-build] [target…]     (npm run package:targets)
#
# The production build runs once; each VSIX is packed from a staging copy of the package files,
# so dist/ in the working tree (what `npm run package` and the e2e tests use) is left as built.
# onnxruntime-node ships no darwin-x64 binaries (since 1.20): that VSIX carries no local tier,
# like the universal one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ALL_TARGETS=(linux-x64 linux-arm64 darwin-arm64 darwin-x64 win32-x64)
build=1
targets=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    linux-x64|linux-arm64|darwin-arm64|darwin-x64|win32-x64|universal) targets+=("$a") ;;
    *) echo "package-targets: unknown argument '$a' (targets: ${ALL_TARGETS[*]} universal)" >&2; exit 2 ;;
  esac
done
[[ ${#targets[@]} -eq 0 ]] && targets=("${ALL_TARGETS[@]}" universal)

OUT=${VSIX_OUT_DIR:-out/vsix}
STAGE=out/vsix-stage
ORT_BIN=node_modules/onnxruntime-node/bin
VSCE=node_modules/.bin/vsce

if [[ $build -eq 1 ]]; then
  node scripts/build.mjs --production
  node --import tsx scripts/make-sample.ts dist/sample >/dev/null
fi
for f in dist/extension.js dist/cli.js dist/nli-worker.js dist/node_modules/onnxruntime-node/package.json; do
  [[ -e $f ]] || { echo "package-targets: $f missing: run the production build (node scripts/build.mjs --production)" >&2; exit 1; }
done
if grep -q sourceMappingURL dist/extension.js dist/webview/viewer.js; then
  echo "package-targets: dist/ is a development build (source maps): run without --no-build" >&2; exit 1
fi
napi=$(ls "$ORT_BIN")   # napi-v6: the one N-API folder onnxruntime-node ships
[[ $(wc -w <<<"$napi") -eq 1 ]] || { echo "package-targets: expected one napi folder in $ORT_BIN, found: $napi" >&2; exit 1; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
VSCE=$PWD/$VSCE
rm -rf "$STAGE"
mkdir -p "$STAGE"
# What .vscodeignore lets into a VSIX, nothing else (vsce reads the copy of .vscodeignore too).
for f in package.json README.md CHANGELOG.md LICENSE .vscodeignore schemas python dist; do
  [[ -e $f ]] && cp -R "$f" "$STAGE/"
done
rm -rf "$STAGE/dist/node_modules/onnxruntime-node/bin"
# Maps a development build left behind: the production bundles name none.
find "$STAGE/dist" -name '*.map' -delete
# dist/node_modules as the production build wrote it, without any platform's binaries.
mv "$STAGE/dist/node_modules" "$STAGE/ort-js"

for t in "${targets[@]}"; do
  start=$(date +%s)
  rm -rf "$STAGE/dist/node_modules"
  platform=${t%-*}
  arch=${t#*-}
  note=""
  if [[ $t != universal ]]; then
    if [[ -d $ORT_BIN/$napi/$platform/$arch ]]; then
      cp -R "$STAGE/ort-js" "$STAGE/dist/node_modules"
      mkdir -p "$STAGE/dist/node_modules/onnxruntime-node/bin/$napi/$platform"
      cp -R "$ORT_BIN/$napi/$platform/$arch" "$STAGE/dist/node_modules/onnxruntime-node/bin/$napi/$platform/"
    else
      note=" (onnxruntime-node has no $platform/$arch binaries: no local tier)"
    fi
  else
    note=" (no local tier)"
  fi
  file="$OUT/grpo-studio-$t.vsix"
  rm -f "$file"
  target_args=()
  [[ $t != universal ]] && target_args=(--target "$t")
  (cd "$STAGE" && "$VSCE" package "${target_args[@]}" --no-dependencies --allow-missing-repository \
    --no-rewrite-relative-links -o "$file" >/dev/null)
  echo "$file: $(du -h "$file" | cut -f1)$note in $(($(date +%s) - start))s"
done
rm -rf "$STAGE"
