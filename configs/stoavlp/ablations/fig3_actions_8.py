# Figure 3 sweep: 8 action tokens (paper: 4), 20 trajectory tokens.
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

model = dict(video_encoder=dict(action_encoder=dict(num_actions=8)))
