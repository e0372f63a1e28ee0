#!/usr/bin/env bash
# Installs (as root) or names (otherwise) the references the benchmarks run beside our figures:
# nginx (reverse-proxy reference) and wrk (load generator in its own process). Debian/Ubuntu names.
set -euo pipefail

declare -A needs=([nginx]=nginx [wrk]=wrk)
missing=()
for cmd in "${!needs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [[ -x "/usr/sbin/$cmd" ]] || missing+=("${needs[$cmd]}")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "bench prepare: missing system packages: ${missing[*]}" >&2
  echo "bench prepare: install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "bench prepare: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's nginx package may start a system nginx on :80; the benchmarks start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then systemctl stop nginx || true; fi
