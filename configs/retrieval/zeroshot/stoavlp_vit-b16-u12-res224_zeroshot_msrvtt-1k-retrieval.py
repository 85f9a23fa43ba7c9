# Zero-shot MSR-VTT 1k-A text-video retrieval: the pre-trained STOA-VLP
# (stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py, no
# fine-tuning) ranks the 1k-A test set by VTC similarity, its top 32 re-ranked
# by the pre-trained VTM head (the official evaluation). The paper reports
# no zero-shot numbers. A pre-training checkpoint loads as it is: tools/test.py
# loads non-strictly, so its lm_head is dropped.
#   python tools/test.py THIS_CONFIG PRETRAIN_CHECKPOINT  (e.g. work_dirs/
#     stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain/epoch_10.pth)
# Similarity alone (CLIP-style zero-shot): --cfg-options model.rerank_topk=0
_base_ = [
    '../../_base_/models/stoavlp_vit-b16_retrieval.py',
    '../../_base_/datasets/msrvtt_retrieval_9k.py',
    '../../_base_/default_runtime.py',
]

# evaluation only: no train loop (no optimizer, schedule or validation)
train_dataloader = None
val_dataloader = val_cfg = val_evaluator = None
# test loop and metric: datasets/video_text_retrieval.py
