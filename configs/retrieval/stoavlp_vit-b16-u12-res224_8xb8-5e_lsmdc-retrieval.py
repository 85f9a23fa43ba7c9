# Table 2, LSMDC retrieval (paper: R@1 24.8, R@5 46.2, R@10 56.0).
_base_ = [
    '../_base_/models/stoavlp_vit-b16_retrieval.py',
    '../_base_/datasets/lsmdc_retrieval.py',
    '../_base_/schedules/finetune_adamw_5e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=8)
# loops and metric: datasets/video_text_retrieval.py
