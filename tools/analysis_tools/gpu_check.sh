#!/usr/bin/env bash
# A quick check for a GPU machine (under 5 minutes): the paper-size
# pre-training step (CLIP ViT-B/16, 12 frames at 224, all six objectives)
# in bfloat16, a few steps, throughput and model FLOPs utilisation.
#
#   bash tools/analysis_tools/gpu_check.sh [batch]      (default 16)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY=${PYTHON:-.venv/bin/python}
BATCH=${1:-16}
CONFIG=configs/stoavlp/stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
$PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print('torch', torch.__version__, 'on', torch.cuda.get_device_name())"
timeout 280 $PY tools/analysis_tools/throughput.py "$CONFIG" \
    --batch "$BATCH" --steps 10 --warmup 3 --amp bf16 --device cuda
