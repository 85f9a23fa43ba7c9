#!/usr/bin/env bash
# The main job on the embedded demo data, from a fresh machine (about 8 min
# on 2 CPU cores):
#   1. set up the environment (.venv),
#   2. generate the demo dataset (data/demo) and show it through the real
#      data pipeline,
#   3. pre-train the toy-size STOA-VLP (all six objectives) on it and plot
#      the six losses.
#
#   bash tools/run_demo.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=.venv/bin/python
CONFIG=configs/stoavlp/demo/stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py
WORK_DIR=work_dirs/demo/pretrain

bash tools/setup.sh
echo "== 1/3 demo dataset =="
$PY tools/data/make_demo_dataset.py --out data/demo
echo "== 2/3 the data pipeline on it (frames, boxes, tokens, noun/verb masks) =="
$PY tools/analysis_tools/browse_dataset.py \
    configs/_base_/datasets/demo/msrvtt_retrieval.py \
    --phase train --num 6 --out work_dirs/demo/pipeline_train.png
echo "== 3/3 pre-training STOA-VLP (toy size) on the demo data =="
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
$PY tools/analysis_tools/plot_losses.py "$WORK_DIR" \
    --out work_dirs/demo/pretrain_losses.png
echo "Done. Pictures: data/demo/contact_sheet.png (generated clips),"
echo "work_dirs/demo/pipeline_train.png (what the model sees) and"
echo "work_dirs/demo/pretrain_losses.png (the six pre-training losses)."
