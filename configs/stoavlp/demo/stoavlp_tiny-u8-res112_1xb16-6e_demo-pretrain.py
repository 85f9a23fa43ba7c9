# The README's main job: the whole STOA-VLP (all five encoders, all six
# losses) at toy size, pre-trained from scratch on the embedded demo data on
# a CPU in about 6 minutes.
_base_ = [
    '../../_base_/models/stoavlp_tiny.py',
    '../../_base_/datasets/demo/webvid_pretrain.py',
    '../../_base_/schedules/pretrain_adamw_10e.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    type='STOAVLPPretrainer',
    vtc_loss=dict(type='VTCLoss'),
    vtm_head=dict(type='VTMHead', width=64),
    lm_head=dict(type='TiedLMHead', width=64),
    # From scratch the text features' scale keeps changing, so OTA/ASP
    # regress normalised features; the paper config keeps the official raw
    # MSE (its CLIP text encoder barely moves at lr 1e-8).
    ota_loss=dict(type='OTALoss', normalize=True),
    asp_loss=dict(type='ASPLoss', normalize=True))

train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    dataset=dict(pipeline={{_base_.demo_train_pipeline}}))

# From scratch, so one learning rate for every part.
optim_wrapper = dict(
    optimizer=dict(lr=1e-3, weight_decay=0.01),
    paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0,
                       bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=5, eta_min=1e-5, by_epoch=True,
         begin=1, end=6, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=6)
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=3, max_keep_ckpts=1))
randomness = dict(seed=0)
