#!/usr/bin/env bash
# Set up the environment (idempotent, full mmcv included) and run the whole
# test suite, slow integration tests included.
#
#   bash tools/run_tests.sh [extra pytest args]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash tools/setup.sh
# mmdet detectors (tools/data/extract_objects.py and its tests) need full
# mmcv: built once (about 12 min), then reused from ~/.cache/stoavlp.
PYTHON=.venv/bin/python bash tools/install_mmcv_full.sh
export STOAVLP_REQUIRE_MMCV_FULL=1  # those tests may not skip here
# the optional web demo (demo/webui.py) and its test, which may not skip here
.venv/bin/python -m pip install -q -c requirements/constraints.txt \
    -r requirements/webui.txt
export STOAVLP_REQUIRE_WEBUI=1
# torchcodec and FFmpeg's libraries (tools/setup.sh): its tests may not skip
export STOAVLP_REQUIRE_TORCHCODEC=1
exec .venv/bin/python -m pytest tests -q "$@"
