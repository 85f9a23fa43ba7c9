# The README's main job, stage 1: the whole STOA-VLP (all five encoders, all
# six losses) at toy size, pre-trained on the embedded demo data from the
# tiny CLIP of stage 0 (clip_tiny-u4-res112_1xb32-6e_demo-contrastive.py), loaded exactly as
# the paper config loads ViT-B-16.pt: CLIP towers from `pretrained=`, the
# trajectory and action encoders from the top two video blocks, the fusion
# encoder from the first text blocks, VTC's scale from CLIP's logit_scale.
# Validation after every epoch measures the mechanism (OTA assignment
# accuracy, ASP verb coverage, VTM against random and one-attribute
# negatives, linear probes) on the demo's validation clips, drawn to
# <work_dir>/mechanism.png.
_base_ = [
    '../../_base_/models/stoavlp_tiny.py',
    '../../_base_/datasets/demo/webvid_pretrain.py',
    '../../_base_/schedules/pretrain_adamw_10e.py',
    '../../_base_/default_runtime.py',
]

clip = 'work_dirs/demo/clip/clip.pth'  # written by stage 0
model = dict(
    type='STOAVLPPretrainer',
    video_encoder=dict(backbone=dict(pretrained=clip)),
    text_encoder=dict(pretrained=clip),
    vtc_loss=dict(type='VTCLoss', pretrained=clip),
    # half the VTM negatives hard (similarity-sampled), half uniform: hard
    # ones alone never show the head an unrelated pair (VTMLoss)
    vtm_head=dict(type='VTMLinearHead', width=64,
                  loss=dict(type='VTMLoss', uniform_mix=0.5)),
    lm_head=dict(type='TiedLMHead', width=64),
    mlm_head=dict(type='MLMHead'),
    plm_head=dict(type='PLMHead'),
    # the tiny CLIP's text features have no trained scale: OTA/ASP regress
    # directions (normalize=True); the paper config keeps the raw MSE
    ota_loss=dict(type='OTALoss', normalize=True),
    asp_loss=dict(type='ASPLoss', normalize=True))

train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    dataset=dict(pipeline={{_base_.demo_train_pipeline}}))
# Validation: the validation clips' multiple-choice items (true caption,
# three one-attribute edits, another clip's caption) and, to fit the probes
# on, the first 96 training clips' items.
mc_items = dict(
    type='MSRVTTMCDataset',
    data_root='data/demo',
    data_prefix=dict(video='videos', objects='objects'),
    pipeline={{_base_.demo_test_pipeline}},
    test_mode=True)
val_dataloader = dict(
    _delete_=True,
    batch_size=16, num_workers=2, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ConcatDataset', datasets=[
        dict(mc_items, ann_file='msrvtt_mc/msrvtt_mc_val.json'),
        dict(mc_items, ann_file='msrvtt_mc/msrvtt_mc_train.json',
             indices=96)]))
val_evaluator = dict(type='PretrainMechanismMetric',
                     meta_file='data/demo/meta.json', probe_split='train')

# The paper's relative rates at demo scale: the CLIP towers learn 10x slower
# than the new parts (the paper: 1000x, for 10 epochs of WebVid-2M); VTC's
# scale learns like a new part.
optim_wrapper = dict(
    optimizer=dict(lr=1e-3, weight_decay=0.01),
    paramwise_cfg=dict(
        _delete_=True, norm_decay_mult=0.0, bias_decay_mult=0.0,
        custom_keys={
            'video_encoder.backbone': dict(lr_mult=0.1),
            'text_encoder': dict(lr_mult=0.1),
            'logit_scale': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=5, eta_min=1e-5, by_epoch=True,
         begin=1, end=6, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=6, val_interval=1, val_begin=0)
val_cfg = dict(type='ValLoop')
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=3, max_keep_ckpts=1))
custom_hooks = [
    dict(type='BadSampleHook'),
    dict(type='RNGStateHook'),
    dict(type='LossCurvesHook'),
    dict(type='MetricCurvesHook', out_file='mechanism.png'),
]
randomness = dict(seed=0)
