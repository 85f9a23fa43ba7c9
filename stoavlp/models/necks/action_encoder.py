"""Spatial-temporal action encoder, paper eq. 2.

Letters: B batch, T frames, HW patches, K boxes per frame, M action
queries, C video width (h in the paper), D joint width (d).
"""
from typing import Dict, Optional

import torch
import torch.nn as nn

from stoavlp.registry import MODELS
from .base import TopBlocksEncoder


@MODELS.register_module()
class ActionEncoder(TopBlocksEncoder):
    """Action tokens ``x (B, M, D)`` from patch and object tokens.

    Each of M learned queries ``q_i`` pools every frame's
    ``F = [patch tokens ; object tokens]`` (invalid objects masked):
    ``x_i = softmax(q_i · F^T) F`` (eq. 2), giving ``(T, C)`` per action.
    A [CLS] (the mean of the frames' [CLS] tokens at this layer, as the
    official code) heads the T frame features; two transformer layers
    (initialised from the top two video blocks) encode the sequence and the
    [CLS] output, ``ln_post`` and ``proj`` gives the action token.

    Args:
        width (int): C. Defaults to 768.
        embed_dim (int): D. Defaults to 512.
        heads (int): Defaults to 12.
        layers (int): Defaults to 2.
        num_actions (int): M. Defaults to 4.
        num_frames (int): Largest T. Defaults to 12.
        attention_scale (float, optional): Multiplies ``q · F^T``; None
            means 1 (eq. 2 and the official code have no ``1/sqrt(C)``).
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
                 num_actions: int = 4,
                 num_frames: int = 12,
                 attention_scale: Optional[float] = None,
                 mlp_ratio: float = 4.0,
                 act: str = 'quick_gelu',
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(width, embed_dim, heads, layers, mlp_ratio, act,
                         with_cp, init_cfg)
        self.num_actions = num_actions
        self.attention_scale = attention_scale
        self.queries = nn.Parameter(
            torch.randn(num_actions, width) * width**-0.5)
        # Temporal order of [CLS, frame 1..T]. The official encoder has
        # none, so it cannot tell growing from shrinking or left from
        # right; random (CLIP's positional scale), not zero, so this one
        # can from the first step (official_to_stoavlp.py writes zeros).
        self.frame_position = nn.Parameter(
            torch.randn(num_frames + 1, width) * width**-0.5)

    def pool_frames(self, patch_tokens: torch.Tensor,
                    object_tokens: Optional[torch.Tensor],
                    object_mask: Optional[torch.Tensor]) -> torch.Tensor:
        """Eq. 2: ``(B, T, HW, C)`` (+ ``(B, T, K, C)``) -> ``(B, M, T, C)``.
        """
        features, keep = patch_tokens, None
        if object_tokens is not None:
            features = torch.cat([patch_tokens, object_tokens], 2)
            keep = torch.cat([
                object_mask.new_ones(patch_tokens.shape[:3]),
                object_mask.bool()
            ], 2)  # (B, T, HW + K)
        logits = torch.einsum('mc,btnc->btmn', self.queries.to(
            features.dtype), features).float()  # (B, T, M, HW + K)
        if self.attention_scale is not None:
            logits = logits * self.attention_scale
        if keep is not None:
            logits = logits.masked_fill(~keep[:, :, None], float('-inf'))
        weights = logits.softmax(-1).to(features.dtype)
        return torch.einsum('btmn,btnc->bmtc', weights, features)

    def forward(self, layer_tokens: torch.Tensor,
                object_tokens: Optional[torch.Tensor] = None,
                object_mask: Optional[torch.Tensor] = None
                ) -> Dict[str, torch.Tensor]:
        """
        Args:
            layer_tokens (torch.Tensor): ``(B, T, 1 + HW, C)`` tokens of the
                action layer ([CLS] first).
            object_tokens (torch.Tensor, optional): ``(B, T, K, C)``.
            object_mask (torch.Tensor, optional): ``(B, T, K)``.

        Returns:
            dict: ``action_tokens (B, M, D)``.
        """
        b, t = layer_tokens.shape[:2]
        frames = self.pool_frames(layer_tokens[:, :, 1:], object_tokens,
                                  object_mask)  # (B, M, T, C)
        head = layer_tokens[:, :, 0].mean(1)  # (B, C)
        head = head[:, None, None].expand(b, self.num_actions, 1, -1)
        sequences = torch.cat([head, frames], 2) + self.frame_position[:t + 1]
        sequences = sequences.reshape(b * self.num_actions, t + 1, -1)
        tokens = self.encode_cls(sequences)  # (B * M, D)
        return dict(action_tokens=tokens.view(b, self.num_actions, -1))
