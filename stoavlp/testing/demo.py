"""The demo pre-training config without what only the main job has."""

#: cfg-options for ``tools/train.py`` on the demo pre-training config in a
#: test: no tiny CLIP to load (``work_dirs/demo/clip/clip.pth`` is written
#: by the main job's stage 0) and no validation on ``data/demo``.
DEMO_PRETRAIN_OFFLINE = [
    'model.video_encoder.backbone.pretrained=None',
    'model.text_encoder.pretrained=None',
    'model.vtc_loss.pretrained=None',
    'val_dataloader=None', 'val_cfg=None', 'val_evaluator=None',
]


def offline_demo_pretrain(cfg):
    """The same on a loaded :class:`mmengine.config.Config`, in place."""
    for part in (cfg.model.video_encoder.backbone, cfg.model.text_encoder,
                 cfg.model.vtc_loss):
        part['pretrained'] = None
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    return cfg
