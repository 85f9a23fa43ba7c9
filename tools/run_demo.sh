#!/usr/bin/env bash
# The main job on the embedded demo data, from a fresh machine (about 25 min
# on 2 CPU cores):
#   1. set up the environment (.venv),
#   2. generate the demo dataset (data/demo) and show it through the real
#      data pipeline,
#   3. stage 0: train the tiny CLIP (video and text towers, contrastive) and
#      export it in OpenAI's checkpoint layout, the stand-in for ViT-B-16.pt,
#   4. pre-train the toy-size STOA-VLP (all six objectives) from it, measure
#      its mechanism (OTA, VTM, probes) and plot losses and metrics,
#   5. fine-tune and evaluate it on captioning, retrieval, multiple choice
#      and QA of the demo data, and print one table with chance levels.
# Stages whose checkpoint exists are not trained again (FORCE=1 retrains).
#
#   bash tools/run_demo.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=.venv/bin/python
DEMO=configs/stoavlp/demo
OUT=work_dirs/demo

train() {  # train CONFIG WORK_DIR FINAL_CHECKPOINT
    if [ -f "$2/$3" ] && [ "${FORCE:-0}" != 1 ]; then
        echo "($2/$3 exists: not training again; FORCE=1 retrains)"
    else
        $PY tools/train.py "$1" --work-dir "$2"
    fi
}

bash tools/setup.sh
echo "== 1/5 demo dataset =="
$PY tools/data/make_demo_dataset.py --out data/demo
echo "== 2/5 the data pipeline on it (frames, boxes, tokens, noun/verb masks) =="
$PY tools/analysis_tools/browse_dataset.py \
    configs/_base_/datasets/demo/msrvtt_retrieval.py \
    --phase train --num 6 --out $OUT/pipeline_train.png
echo "== 3/5 stage 0: the tiny CLIP (contrastive, region-word) =="
train $DEMO/clip_tiny-u4-res112_1xb32-6e_demo-contrastive.py $OUT/clip clip.pth
echo "== 4/5 pre-training STOA-VLP (toy size) from the tiny CLIP =="
train $DEMO/stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py $OUT/pretrain epoch_6.pth
$PY tools/analysis_tools/plot_losses.py $OUT/pretrain --out $OUT/pretrain_losses.png
cp $OUT/pretrain/mechanism.png $OUT/pretrain_mechanism.png 2>/dev/null || true
$PY tools/test.py $DEMO/stoavlp_tiny-u8-res112_1xb16-6e_demo-mechanism.py \
    $OUT/pretrain/epoch_6.pth --work-dir $OUT/mechanism
echo "== 5/5 fine-tuning and evaluation: captioning, retrieval, MC, QA =="
train $DEMO/stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py $OUT/caption epoch_3.pth
$PY tools/test.py $DEMO/stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py \
    $OUT/caption/epoch_3.pth --work-dir $OUT/caption
train $DEMO/stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py $OUT/retrieval epoch_3.pth
$PY tools/test.py $DEMO/stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py \
    $OUT/retrieval/epoch_3.pth --work-dir $OUT/retrieval
$PY tools/test.py $DEMO/stoavlp_tiny-u8-res112_1xb16-3e_demo-mc.py \
    $OUT/retrieval/epoch_3.pth --work-dir $OUT/mc
train $DEMO/stoavlp_tiny-u8-res112_1xb16-5e_demo-qa.py $OUT/qa epoch_5.pth
$PY tools/test.py $DEMO/stoavlp_tiny-u8-res112_1xb16-5e_demo-qa.py \
    $OUT/qa/epoch_5.pth --work-dir $OUT/qa
$PY tools/analysis_tools/demo_report.py --work-dir $OUT --data data/demo
echo "== pictures of the trained models =="
$PY tools/analysis_tools/visualize_clip.py $DEMO/stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py \
    $OUT/pretrain/epoch_6.pth --index 0 --phase train --out $OUT/vis/pretrain --gif
$PY tools/analysis_tools/visualize_clip.py $DEMO/stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py \
    $OUT/caption/epoch_3.pth --index 0 --out $OUT/vis/caption
$PY tools/analysis_tools/visualize_retrieval.py $DEMO/stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py \
    $OUT/retrieval/epoch_3.pth --index 0 --out $OUT/vis/retrieval_top5.png
echo "Done. Pictures: data/demo/contact_sheet.png (generated clips),"
echo "$OUT/pipeline_train.png (what the model sees),"
echo "$OUT/pretrain_losses.png (the six pre-training losses),"
echo "$OUT/pretrain_mechanism.png (OTA, VTM, probes per epoch, chance dashed),"
echo "$OUT/vis/ (a clip's trajectories with their OTA/ASP matches, PNG and GIF;"
echo "a generated caption; a query's top-5 videos); results: $OUT/results.md."
