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
#      and QA of the demo data, and print one table with chance levels,
#   6. use the trained models as a user would (stoavlp.apis through demo/):
#      caption two test clips, answer a question, search the test videos.
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
echo "== 1/6 demo dataset =="
$PY tools/data/make_demo_dataset.py --out data/demo
echo "== 2/6 the data pipeline on it (frames, boxes, tokens, noun/verb masks) =="
$PY tools/analysis_tools/browse_dataset.py \
    configs/_base_/datasets/demo/msrvtt_retrieval.py \
    --phase train --num 6 --out $OUT/pipeline_train.png
echo "== 3/6 stage 0: the tiny CLIP (contrastive, region-word) =="
train $DEMO/clip_tiny-u4-res112_1xb32-6e_demo-contrastive.py $OUT/clip clip.pth
echo "== 4/6 pre-training STOA-VLP (toy size) from the tiny CLIP =="
train $DEMO/stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py $OUT/pretrain epoch_6.pth
$PY tools/analysis_tools/plot_losses.py $OUT/pretrain --out $OUT/pretrain_losses.png
cp $OUT/pretrain/mechanism.png $OUT/pretrain_mechanism.png 2>/dev/null || true
$PY tools/test.py $DEMO/stoavlp_tiny-u8-res112_1xb16-6e_demo-mechanism.py \
    $OUT/pretrain/epoch_6.pth --work-dir $OUT/mechanism
echo "== 5/6 fine-tuning and evaluation: captioning, retrieval, MC, QA =="
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
echo "== 6/6 the trained models on videos (stoavlp.apis, demo/) =="
# weights-only copies: what a user loads anywhere (torch weights_only=True)
for task in caption retrieval qa; do
    last=$(ls $OUT/$task/epoch_*.pth | sort -V | tail -1)
    $PY tools/model_converters/publish_model.py "$last" $OUT/published/$task.pth --no-hash
done
# the demo test split as a folder of the user's own videos
mkdir -p $OUT/test_videos
tail -n +2 data/demo/MSRVTT_JSFUSION_test.csv | cut -d, -f3 | while read -r v; do
    ln -sf "$ROOT/data/demo/videos/$v.mp4" "$OUT/test_videos/$v.mp4"
done
# sed, not head: head closing the pipe early kills tail (SIGPIPE), and
# pipefail then stops the script without a word
first=$(tail -n +2 data/demo/MSRVTT_JSFUSION_test.csv | sed -n 1,2p | cut -d, -f3)
query=$(tail -n +2 data/demo/MSRVTT_JSFUSION_test.csv | sed -n 1p | cut -d, -f4)
$PY demo/caption_video.py $DEMO/stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py \
    $OUT/published/caption.pth $(for v in $first; do echo data/demo/videos/$v.mp4; done) \
    --objects-dir data/demo/objects --out $OUT/vis/caption_video.png
$PY demo/video_qa.py $DEMO/stoavlp_tiny-u8-res112_1xb16-5e_demo-qa.py \
    $OUT/published/qa.pth data/demo/videos/$(echo $first | cut -d' ' -f1).mp4 \
    "what is bouncing?" --objects-dir data/demo/objects --topk 3
$PY demo/search_videos.py $DEMO/stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py \
    $OUT/published/retrieval.pth --gallery $OUT/test_videos --query "$query" \
    --objects-dir data/demo/objects --cache $OUT/test_videos.feats.pt \
    --out $OUT/vis/search_videos.png
echo "Done. Pictures: data/demo/contact_sheet.png (generated clips),"
echo "$OUT/pipeline_train.png (what the model sees),"
echo "$OUT/pretrain_losses.png (the six pre-training losses),"
echo "$OUT/pretrain_mechanism.png (OTA, VTM, probes per epoch, chance dashed),"
echo "$OUT/vis/ (a clip's trajectories with their OTA/ASP matches, PNG and GIF;"
echo "a generated caption; a query's top-5 videos; caption_video.png and"
echo "search_videos.png from demo/); results: $OUT/results.md."
