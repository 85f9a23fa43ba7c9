# Demo zero-shot retrieval: the demo pre-trained model
# (stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py, no fine-tuning) ranks
# the demo 1k-A-style test set by VTC similarity, the top 32 re-ranked by
# its pre-trained VTM head. The heads are those of pre-training (a
# VTMLinearHead), so every retrieval weight comes from its checkpoint:
#   python tools/test.py THIS_CONFIG work_dirs/demo/pretrain/epoch_6.pth
_base_ = [
    '../../_base_/models/stoavlp_tiny.py',
    '../../_base_/datasets/demo/msrvtt_retrieval.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='STOAVLPRetriever',
    vtc_loss=dict(type='VTCLoss'),
    vtm_head=dict(type='VTMLinearHead', width=64),
    rerank_topk=32)

# evaluation only: no train loop (no optimizer, schedule or validation)
train_dataloader = None
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = dict(
    batch_size=16, num_workers=2,
    dataset=dict(pipeline={{_base_.demo_test_pipeline}}))
# test loop and metric: datasets/video_text_retrieval.py
