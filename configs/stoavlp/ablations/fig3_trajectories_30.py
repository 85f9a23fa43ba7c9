# Figure 3 sweep: 30 object trajectory tokens (paper: 20), 4 action tokens.
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

model = dict(video_encoder=dict(trajectory_encoder=dict(num_trajectories=30)))
