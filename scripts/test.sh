#!/usr/bin/env bash
# The whole test suite: type check, lint, then unit, integration and end-to-end tests.
# Integration and e2e tests need root, dockerd and kubectl (scripts/prereqs.sh installs them);
# under CI=true a missing prerequisite fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build-dev.mjs
npx tsc -p tsconfig.json --noEmit
npx biome check src test bench scripts
mkdir -p .vitest-tmp
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-tmp/results.json "$@"
rc=$?
set -e
# one plain closing line: N passed, N failed, N skipped
node -e '
  const r = JSON.parse(require("fs").readFileSync(".vitest-tmp/results.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $rc
