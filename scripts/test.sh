#!/usr/bin/env bash
# The test command of the README: set-up (idempotent), then typecheck, lint and the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent typecheck
npm run --silent lint
npx vitest run "$@"
