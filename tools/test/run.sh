#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it: system packages, npm dependencies, a private
# PostgreSQL, then lint, typecheck and every *.test.ts under Node's test runner.
# Usage: npm test [-- FILE_OR_DIR ...]   (no arguments: everything, with format check, lint, cycles, typecheck)
#        npm run test:unit               (--only-node-tests: the platform's and services' own fast tests, not
#                                         their *.integration.test.ts (real processes, crash loops, reconciles
#                                         over time) nor the PGlite variants; needs only the PostgreSQL server
#                                         binaries, not podman, Chromium or kubectl)
set -euo pipefail
cd "$(dirname "$0")/../.."

node -e 'const [maj,min]=process.versions.node.split(".").map(Number); if (maj<20||(maj===20&&min<19)) { console.error("Node.js >= 20.19 is required, found "+process.versions.node); process.exit(1) }'

only_node_tests=0
if [[ ${1:-} == --only-node-tests ]]; then
  only_node_tests=1
  shift
  (($# == 0)) || { echo "test: --only-node-tests takes no files (use npm test -- FILE ...)" >&2; exit 2; }
fi

# The whole suite installs every system package it uses. Named files (and test:unit) need only the
# PostgreSQL server binaries up front: a test that needs another tool names it itself (requireTool:
# skipped with the install command, or failed under CI=true), so one file does not wait on apt for
# podman, Chromium or kubectl it never touches.
if ((only_node_tests)) || (($# > 0)); then
  bash tools/test/prepare.sh initdb
else
  bash tools/test/prepare.sh
fi

# A fresh clone has no node_modules: install exactly the lockfile. (An existing tree is left as the
# developer's `npm install` made it.)
if [[ ! -d node_modules ]]; then
  echo "test: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >/dev/null
fi

pgdir=$(mktemp -d /tmp/sre-test-pg.XXXXXX)
# The test bundles of this run (see below): a folder of its own, so runs in two terminals do not
# replace each other's files.
mkdir -p node_modules/.cache
bundle_dir=$(mktemp -d node_modules/.cache/sre-test-bundles.XXXXXX)
cleanup() {
  bash tools/test/postgres.sh stop "$pgdir"
  rm -rf "$bundle_dir"
}
trap cleanup EXIT
TEST_POSTGRES_URL=$(bash tools/test/postgres.sh start "$pgdir")
export TEST_POSTGRES_URL

if ((only_node_tests)); then
  # The inner loop: no lint or typecheck pass (the editor and `npm test` run those), and no
  # *.integration.test.ts: those start real processes, kill them, or wait on real time (the full
  # `npm test` and CI run them). `:(glob)` keeps `*` inside one folder.
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
    ':(glob)packages/*/test/*.test.ts' ':(glob)services/*/test/*.test.ts' ':(exclude)*.integration.test.ts' | sort)
  # The suites that exist to cover embedded PGlite run in the full suite only: each PGlite instance
  # costs seconds of CPU, and every one of them also runs on PostgreSQL (packages/testkit pgliteSuiteSkip).
  export TEST_PGLITE=skip
elif (($# == 0)); then
  echo "test: format (prettier --check; fix with npm run format)"
  npx prettier --check --log-level warn .
  echo "test: lint (type-aware, package boundaries)"
  npx eslint --max-warnings 0 .
  echo "test: import cycles"
  npm run --silent lint:cycles
  echo "test: typecheck"
  npx tsc -p tsconfig.json
  # In name order. With the two longest files first (the local drills and the container builds) a run
  # took about 15 instead of 17 minutes, but the drills then ran beside every CPU-heavy suite, and their
  # rolling restart under load saw one 503 in two of four runs (CI runs 18 and 24); see docs/local.md#tests.
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.test.ts' | sort)
else
  # A folder stands for the test files in it (and below it).
  files=()
  for arg in "$@"; do
    if [[ -d $arg ]]; then
      mapfile -t -O "${#files[@]}" files < <(git ls-files --cached --others --exclude-standard -- "${arg%/}/**/*.test.ts" "${arg%/}/*.test.ts" | sort -u)
    else
      files+=("$arg")
    fi
  done
  ((${#files[@]} > 0)) || { echo "test: no *.test.ts files in: $*" >&2; exit 2; }
fi

echo "test: ${#files[@]} test files"
if ((only_node_tests)); then
  # Fast in-process files, two per core: several of them mostly wait (a slow-loris timeout, a database
  # stopped and started), and another file's CPU work fills that time.
  concurrency=$(node -p '2 * require("node:os").availableParallelism()')
else
  # Two files at a time: these machines have two cores, and several suites start real servers. A file
  # counts as hung after 25 minutes: the local drills (nine scenarios end to end against real Prometheus
  # and Alertmanager) and the cold container builds take about 14 minutes each on a quiet machine.
  concurrency=2
fi
# Each test file runs as one esbuild bundle of our TypeScript (npm packages stay imports): through
# tsx, Node 20's off-thread loader hooks cost 1-2 s of CPU in every test process (tools/test/bundle.ts).
# Source maps point stack traces and failure locations back at the .ts files.
# Named files run one process each; otherwise each package's fast tests share one process.
group=(--group-packages)
(($# > 0)) && group=()
# (An assignment, not `mapfile < <(...)`: a failed bundle must stop the run, not leave no files and let
# node --test go looking for tests by itself.)
bundle_list=$(node --import tsx tools/test/bundle.ts "$bundle_dir" "${group[@]}" "${files[@]}")
mapfile -t bundles <<<"$bundle_list"
node --enable-source-maps --test --test-concurrency="$concurrency" --test-timeout=1500000 "${bundles[@]}"
