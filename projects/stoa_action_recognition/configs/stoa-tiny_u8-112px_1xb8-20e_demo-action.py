# Multi-label action recognition on the demo data (8 actions, 1-3 per clip)
# with STOA-VLP's video encoder, trajectory neck and action neck, trained
# from scratch at toy size on a CPU. mmaction2 runtime, dataset, head, loss
# and metric; stoavlp parts are named with their scope ('stoavlp.<Name>').
_base_ = ['mmaction::_base_/default_runtime.py']

custom_imports = dict(
    imports=[
        'projects.stoa_action_recognition.models',
        'projects.stoa_action_recognition.datasets',
    ],
    allow_failed_imports=False)

# Sizes of stoavlp's configs/_base_/models/stoavlp_tiny.py.
num_frames, image_size, width, max_objects = 8, 112, 64, 10
actions = ('move_left', 'move_right', 'move_up', 'move_down', 'grow',
           'shrink', 'spin', 'bounce')
num_classes = len(actions)

model = dict(
    type='STOARecognizer',
    # stoavlp's video side: CLIP frames, trajectory and action encoders
    backbone=dict(
        type='stoavlp.STOAVideoEncoder',
        backbone=dict(
            type='stoavlp.CLIPVideoEncoder', image_size=image_size,
            patch_size=16, width=width, layers=4, heads=4, embed_dim=width,
            feature_layers=(2, 3)),
        trajectory_encoder=dict(
            type='stoavlp.TrajectoryEncoder', width=width, embed_dim=width,
            heads=4, num_frames=num_frames, max_objects=max_objects,
            num_trajectories=5),
        action_encoder=dict(
            type='stoavlp.ActionEncoder', width=width, embed_dim=width,
            heads=4, num_actions=4, num_frames=num_frames),
        object_layer=2,
        action_layer=3),
    # (B, 3 * D): [frame CLS mean ; trajectory mean ; action mean]
    cls_head=dict(
        type='TSNHead', num_classes=num_classes, in_channels=3 * width,
        spatial_type=None, dropout_ratio=0.2, init_std=0.01,
        multi_class=True, loss_cls=dict(type='BCELossWithLogits'),
        average_clips='score'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', format_shape='NCHW',
        # OpenAI CLIP's pixel statistics (decord gives RGB)
        mean=[122.770938, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305]))

dataset_type = 'VideoDataset'
data_root = 'data/demo'
ann_root = 'data/demo/action_recognition'  # tools/make_action_annotations.py


# One pipeline; training differs in UniformSample's test_mode and the crop:
# random crops shift and scale the objects (the boxes follow); no Flip:
# mirroring turns move_left into move_right without relabelling.
def action_pipeline(test_mode):
    if test_mode:
        crop = [dict(type='Resize', scale=(-1, image_size)),
                dict(type='CenterCrop', crop_size=image_size)]
    else:
        crop = [dict(type='RandomResizedCrop', area_range=(0.6, 1.0)),
                dict(type='Resize', scale=(image_size, image_size),
                     keep_ratio=False)]
    return [
        dict(type='AddDetectionPath'),
        dict(type='DecordInit'),
        dict(type='UniformSample', clip_len=num_frames, test_mode=test_mode),
        dict(type='DecordDecode'),
        dict(type='stoavlp.LoadObjectDetections', max_objects=max_objects),
        *crop,
        dict(type='stoavlp.ProjectObjectBoxes'),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs',
             algorithm_keys=('obj_boxes', 'obj_labels', 'obj_mask')),
    ]


train_pipeline = action_pipeline(test_mode=False)
test_pipeline = action_pipeline(test_mode=True)

# what the three splits share: mmaction2's VideoDataset, multi-label
split = dict(type=dataset_type, data_prefix=dict(video=data_root),
             multi_class=True, num_classes=num_classes)
loader = dict(batch_size=8, num_workers=2, persistent_workers=True)
train_dataloader = dict(
    **loader,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**split, ann_file=f'{ann_root}/train.txt',
                 pipeline=train_pipeline))
val_dataloader = dict(
    **loader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**split, ann_file=f'{ann_root}/val.txt',
                 pipeline=test_pipeline, test_mode=True))
# the validation loader on the test split
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file=f'{ann_root}/test.txt'))

val_evaluator = dict(type='AccMetric', metric_list=('mean_average_precision',))
test_evaluator = val_evaluator

max_epochs = 20
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.98), eps=1e-6,
                   weight_decay=0.01),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True),
]

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1,
                    save_best='acc/mean_average_precision', rule='greater'))
randomness = dict(seed=0)
