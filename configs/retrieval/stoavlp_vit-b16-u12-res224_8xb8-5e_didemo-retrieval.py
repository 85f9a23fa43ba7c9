# Table 2, DiDeMo paragraph-to-video retrieval (paper: R@1 51.1, R@5 76.4, R@10 84.0).
_base_ = [
    '../_base_/models/stoavlp_vit-b16_retrieval.py',
    '../_base_/datasets/didemo_retrieval.py',
    '../_base_/schedules/finetune_adamw_5e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=8)
# loops and metric: datasets/video_text_retrieval.py
