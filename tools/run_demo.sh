#!/usr/bin/env bash
# The main job on the embedded demo data, from a fresh machine:
# set up the environment, generate the demo dataset (data/demo), and show it
# through the real data pipeline (work_dirs/demo/).
#
#   bash tools/run_demo.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=.venv/bin/python

bash tools/setup.sh
echo "== 1/2 demo dataset =="
$PY tools/data/make_demo_dataset.py --out data/demo
echo "== 2/2 the data pipeline on it (frames, boxes, tokens, noun/verb masks) =="
$PY tools/analysis_tools/browse_dataset.py \
    configs/_base_/datasets/demo/msrvtt_retrieval.py \
    --phase train --num 6 --out work_dirs/demo/pipeline_train.png
echo "Done. Pictures: data/demo/contact_sheet.png (generated clips) and"
echo "work_dirs/demo/pipeline_train.png (what the model will see)."
