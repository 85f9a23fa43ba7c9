# Demo open-ended QA (MSRVTT-QA layout): [ANSWER] slot classified over the
# demo's training answers.
_base_ = [
    '../../_base_/models/stoavlp_tiny.py',
    '../../_base_/datasets/demo/msrvtt_qa.py',
    '../../_base_/schedules/demo_finetune.py',
]

# the demo's training questions have 22 distinct answers: all are classes
num_answers = 22
answer_vocab = dict(ann_file='msrvtt_qa/train_qa.json', size=num_answers)
model = dict(
    type='STOAVLPQuestionAnswerer',
    qa_head=dict(type='QAClassifierHead', width=64, num_classes=num_answers))

train_dataloader = dict(
    batch_size=16, num_workers=2,
    dataset=dict(answer_vocab=answer_vocab,
                 pipeline={{_base_.demo_train_pipeline}}))
# evaluated once, at the end, with tools/test.py
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(
    batch_size=16, num_workers=2,
    dataset=dict(answer_vocab=answer_vocab,
                 pipeline={{_base_.demo_test_pipeline}}))
test_evaluator = dict(type='QAAccuracy')

demo_epochs = 5
train_cfg = dict(max_epochs=demo_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0,
         end=0.5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=demo_epochs - 0.5, eta_min=1e-6,
         by_epoch=True, begin=0.5, end=demo_epochs,
         convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(interval=demo_epochs))
