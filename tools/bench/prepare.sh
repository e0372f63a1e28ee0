#!/usr/bin/env bash
# Installs (as root) or names (otherwise) the Debian packages the bench's references need.
# Each suite's entries sit in the map below: one line per package, so branches merge cleanly.
# Usage: bash tools/bench/prepare.sh [SUITE ...]   (no arguments: every suite)
set -euo pipefail

# package → suite that needs it (check: how to tell it is there)
declare -A suite_of=(
  [python3-fastapi]=uploads
  [python3-uvicorn]=uploads
  [python3-multipart]=uploads
  [python3-pil]=uploads
  [nginx]=gateway
  [wrk]=gateway
)
declare -A check_of=(
  [python3-fastapi]='/usr/bin/python3 -c "import fastapi"'
  [python3-uvicorn]='/usr/bin/python3 -c "import uvicorn"'
  [python3-multipart]='/usr/bin/python3 -c "import multipart"'
  [python3-pil]='/usr/bin/python3 -c "import PIL.Image, PIL.WebPImagePlugin"'
  [nginx]='command -v nginx || test -x /usr/sbin/nginx'
  [wrk]='command -v wrk'
)

wanted=("$@")
missing=()
for pkg in "${!suite_of[@]}"; do
  if ((${#wanted[@]} > 0)) && [[ " ${wanted[*]} " != *" ${suite_of[$pkg]} "* ]]; then continue; fi
  bash -c "${check_of[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "bench prepare: missing Debian packages: ${missing[*]}" >&2
  echo "bench prepare: install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "bench prepare: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's nginx package may start a system nginx on :80; the benchmarks start their own.
if [[ " ${missing[*]} " == *" nginx "* ]] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  systemctl stop nginx || true
fi
