#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it: system packages, npm dependencies, a private
# PostgreSQL, then lint, typecheck and every *.test.ts under Node's test runner.
# Usage: npm test [-- FILE_OR_DIR ...]   (no arguments: everything)
set -euo pipefail
cd "$(dirname "$0")/../.."

node -e 'const [maj,min]=process.versions.node.split(".").map(Number); if (maj<20||(maj===20&&min<19)) { console.error("Node.js >= 20.19 is required, found "+process.versions.node); process.exit(1) }'

bash tools/test/prepare.sh

# A fresh clone has no node_modules: install exactly the lockfile. (An existing tree is left as the
# developer's `npm install` made it.)
if [[ ! -d node_modules ]]; then
  echo "test: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >/dev/null
fi

pgdir=$(mktemp -d /tmp/sre-test-pg.XXXXXX)
cleanup() { bash tools/test/postgres.sh stop "$pgdir"; }
trap cleanup EXIT
TEST_POSTGRES_URL=$(bash tools/test/postgres.sh start "$pgdir")
export TEST_POSTGRES_URL

if (($# == 0)); then
  echo "test: lint"
  npx eslint --max-warnings 0 .
  echo "test: typecheck"
  npx tsc -p tsconfig.json
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.test.ts' | sort)
else
  files=("$@")
fi

echo "test: ${#files[@]} test files"
# Two files at a time: these machines have two cores, and several suites start real servers.
node --conditions=development --import tsx --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
