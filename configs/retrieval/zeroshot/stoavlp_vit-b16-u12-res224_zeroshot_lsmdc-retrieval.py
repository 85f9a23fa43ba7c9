# Zero-shot LSMDC text-video retrieval (1000 test clips): the pre-trained
# STOA-VLP, no fine-tuning, VTC similarity with the top 32 re-ranked by the
# pre-trained VTM head. The paper reports no zero-shot numbers.
#   python tools/test.py THIS_CONFIG PRETRAIN_CHECKPOINT
# (see stoavlp_vit-b16-u12-res224_zeroshot_msrvtt-1k-retrieval.py)
_base_ = [
    '../../_base_/models/stoavlp_vit-b16_retrieval.py',
    '../../_base_/datasets/lsmdc_retrieval.py',
    '../../_base_/default_runtime.py',
]

# evaluation only: no train loop (no optimizer, schedule or validation)
train_dataloader = None
val_dataloader = val_cfg = val_evaluator = None
# test loop and metric: datasets/video_text_retrieval.py
