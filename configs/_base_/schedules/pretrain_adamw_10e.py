# The official pre-training optimisation: Adam with decoupled weight decay
# 0.2 (BertAdam), betas (0.9, 0.98), eps 1e-6, gradient clipping at 1.0,
# lr 1e-5 for new parts and 1e-5 x 1e-3 for CLIP's encoders (coef_lr), 10 %
# linear warm-up then cosine decay, 10 epochs, global batch 1024.
optim_wrapper = dict(
    type='GuardedOptimWrapper',
    nonfinite='skip',  # or 'stop'; NaN/inf losses name their samples
    optimizer=dict(
        type='AdamW', lr=1e-5, betas=(0.9, 0.98), eps=1e-6,
        weight_decay=0.2),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'video_encoder.backbone': dict(lr_mult=1e-3),
            'text_encoder': dict(lr_mult=1e-3),
            # VTC's temperature learns at the new parts' rate (an lr_mult of
            # 1e-3 here would freeze it: 1e-8)
            'vtc_loss.logit_scale': dict(decay_mult=0.0),
        }))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=9, eta_min=0, by_epoch=True,
         begin=1, end=10, convert_to_iter_based=True),
]

train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=10,
                 val_interval=1)

# Lets --auto-scale-lr rescale lr when GPUs x batch differs from 128 x 8.
auto_scale_lr = dict(enable=False, base_batch_size=1024)
