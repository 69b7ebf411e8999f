#!/usr/bin/env bash
# The Debian packages `npm run demo`, `npm test` and .ci/run need, installed only when missing.
#   bash scripts/system-deps.sh code-server   # building code-server: libkrb5-dev, build-essential, python3
#   bash scripts/system-deps.sh browser       # the real-VS-Code tests' browser: chromium, fonts-dejavu-core
#   bash scripts/system-deps.sh slurm         # the Slurm tests' one-node cluster: slurm-wlm, munge
#   bash scripts/system-deps.sh all           # all three (the default)
#   bash scripts/system-deps.sh ci            # all three, and curl (.ci/run checks the demo with it)
# As root with apt-get it installs what is missing; otherwise it prints the one command to run
# and exits 1. Everything it prints goes to stderr, so callers' stdout stays theirs.
set -euo pipefail
exec 1>&2

want="${1:-all}"
case "$want" in code-server|browser|slurm|all|ci) ;; *) echo "usage: system-deps.sh [code-server|browser|slurm|all|ci]"; exit 2 ;; esac

missing=()
if [[ "$want" != browser && "$want" != slurm ]]; then
  # code-server's postinstall builds the `kerberos` native module, which needs krb5-config.
  command -v krb5-config >/dev/null 2>&1 || missing+=(libkrb5-dev)
  # node-gyp builds code-server's native modules.
  { command -v make && command -v g++; } >/dev/null 2>&1 || missing+=(build-essential)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
fi
if [[ "$want" != code-server && "$want" != slurm ]]; then
  # CHROMIUM_BIN lets a machine use a chromium installed elsewhere (test/vscode/codeServer.ts reads it too).
  [[ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]] || missing+=(chromium)
  # Without any font chromium renders no text; the screenshots must be readable. (No `| grep -q`:
  # under pipefail the writer's SIGPIPE would read as "no font".)
  if [[ -z "$(fc-list 2>/dev/null)" && -z "$(find /usr/share/fonts -name '*.ttf' -print -quit 2>/dev/null)" ]]; then
    missing+=(fonts-dejavu-core)
  fi
fi

if [[ "$want" == slurm || "$want" == all || "$want" == ci ]]; then
  # test/support/slurm.ts starts munged, slurmctld and slurmd (a one-node cluster) for the Slurm tests.
  { command -v sbatch && [[ -x /usr/sbin/slurmctld && -x /usr/sbin/slurmd ]]; } >/dev/null 2>&1 || missing+=(slurm-wlm)
  [[ -x /usr/sbin/munged ]] || missing+=(munge)
fi

[[ "$want" != ci ]] || command -v curl >/dev/null 2>&1 || missing+=(curl)

((${#missing[@]})) || exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 \
    && echo "system-deps: missing Debian packages ${missing[*]}; run: sudo apt-get update && sudo $cmd" \
    || echo "system-deps: missing ${missing[*]} (Debian package names); install them with your system's package manager"
  exit 1
fi
echo "system-deps: installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"
