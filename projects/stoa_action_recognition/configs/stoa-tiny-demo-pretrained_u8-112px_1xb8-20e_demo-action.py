# The main config fine-tuned from stoavlp's demo pre-training checkpoint
# (STOA-VLP objectives on the captions of the demo's TRAIN split only, so
# no validation or test clip was seen). Write it first with
# `bash tools/run_demo.sh` (work_dirs/demo/pretrain/epoch_6.pth); the
# pre-trainer's video_encoder / trajectory_encoder / action_encoder are
# this recogniser's backbone / trajectory_neck / action_neck (same sizes).
_base_ = ['./stoa-tiny_u8-112px_1xb8-20e_demo-action.py']

pretrained = 'work_dirs/demo/pretrain/epoch_6.pth'
model = dict(
    init_necks_from_backbone=False,  # keep the pre-trained necks
    backbone=dict(init_cfg=dict(
        type='Pretrained', checkpoint=pretrained, prefix='video_encoder.')),
    trajectory_neck=dict(init_cfg=dict(
        type='Pretrained', checkpoint=pretrained,
        prefix='trajectory_encoder.')),
    action_neck=dict(init_cfg=dict(
        type='Pretrained', checkpoint=pretrained, prefix='action_encoder.')))

# Fine-tuning: half the learning rate for the pre-trained parts, the new
# head at 10x.
optim_wrapper = dict(
    optimizer=dict(lr=5e-4),
    paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=10.0)}))
