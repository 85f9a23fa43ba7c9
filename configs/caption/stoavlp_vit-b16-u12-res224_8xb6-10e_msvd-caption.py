# Table 1, MSVD captioning (paper: CIDEr 131.8, METEOR 43.4, ROUGE-L 83.9, BLEU-4 64.4).
_base_ = [
    '../_base_/models/stoavlp_vit-b16_caption.py',
    '../_base_/datasets/msvd_caption.py',
    '../_base_/schedules/finetune_adamw_5e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=6)
max_epochs = 10
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=0,
         by_epoch=True, begin=1, end=max_epochs,
         convert_to_iter_based=True),
]
val_evaluator = dict(type='CaptionMetric')
test_evaluator = dict(type='CaptionMetric')
