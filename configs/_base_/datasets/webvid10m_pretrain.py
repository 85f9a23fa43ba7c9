# WebVid-10M pre-training pairs (10.7M clips): webvid_pretrain.py on the
# 10M csv (same columns and folder layout).
_base_ = ['./webvid_pretrain.py']

train_dataloader = dict(dataset=dict(ann_file='results_10M_train.csv'))
