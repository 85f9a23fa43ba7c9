# Fine-tuning the toy demo model: short linear warm-up, cosine decay; the
# demo pre-training checkpoint as the start (tools/run_demo.sh writes it).
# Includes the runtime, which it adjusts (logging, checkpoints).
_base_ = ['../default_runtime.py']

optim_wrapper = dict(
    type='GuardedOptimWrapper',
    nonfinite='skip',  # or 'stop'; NaN/inf losses name their samples
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.98), eps=1e-6,
                   weight_decay=0.01),
    clip_grad=dict(max_norm=1.0),
    # the tiny CLIP towers 10x slower than the rest, as in pre-training
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={
                           'video_encoder.backbone': dict(lr_mult=0.1),
                           'text_encoder': dict(lr_mult=0.1),
                           'logit_scale': dict(decay_mult=0.0)}))

demo_epochs = 3
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0,
         end=0.5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=demo_epochs - 0.5, eta_min=1e-6,
         by_epoch=True, begin=0.5, end=demo_epochs,
         convert_to_iter_based=True),
]
# the test loop comes with the dataset config (datasets/video_text_eval.py,
# datasets/video_text_retrieval.py)
train_cfg = dict(type='ResumableEpochBasedTrainLoop',
                 max_epochs=demo_epochs)

load_from = 'work_dirs/demo/pretrain/epoch_6.pth'
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=demo_epochs, max_keep_ckpts=1))
randomness = dict(seed=0)
