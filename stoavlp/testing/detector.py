"""A small randomly initialised mmdet detector for tests and demos.

No pretrained detector weights exist offline, so tests of the object
extraction tool run a real mmdet RetinaNet (ResNet-18 layout, 8 base
channels, 96-pixel input) with random weights: the boxes are meaningless but
every step of the real inference path (test pipeline, data preprocessor,
anchors, NMS from mmcv's compiled ops, rescaling to the frame) runs.
"""
import os
import os.path as osp
from typing import Sequence

MMCV_FULL_SKIP_REASON = ('full mmcv is not installed (bash '
                         'tools/install_mmcv_full.sh)')


def mmcv_full_missing() -> bool:
    """Whether tests of a real mmdet detector should skip: ``mmcv.ops``
    does not import and ``STOAVLP_REQUIRE_MMCV_FULL`` is not ``1`` (CI sets
    it, so there they fail instead)."""
    try:
        import mmcv.ops  # noqa: F401
        return False
    except ImportError:
        return os.environ.get('STOAVLP_REQUIRE_MMCV_FULL') != '1'


def tiny_detector_config(classes: Sequence[str], scale: int = 96) -> dict:
    """An mmdet config dict (``default_scope='mmdet'``) for a tiny RetinaNet.

    Args:
        classes: Class names; the head predicts ``len(classes)`` classes.
        scale: Frames are resized to fit ``scale x scale``.
    """
    classes = tuple(classes)
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(scale, scale), keep_ratio=True),
        dict(type='PackDetInputs',
             meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                        'scale_factor')),
    ]
    model = dict(
        type='RetinaNet',
        data_preprocessor=dict(
            type='DetDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_size_divisor=32),
        backbone=dict(
            type='ResNet', depth=18, base_channels=8, num_stages=4,
            out_indices=(1, 2, 3), frozen_stages=-1,
            norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
            style='pytorch', init_cfg=None),
        neck=dict(
            type='FPN', in_channels=[16, 32, 64], out_channels=16,
            start_level=0, add_extra_convs='on_input', num_outs=3),
        bbox_head=dict(
            type='RetinaHead', num_classes=len(classes), in_channels=16,
            stacked_convs=1, feat_channels=16,
            anchor_generator=dict(
                type='AnchorGenerator', octave_base_scale=4,
                scales_per_octave=1, ratios=[0.5, 1.0, 2.0],
                strides=[8, 16, 32]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                target_stds=[1.0] * 4),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0,
                          alpha=0.25, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        train_cfg=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                          neg_iou_thr=0.4, min_pos_iou=0, ignore_iof_thr=-1),
            sampler=dict(type='PseudoSampler'), allowed_border=-1,
            pos_weight=-1, debug=False),
        # random weights score about sigmoid(prior bias) = 0.01: keep all
        test_cfg=dict(nms_pre=200, min_bbox_size=0, score_thr=0.0,
                      nms=dict(type='nms', iou_threshold=0.5),
                      max_per_img=30))
    return dict(
        default_scope='mmdet',
        model=model,
        test_pipeline=test_pipeline,
        test_dataloader=dict(
            batch_size=1,
            dataset=dict(type='CocoDataset', data_root='', ann_file='',
                         metainfo=dict(classes=classes), test_mode=True,
                         pipeline=test_pipeline)))


def write_tiny_detector(out_dir: str, classes: Sequence[str],
                        seed: int = 0) -> tuple:
    """Write the config (``.py``) and a random checkpoint (``.pth``) in
    mmdet's format, class names in its meta. Returns their paths."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    cfg = Config(tiny_detector_config(classes))
    os.makedirs(out_dir, exist_ok=True)
    config_path = osp.join(out_dir, 'tiny_retinanet.py')
    cfg.dump(config_path)
    from mmdet.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):  # caller's kept
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model)
        model.init_weights()
    ckpt_path = osp.join(out_dir, 'tiny_retinanet.pth')
    torch.save(
        dict(state_dict=model.state_dict(),
             meta=dict(dataset_meta=dict(classes=tuple(classes)))),
        ckpt_path)
    return config_path, ckpt_path
