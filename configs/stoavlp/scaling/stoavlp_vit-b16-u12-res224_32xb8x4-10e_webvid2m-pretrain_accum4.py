# The paper's global batch of 1024 on 32 GPUs: 8 clips per GPU x 32 GPUs x
# 4 accumulated steps. Note VTC/VTM negatives then come from the 256 clips
# of one step, not from all 1024 (contrastive batches do not accumulate).
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

optim_wrapper = dict(accumulative_counts=4)
