# Demo captioning: the demo pre-trained model fine-tuned on the demo
# MSR-VTT captioning split, greedy decoding, BLEU/METEOR/ROUGE-L/CIDEr.
_base_ = [
    '../../_base_/models/stoavlp_tiny.py',
    '../../_base_/datasets/demo/msrvtt_caption.py',
    '../../_base_/schedules/demo_finetune.py',
]

model = dict(
    type='STOAVLPCaptioner',
    lm_head=dict(type='TiedLMHead', width=64),
    caption_head=dict(type='CaptionHead'),
    decode_cfg=dict(num_beams=1, max_length=24, min_length=3))

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
test_evaluator = dict(type='CaptionMetric')
