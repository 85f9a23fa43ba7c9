# Pre-training in float16 mixed precision (GPUs without bf16, e.g. V100 as
# in the paper): dynamic loss scaling skips steps whose gradients overflow.
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

optim_wrapper = dict(type='GuardedAmpOptimWrapper', dtype='float16',
                     loss_scale='dynamic')
