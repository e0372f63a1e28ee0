#!/usr/bin/env bash
# What a failed cluster run leaves for debugging (.github/workflows/e2e.yml uploads it): events of
# every namespace, every pod's description and logs (previous container too) in app, monitoring,
# ingress-nginx and kube-system, and a Prometheus snapshot (targets, rules, alerts as JSON, and the
# TSDB directory of prometheus-0). Best effort: one failing command never stops the rest.
#   tools/k8s/collect-diagnostics.sh OUT_DIR [--context NAME]
set -uo pipefail

out="${1:?usage: tools/k8s/collect-diagnostics.sh OUT_DIR [--context NAME]}"
shift
k=(kubectl)
if [[ "${1:-}" == --context ]]; then k+=(--context "${2:?--context needs a name}"); fi
mkdir -p "$out/logs" "$out/prometheus"

"${k[@]}" get events -A --sort-by=.lastTimestamp >"$out/events.txt" 2>&1
"${k[@]}" get all,pvc,networkpolicy,hpa,pdb -A -o wide >"$out/objects.txt" 2>&1
for ns in app monitoring ingress-nginx kube-system; do
  "${k[@]}" -n "$ns" describe pods >"$out/logs/$ns-describe.txt" 2>&1
  for pod in $("${k[@]}" -n "$ns" get pods -o name 2>/dev/null); do
    name="${pod#pod/}"
    "${k[@]}" -n "$ns" logs "$pod" --all-containers --prefix --tail=2000 >"$out/logs/$ns-$name.log" 2>&1
    "${k[@]}" -n "$ns" logs "$pod" --all-containers --prefix --previous --tail=2000 >"$out/logs/$ns-$name.previous.log" 2>/dev/null ||
      rm -f "$out/logs/$ns-$name.previous.log"
  done
done

# Prometheus' API from inside its own pod (its NetworkPolicy admits only Grafana, so neither the API
# server's service proxy nor another pod could ask; the image's busybox has wget and tar).
for endpoint in targets rules alerts; do
  "${k[@]}" -n monitoring exec prometheus-0 -c prometheus -- wget -qO- "http://localhost:9090/api/v1/$endpoint" >"$out/prometheus/$endpoint.json" 2>&1
done
"${k[@]}" -n monitoring exec prometheus-0 -c prometheus -- tar -C /prometheus -czf - . >"$out/prometheus/tsdb.tar.gz" 2>"$out/prometheus/tsdb.err" ||
  echo "collect-diagnostics: no TSDB copy (see prometheus/tsdb.err)"
echo "collect-diagnostics: wrote $out"
