"""STOA-VLP's video side: CLIP frames, object trajectories, action tokens.

One module that every stoavlp algorithm and the mmaction2 recogniser of
``projects/stoa_action_recognition`` build, so the layer taps, the neck
initialisation and the order of the encoders exist once.

Letters: B batch, T frames, K boxes per frame, N trajectories, M actions,
HW patches, C video width, D joint width.
"""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule

from stoavlp.registry import MODELS


@MODELS.register_module()
class STOAVideoEncoder(BaseModule):
    """``CLIPVideoEncoder`` + ``TrajectoryEncoder`` (eq. 1) +
    ``ActionEncoder`` (eq. 2).

    The trajectory encoder reads the patch tokens of block ``object_layer``
    and the boxes; the action encoder reads the tokens of block
    ``action_layer`` and the object tokens (paper 3.1: blocks 10 and 11).
    Either neck may be None (ablation configs drop them).

    Args:
        backbone (dict): ``CLIPVideoEncoder``; its ``feature_layers`` must
            contain the layers the necks read.
        trajectory_encoder (dict, optional): ``TrajectoryEncoder``.
        action_encoder (dict, optional): ``ActionEncoder``.
        object_layer (int): 1-indexed block feeding the trajectory encoder.
            Defaults to 10.
        action_layer (int): 1-indexed block feeding the action encoder.
            Defaults to 11.
        init_necks_from_backbone (bool): Initialise the necks from the top
            video blocks, ``ln_post`` and ``proj`` after the backbone is
            initialised (paper 4.2). False keeps what ``init_cfg`` loaded
            (e.g. pre-trained necks). Defaults to True.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 backbone: dict,
                 trajectory_encoder: Optional[dict] = None,
                 action_encoder: Optional[dict] = None,
                 object_layer: int = 10,
                 action_layer: int = 11,
                 init_necks_from_backbone: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.trajectory_encoder = MODELS.build(trajectory_encoder) \
            if trajectory_encoder else None
        self.action_encoder = MODELS.build(action_encoder) \
            if action_encoder else None
        self.object_layer, self.action_layer = object_layer, action_layer
        self.init_necks_from_backbone = init_necks_from_backbone
        layers = tuple(self.backbone.feature_layers)
        for name, layer, neck in (('object_layer', object_layer,
                                   self.trajectory_encoder),
                                  ('action_layer', action_layer,
                                   self.action_encoder)):
            if neck is not None and layer not in layers:
                raise ValueError(f'{name}={layer} is not among the video '
                                 f'backbone\'s feature_layers {layers}')

    @property
    def embed_dim(self) -> int:
        """D, the width of every output token."""
        return self.backbone.embed_dim

    @property
    def necks(self) -> list:
        """The trajectory and action encoders in use."""
        return [n for n in (self.trajectory_encoder, self.action_encoder)
                if n is not None]

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_necks_from_backbone:
            for neck in self.necks:
                neck.init_from_backbone(self.backbone)

    def forward(self, video: torch.Tensor,
                obj_boxes: Optional[torch.Tensor] = None,
                obj_labels: Optional[torch.Tensor] = None,
                obj_mask: Optional[torch.Tensor] = None
                ) -> Dict[str, torch.Tensor]:
        """Encode ``video (B, T, 3, H, W)``.

        Args:
            obj_boxes (torch.Tensor, optional): ``(B, T, K, 4)`` x1y1x2y2 in
                input pixels; with ``obj_labels (B, T, K)`` (trajectory
                ids, -1 padding) and ``obj_mask (B, T, K)``. Needed with
                the trajectory encoder.

        Returns:
            dict: ``frame_features (B, T, D)``, ``video_feature (B, D)``
            and, with the necks, ``trajectory_tokens (B, N, D)``,
            ``trajectory_mask (B, N)``, ``object_tokens (B, T, K, C)``,
            ``object_mask (B, T, K)``, ``action_tokens (B, M, D)``.
        """
        out = self.backbone(video)
        feats = dict(frame_features=out['frame_features'],
                     video_feature=out['video_feature'])
        if self.trajectory_encoder is not None:
            if obj_boxes is None:
                raise ValueError(
                    'the trajectory encoder needs obj_boxes/obj_labels/'
                    'obj_mask: add LoadObjectDetections and '
                    'ProjectObjectBoxes to the pipeline')
            feats.update(self.trajectory_encoder(
                out['layer_tokens'][self.object_layer][:, :, 1:],
                obj_boxes, obj_labels, obj_mask,
                image_size=tuple(video.shape[-2:])))
        if self.action_encoder is not None:
            feats.update(self.action_encoder(
                out['layer_tokens'][self.action_layer],
                feats.get('object_tokens'), feats.get('object_mask')))
        return feats
