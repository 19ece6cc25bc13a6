#!/usr/bin/env bash
# The main command of the README: set-up (idempotent), then the `linguamesh` command with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec node bin/linguamesh.js "$@"
