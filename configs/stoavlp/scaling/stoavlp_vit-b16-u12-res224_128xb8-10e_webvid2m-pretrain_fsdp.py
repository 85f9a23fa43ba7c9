# Fully sharded data parallel (PyTorch FSDP through MMEngine's
# FlexibleRunner, GPUs): parameters, gradients and optimizer state sharded
# across ranks, every block of more than 10M parameters wrapped.
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    model_wrapper=dict(
        auto_wrap_policy=dict(
            type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
            min_num_params=int(1e7))))
