#!/usr/bin/env bash
# The whole test suite: type check, lint, then unit, integration and end-to-end tests.
# Integration and e2e tests need root, dockerd and kubectl (scripts/prereqs.sh installs them);
# under CI=true a missing prerequisite fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/edgekube.mjs ] || node scripts/build-dev.mjs
npx tsc -p tsconfig.json --noEmit
npx biome check src test bench scripts
npx vitest run "$@"
