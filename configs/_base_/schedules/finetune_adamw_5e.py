# The official fine-tuning optimisation: lr 1e-4 for new parts, x1e-3 for
# CLIP's encoders (coef_lr), the fusion encoder at 1e-5, Adam with decoupled
# weight decay 0.2, betas (0.9, 0.98), eps 1e-6, gradient clipping at 1.0,
# 10 % linear warm-up then cosine decay, 5 epochs.
optim_wrapper = dict(
    type='GuardedOptimWrapper',
    nonfinite='skip',  # or 'stop'; NaN/inf losses name their samples
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.98), eps=1e-6,
        weight_decay=0.2),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'video_encoder.backbone': dict(lr_mult=1e-3),
            'text_encoder': dict(lr_mult=1e-3),
            'fusion_encoder': dict(lr_mult=0.1),
            # VTC's temperature learns at the new parts' rate (an lr_mult of
            # 1e-3 here would freeze it: 1e-8)
            'vtc_loss.logit_scale': dict(decay_mult=0.0),
        }))

max_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=0.5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 0.5, eta_min=0,
         by_epoch=True, begin=0.5, end=max_epochs,
         convert_to_iter_based=True),
]

# validation after every epoch; the val/test loops come with the dataset
# config (datasets/video_text_eval.py, datasets/video_text_retrieval.py)
train_cfg = dict(type='ResumableEpochBasedTrainLoop',
                 max_epochs=max_epochs, val_interval=1)

# The pre-trained STOA-VLP (tools/train.py on the pre-training config).
load_from = ('work_dirs/stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-'
             'pretrain/epoch_10.pth')
