# Table 3, MSVD-QA (paper: accuracy 50.8).
_base_ = [
    '../_base_/models/stoavlp_vit-b16_qa.py',
    '../_base_/datasets/msvd_qa.py',
    '../_base_/schedules/finetune_adamw_5e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=8)
# 1000 most frequent training answers (the common classifier setup)
# the head's classes are the dataset's answer_vocab (size 1000)
model = dict(qa_head=dict(type='QAClassifierHead', width=512, num_classes=1000))
train_dataloader = dict(dataset=dict(answer_vocab=dict(ann_file='msvd_qa/train_qa.json', size=1000)))
val_dataloader = dict(dataset=dict(answer_vocab=dict(ann_file='msvd_qa/train_qa.json', size=1000)))
test_dataloader = dict(dataset=dict(answer_vocab=dict(ann_file='msvd_qa/train_qa.json', size=1000)))
val_evaluator = dict(type='QAAccuracy')
test_evaluator = dict(type='QAAccuracy')
