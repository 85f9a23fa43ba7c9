# Stage 0 of the main job: the demo-size CLIP towers trained contrastively
# on the demo clips and captions, the stand-in for OpenAI's ViT-B-16.pt
# (which cannot be downloaded here). VTC (eq. 3-5) plus region-word
# alignment, which gives noun tokens what real CLIP's have: they sit near
# the regions they name (see RegionWordLoss). ExportCLIPHook writes
# <work_dir>/clip.pth in OpenAI's layout; the STOA-VLP demo configs load it
# through `pretrained=` exactly as the paper config loads ViT-B-16.pt.
_base_ = [
    '../../_base_/models/stoavlp_tiny.py',
    '../../_base_/datasets/demo/webvid_pretrain.py',
    '../../_base_/schedules/pretrain_adamw_10e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='CLIPPretrainer',
    # the top block's tokens give the region features
    video_encoder=dict(backbone=dict(feature_layers=(4, )),
                       trajectory_encoder=None, action_encoder=None),
    fusion_encoder=None,
    vtc_loss=dict(type='VTCLoss'),
    region_word_loss=dict(type='RegionWordLoss'),
    num_classes={{_base_.demo_trajectories}})

train_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True,
    dataset=dict(pipeline={{_base_.demo_clip_pipeline}}))

clip_epochs = 6
optim_wrapper = dict(
    optimizer=dict(lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0,
                       bias_decay_mult=0.0,
                       custom_keys={'logit_scale': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=clip_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=clip_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=clip_epochs, val_interval=clip_epochs + 1)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=clip_epochs, max_keep_ckpts=1))
custom_hooks = [
    dict(type='BadSampleHook'),
    dict(type='RNGStateHook'),
    dict(type='LossCurvesHook'),
    dict(type='ExportCLIPHook', out_file='clip.pth'),
]
randomness = dict(seed=0)
