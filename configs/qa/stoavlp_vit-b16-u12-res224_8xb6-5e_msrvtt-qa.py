# Table 3, MSRVTT-QA (paper: accuracy 43.2).
_base_ = [
    '../_base_/models/stoavlp_vit-b16_qa.py',
    '../_base_/datasets/msrvtt_qa.py',
    '../_base_/schedules/finetune_adamw_5e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=6)
# 1500 most frequent training answers (the common classifier setup)
# the head's classes are the dataset's answer_vocab (size 1500)
model = dict(qa_head=dict(type='QAClassifierHead', width=512, num_classes=1500))
train_dataloader = dict(dataset=dict(answer_vocab=dict(ann_file='msrvtt_qa/train_qa.json', size=1500)))
val_dataloader = dict(dataset=dict(answer_vocab=dict(ann_file='msrvtt_qa/train_qa.json', size=1500)))
test_dataloader = dict(dataset=dict(answer_vocab=dict(ann_file='msrvtt_qa/train_qa.json', size=1500)))
val_evaluator = dict(type='QAAccuracy')
test_evaluator = dict(type='QAAccuracy')
