# Pre-training in bfloat16 mixed precision (GPUs): autocast + fp32 master
# weights; the non-finite-loss guard stays on. Same as `tools/train.py
# ... --amp` but bf16 (no loss scaling needed).
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

optim_wrapper = dict(type='GuardedAmpOptimWrapper', dtype='bfloat16')
