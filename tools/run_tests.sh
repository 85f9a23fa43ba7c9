#!/usr/bin/env bash
# Set up the environment (idempotent) and run the whole test suite,
# slow integration tests included.
#
#   bash tools/run_tests.sh [extra pytest args]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash tools/setup.sh
exec .venv/bin/python -m pytest tests -q "$@"
