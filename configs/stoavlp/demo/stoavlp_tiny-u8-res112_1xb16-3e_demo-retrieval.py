# Demo retrieval: the demo pre-trained model fine-tuned with VTC + VTM on
# the demo 9k-style split, ranked on the demo 1k-A-style test set with the
# top 32 re-ranked by VTM.
_base_ = [
    '../../_base_/models/stoavlp_tiny.py',
    '../../_base_/datasets/demo/msrvtt_retrieval.py',
    '../../_base_/schedules/demo_finetune.py',
]

model = dict(
    type='STOAVLPRetriever',
    vtc_loss=dict(type='VTCLoss'),
    vtm_head=dict(type='VTMLinearHead', width=64,
                  loss=dict(type='VTMLoss', uniform_mix=0.5)),
    rerank_topk=32)

train_dataloader = dict(
    batch_size=16, num_workers=2,
    dataset=dict(pipeline={{_base_.demo_train_pipeline}}))
# evaluated once, at the end, with tools/test.py
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(
    batch_size=16, num_workers=2,
    dataset=dict(pipeline={{_base_.demo_test_pipeline}}))
# test loop and metric: datasets/video_text_retrieval.py
