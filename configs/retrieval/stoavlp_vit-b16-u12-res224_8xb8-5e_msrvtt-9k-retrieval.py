# Table 2, MSR-VTT 1k-A text-to-video retrieval (paper: R@1 50.1, R@5 75.5, R@10 83.8).
_base_ = [
    '../_base_/models/stoavlp_vit-b16_retrieval.py',
    '../_base_/datasets/msrvtt_retrieval_9k.py',
    '../_base_/schedules/finetune_adamw_5e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=8)
# loops and metric: datasets/video_text_retrieval.py
