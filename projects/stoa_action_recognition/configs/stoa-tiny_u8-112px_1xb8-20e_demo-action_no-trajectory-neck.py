# Ablation: the main config without the trajectory neck (eq. 1). No boxes
# reach the model: the action neck attends over patch tokens only and the
# head sees [frame CLS mean ; action mean], 2 * D channels.
_base_ = ['./stoa-tiny_u8-112px_1xb8-20e_demo-action.py']

model = dict(
    backbone=dict(trajectory_encoder=None),
    cls_head=dict(in_channels=2 * _base_.width))
