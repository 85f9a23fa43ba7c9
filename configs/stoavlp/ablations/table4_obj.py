# Table 4 '+Obj.': trajectory tokens in the fusion input, without OTA.
# The full model (last row) is the main pre-training config.
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']

model = dict(video_encoder=dict(action_encoder=None), ota_loss=None,
             asp_loss=None)
