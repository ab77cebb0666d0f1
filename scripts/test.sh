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
# one plain closing line: N passed, N failed, N skipped. Tests that never ran because their file
# failed (a beforeAll hook threw, an import failed) count as failed, not skipped.
node -e '
  const r = JSON.parse(require("fs").readFileSync(".vitest-tmp/results.json", "utf8"));
  let failed = r.numFailedTests, skipped = r.numPendingTests + r.numTodoTests;
  for (const f of r.testResults) {
    if (f.status !== "failed") continue;
    const notRun = f.assertionResults.filter((a) => a.status !== "passed" && a.status !== "failed").length;
    const ran = f.assertionResults.some((a) => a.status === "failed");
    failed += notRun + (notRun === 0 && !ran ? 1 : 0);
    skipped -= notRun;
  }
  console.log(`${r.numPassedTests} passed, ${failed} failed, ${Math.max(0, skipped)} skipped`);
' || true
exit $rc
