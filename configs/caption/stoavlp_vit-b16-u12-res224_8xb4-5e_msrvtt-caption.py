# Table 1, MSR-VTT captioning (paper: CIDEr 60.2, METEOR 31.0, ROUGE-L 68.4, BLEU-4 45.8).
_base_ = [
    '../_base_/models/stoavlp_vit-b16_caption.py',
    '../_base_/datasets/msrvtt_caption.py',
    '../_base_/schedules/finetune_adamw_5e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=4)
val_evaluator = dict(type='CaptionMetric')
test_evaluator = dict(type='CaptionMetric')
