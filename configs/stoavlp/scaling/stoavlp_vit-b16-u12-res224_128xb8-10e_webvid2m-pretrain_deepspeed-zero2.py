# DeepSpeed ZeRO stage 2 with bf16 through MMEngine's FlexibleRunner (GPUs;
# `pip install deepspeed`): optimizer state and gradients sharded.
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

runner_type = 'FlexibleRunner'
strategy = dict(
    type='DeepSpeedStrategy',
    bf16=dict(enabled=True),
    gradient_clipping=1.0,
    zero_optimization=dict(
        stage=2, allgather_partitions=True, reduce_scatter=True,
        overlap_comm=True, contiguous_gradients=True))
optim_wrapper = dict(
    _delete_=True,
    type='DeepSpeedOptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-5, betas=(0.9, 0.98), eps=1e-6,
                   weight_decay=0.2))
