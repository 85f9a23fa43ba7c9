# Ablation: the main config without the action neck (eq. 2). The head then
# sees [frame CLS mean ; trajectory mean], 2 * D channels.
_base_ = ['./stoa-tiny_u8-112px_1xb8-20e_demo-action.py']

model = dict(backbone=dict(action_encoder=None),
             cls_head=dict(in_channels=2 * _base_.width))
