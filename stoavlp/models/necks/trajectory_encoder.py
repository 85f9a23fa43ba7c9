"""Object trajectory encoder, paper eq. 1.

Letters: B batch, T frames, K boxes per frame, N trajectories (object
classes), HW patches, C video width (h in the paper), D joint width (d).
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from stoavlp.registry import MODELS
from ..utils.mask import padding_mask
from .base import TopBlocksEncoder
from .roi_layers import DEFAULT_ROI_LAYER, build_roi_align


def _mlp(in_dim: int, width: int) -> nn.Sequential:
    # The official ObjectEncoder's two-layer ReLU MLPs (no bias).
    return nn.Sequential(
        nn.Linear(in_dim, width // 2, bias=False), nn.ReLU(inplace=True),
        nn.Linear(width // 2, width, bias=False), nn.ReLU())


@MODELS.register_module()
class TrajectoryEncoder(TopBlocksEncoder):
    """Trajectory tokens ``o (B, N, D)`` from boxes and patch tokens.

    Per visible box (eq. 1): ``O = MLP(MaxPool(RoIAlign(z, O_box)))`` on the
    patch grid ``z``, plus a spatial-temporal position embedding (per frame
    and box slot) and an embedding of the normalised box coordinates. A
    trajectory is the [CLS]-headed sequence of one object class's boxes
    across frames (plus a temporal embedding); the top-N classes by summed
    confidence are labels ``0..N-1`` (see ``ProjectObjectBoxes``). Two
    transformer layers (initialised from the top two video blocks) encode
    each trajectory; its [CLS] output, ``ln_post`` and ``proj``, gives
    ``o``.

    Only visible boxes are computed: trajectories are packed into sequences
    as long as their longest member (at most T + 1 with one box per class
    and frame) instead of N dense sequences of ``T * K + 1`` masked tokens
    (the official computation; tests and benchmarks compare against it,
    :func:`stoavlp.testing.references.dense_trajectory_tokens`).

    Args:
        width (int): C. Defaults to 768.
        embed_dim (int): D. Defaults to 512.
        heads (int): Defaults to 12.
        layers (int): Defaults to 2.
        num_frames (int): Largest T. Defaults to 12.
        max_objects (int): Largest K. Defaults to 10.
        num_trajectories (int): N. Defaults to 20.
        roi_size (int): RoIAlign output size before max pooling.
            Defaults to 7.
        roi_layer (dict): The RoIAlign layer, a ``MODELS`` config built
            with ``output_size=roi_size``: ``dict(type='TorchvisionRoIAlign')``
            (default) or ``dict(type='MMCVRoIAlign')`` (full mmcv; the same
            values), see :mod:`stoavlp.models.necks.roi_layers`.
        mlp_ratio (float): Defaults to 4.
        act (str): Defaults to ``'quick_gelu'``.
        with_cp (bool): Activation checkpointing. Defaults to False.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 width: int = 768,
                 embed_dim: int = 512,
                 heads: int = 12,
                 layers: int = 2,
                 num_frames: int = 12,
                 max_objects: int = 10,
                 num_trajectories: int = 20,
                 roi_size: int = 7,
                 roi_layer: dict = DEFAULT_ROI_LAYER,
                 mlp_ratio: float = 4.0,
                 act: str = 'quick_gelu',
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(width, embed_dim, heads, layers, mlp_ratio, act,
                         with_cp, init_cfg)
        self.num_trajectories = num_trajectories
        self.roi_align = build_roi_align(roi_layer, roi_size)
        self.box_mlp = _mlp(width, width)
        self.coord_mlp = _mlp(4, width)
        # spatial-temporal position of a box: (frame, slot)
        self.box_position = nn.Parameter(
            torch.zeros(num_frames, max_objects, width))
        # Random, not zero: a trajectory is a set of boxes to attention,
        # and zeros leave it blind to frame order (which way an object
        # moves, grows or shrinks) until this table has learned (CLIP's
        # positional initialisation scale).
        self.frame_position = nn.Parameter(
            torch.randn(num_frames, width) * width**-0.5)
        self.cls_token = nn.Parameter(torch.randn(width) * width**-0.5)

    def object_tokens(self, patch_tokens: torch.Tensor, boxes: torch.Tensor,
                      box_mask: torch.Tensor,
                      image_size: Tuple[int, int]) -> torch.Tensor:
        """Eq. 1 for every visible box.

        Args:
            patch_tokens (torch.Tensor): ``(B, T, HW, C)``, row-major grid.
            boxes (torch.Tensor): ``(B, T, K, 4)`` x1y1x2y2 input pixels.
            box_mask (torch.Tensor): ``(B, T, K)`` visible boxes.
            image_size (tuple): ``(H_img, W_img)`` of the input frames.

        Returns:
            torch.Tensor: ``(B, T, K, C)``, zeros at invisible boxes.
        """
        b, t, hw, c = patch_tokens.shape
        grid = int(round(hw**0.5))
        feat = patch_tokens.reshape(b * t, grid, grid, c).permute(0, 3, 1, 2)
        vb, vt, vk = box_mask.nonzero(as_tuple=True)  # P visible boxes
        box = boxes[vb, vt, vk].float()  # (P, 4) pixels
        h_img, w_img = image_size
        to_grid = box.new_tensor([grid / w_img, grid / h_img] * 2)
        rois = torch.cat([(vb * t + vt)[:, None].float(), box * to_grid], 1)
        # contiguous: mmcv's CPU RoIAlign reads a permuted (channels-last)
        # tensor as if it were contiguous and silently returns wrong values
        pooled = self.roi_align(feat.float().contiguous(),
                                rois).amax(dim=(-2, -1))
        tokens = self.box_mlp(pooled.to(patch_tokens.dtype))  # (P, C)
        tokens = tokens + self.box_position[vt, vk] + self.coord_mlp(
            box / box.new_tensor([w_img, h_img] * 2)).to(tokens.dtype)
        out = patch_tokens.new_zeros(b, t, boxes.shape[2], c)
        out[vb, vt, vk] = tokens.to(out.dtype)  # autocast: mixed dtypes
        return out

    def encode_sequences(self, sequences: torch.Tensor,
                         keep: torch.Tensor) -> torch.Tensor:
        """``(S, 1 + L, C)`` sequences with a ``(S, 1 + L)`` keep-mask ->
        ``(S, D)``."""
        return self.encode_cls(sequences, padding_mask(keep))

    def forward(self, patch_tokens: torch.Tensor, boxes: torch.Tensor,
                labels: torch.Tensor, box_mask: torch.Tensor,
                image_size: Tuple[int, int]) -> Dict[str, torch.Tensor]:
        """Encode the top-N trajectories of every clip.

        Args:
            patch_tokens (torch.Tensor): ``(B, T, HW, C)`` (object layer).
            boxes (torch.Tensor): ``(B, T, K, 4)`` input pixels.
            labels (torch.Tensor): ``(B, T, K)`` class ids, by confidence.
            box_mask (torch.Tensor): ``(B, T, K)`` visible boxes.
            image_size (tuple): ``(H_img, W_img)``.

        Returns:
            dict: ``trajectory_tokens (B, N, D)`` (zeros where absent),
            ``trajectory_mask (B, N)``, ``object_tokens (B, T, K, C)`` and
            ``object_mask (B, T, K)`` (for the action encoder).
        """
        b, t = labels.shape[:2]
        n, width = self.num_trajectories, patch_tokens.shape[-1]
        box_mask = box_mask.bool() & (labels >= 0)
        objects = self.object_tokens(patch_tokens, boxes, box_mask,
                                     image_size)
        member = box_mask & (labels < n)
        mb, mt, mk = member.nonzero(as_tuple=True)
        seq_of_box = mb * n + labels[mb, mt, mk]  # global trajectory id
        seq_ids, inverse, counts = torch.unique(
            seq_of_box, return_inverse=True, return_counts=True)
        tokens = objects[mb, mt, mk] + self.frame_position[mt]

        if len(seq_ids) == 0:
            # No trajectory in the batch: run the layers on one [CLS] so
            # every parameter still takes part in the graph (DDP).
            dummy = self.encode_sequences(self.cls_token.view(1, 1, -1),
                                          box_mask.new_ones(1, 1))
            traj = dummy.new_zeros(b * n, dummy.shape[-1]) + 0 * dummy.sum()
            return dict(trajectory_tokens=traj.view(b, n, -1),
                        trajectory_mask=box_mask.new_zeros(b, n),
                        object_tokens=objects, object_mask=box_mask)

        # Slot of each box inside its packed sequence (after the [CLS]).
        order = torch.argsort(inverse, stable=True)
        starts = torch.cumsum(counts, 0) - counts
        slot = torch.empty_like(inverse)
        slot[order] = torch.arange(len(order), device=order.device) - \
            starts[inverse[order]]
        sequences = tokens.new_zeros(len(seq_ids), 1 + int(counts.max()),
                                     width)
        keep = box_mask.new_zeros(sequences.shape[:2])
        sequences[:, 0] = self.cls_token.to(tokens.dtype)
        keep[:, 0] = True
        sequences[inverse, 1 + slot] = tokens
        keep[inverse, 1 + slot] = True

        encoded = self.encode_sequences(sequences, keep)  # (S, D)
        traj = encoded.new_zeros(b * n, encoded.shape[-1])
        traj[seq_ids] = encoded
        traj_mask = box_mask.new_zeros(b * n)
        traj_mask[seq_ids] = True
        return dict(trajectory_tokens=traj.view(b, n, -1),
                    trajectory_mask=traj_mask.view(b, n),
                    object_tokens=objects, object_mask=box_mask)
