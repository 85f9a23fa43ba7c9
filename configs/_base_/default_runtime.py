default_scope = 'stoavlp'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))

# Skipped corrupt videos / detection files are counted and reported per
# epoch; checkpoints carry the random state, so a resumed run continues as
# the uninterrupted one would.
# the training losses are drawn to <work_dir>/losses.png after every run.
custom_hooks = [
    dict(type='BadSampleHook'),
    dict(type='RNGStateHook'),
    dict(type='LossCurvesHook')
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)

vis_backends = [
    dict(type='LocalVisBackend'),
    # TensorBoard (pip install tensorboard; tensorboard --logdir work_dirs):
    # dict(type='TensorboardVisBackend'),
    # Weights & Biases (pip install wandb; wandb login):
    # dict(type='WandbVisBackend', init_kwargs=dict(project='stoavlp')),
]
visualizer = dict(type='VideoTextVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
resume = False
