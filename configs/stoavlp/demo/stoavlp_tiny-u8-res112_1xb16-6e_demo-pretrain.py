# The README's main job: the whole STOA-VLP (all five encoders, all six
# losses) at toy size, pre-trained from scratch on the embedded demo data on
# a CPU in a few minutes. Same parts as the paper config, smaller numbers.
_base_ = [
    '../../_base_/models/stoavlp_vit-b16.py',
    '../../_base_/datasets/demo/webvid_pretrain.py',
    '../../_base_/schedules/pretrain_adamw_10e.py',
    '../../_base_/default_runtime.py',
]

num_frames, img_size, width, max_objects = 8, 112, 64, 10

model = dict(
    video_encoder=dict(
        image_size=img_size, patch_size=16, width=width, layers=4, heads=4,
        embed_dim=width, feature_layers=(2, 3), pretrained=None),
    text_encoder=dict(
        width=width, layers=4, heads=4, embed_dim=width, pretrained=None),
    trajectory_encoder=dict(
        width=width, embed_dim=width, heads=4, num_frames=num_frames,
        max_objects=max_objects, num_trajectories=5),
    action_encoder=dict(
        width=width, embed_dim=width, heads=4, num_frames=num_frames),
    fusion_encoder=dict(width=width, layers=2, heads=4, max_positions=64),
    object_layer=2,
    action_layer=3,
    vtm_head=dict(width=width),
    lm_head=dict(width=width),
    # From scratch the text features' scale keeps changing, so OTA/ASP
    # regress normalised features; the paper config keeps the official raw
    # MSE (its CLIP text encoder barely moves at lr 1e-8).
    ota_loss=dict(normalize=True),
    asp_loss=dict(normalize=True))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=num_frames, test_mode=False),
    dict(type='DecordDecode'),
    dict(type='LoadObjectDetections', max_objects=max_objects),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='ProjectObjectBoxes'),
    dict(type='TokenizeText'),
    dict(type='PackVideoTextInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    dataset=dict(pipeline=train_pipeline))

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
