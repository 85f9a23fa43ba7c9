# The main config fine-tuned from stoavlp's demo pre-training checkpoint
# (STOA-VLP objectives on the captions of the demo's TRAIN split only, so
# no validation or test clip was seen). Write it first with
# `bash tools/run_demo.sh` (work_dirs/demo/pretrain/epoch_6.pth); the
# pre-trainer's video_encoder (an STOAVideoEncoder with the same sizes) is
# this recogniser's backbone.
_base_ = ['./stoa-tiny_u8-112px_1xb8-20e_demo-action.py']

pretrained = 'work_dirs/demo/pretrain/epoch_6.pth'
model = dict(
    backbone=dict(
        init_necks_from_backbone=False,  # keep the pre-trained necks
        init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                      prefix='video_encoder.')))

optim_wrapper = dict(
    optimizer=dict(lr=5e-4),
    paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=10.0)}))
