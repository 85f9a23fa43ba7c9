# Baseline: the CLIP video encoder alone (mean of the frame [CLS]
# features, D channels), no trajectory or action neck.
_base_ = ['./stoa-tiny_u8-112px_1xb8-20e_demo-action.py']

model = dict(
    backbone=dict(trajectory_encoder=None, action_encoder=None),
    cls_head=dict(in_channels=_base_.width))
