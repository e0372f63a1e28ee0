#!/usr/bin/env bash
# Installs (as root) or names (otherwise) the system packages the test suites need.
# Debian/Ubuntu only: package names are Debian's.
set -euo pipefail

# command → Debian package
declare -A needs=(
  [initdb]=postgresql
  [prometheus]=prometheus
  [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  [chromium]=chromium
  [podman]=podman
  [runc]=runc
  [debootstrap]=debootstrap
  # podman builds its pod infra (pause) image from catatonit: pods and `podman kube play` need it
  [catatonit]=catatonit
  [yamllint]=yamllint
  [shellcheck]=shellcheck
  [kubectl]=kubectl
  [openssl]=openssl
)

have() {
  case "$1" in
    initdb) compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

# Arguments (optional): check only these commands, e.g. `prepare.sh initdb` for `npm run test:unit`.
wanted=("$@")
((${#wanted[@]} > 0)) || wanted=("${!needs[@]}")

missing_pkgs=()
for cmd in "${wanted[@]}"; do
  [[ -n ${needs[$cmd]:-} ]] || { echo "prepare: unknown command $cmd" >&2; exit 2; }
  have "$cmd" || missing_pkgs+=("${needs[$cmd]}")
done
mapfile -t missing_pkgs < <(printf '%s\n' "${missing_pkgs[@]}" | sort -u | sed '/^$/d')

if ((${#missing_pkgs[@]} == 0)); then
  exit 0
fi

if [[ " ${missing_pkgs[*]} " == *" kubectl "* ]]; then
  echo "prepare: kubectl is not packaged by Debian; install it from https://kubernetes.io/docs/tasks/tools/ (needed to render k8s/ with kustomize)" >&2
  mapfile -t missing_pkgs < <(printf '%s\n' "${missing_pkgs[@]}" | grep -vx kubectl)
  [[ "${KUBECTL_OPTIONAL:-}" == 1 ]] || exit 1
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "prepare: missing system packages: ${missing_pkgs[*]}" >&2
  echo "prepare: install them with: sudo apt-get install -y --no-install-recommends ${missing_pkgs[*]}" >&2
  exit 1
fi

echo "prepare: installing ${missing_pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
# The Debian postgresql package starts a cluster of its own on 5432; the tests use a private server.
