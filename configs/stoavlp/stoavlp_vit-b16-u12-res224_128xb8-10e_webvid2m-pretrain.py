# STOA-VLP pre-training on WebVid-2M with the paper's settings: 12 frames at
# 224, K=10 boxes, N=20 trajectories, M=4 actions, text length 32, global
# batch 1024 (8 per GPU x 128 GPUs), 10 epochs.
#   tools/dist_train.sh THIS_CONFIG 8   (x 16 nodes: NNODES, NODE_RANK, ...)
_base_ = [
    '../_base_/models/stoavlp_vit-b16.py',
    '../_base_/datasets/webvid_pretrain.py',
    '../_base_/schedules/pretrain_adamw_10e.py',
    '../_base_/default_runtime.py',
]

# The six objectives of eq. 10. VTC starts from CLIP's trained temperature
# (100), as the official code.
model = dict(
    type='STOAVLPPretrainer',
    vtc_loss=dict(type='VTCLoss', pretrained={{_base_.clip}}),
    vtm_head=dict(type='VTMHead', width=512),
    lm_head=dict(type='TiedLMHead', width=512),
    mlm_head=dict(type='MLMHead'),
    plm_head=dict(type='PLMHead'),
    ota_loss=dict(type='OTALoss'),
    asp_loss=dict(type='ASPLoss'))

train_dataloader = dict(batch_size=8)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
