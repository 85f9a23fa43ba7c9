"""What the trajectory and action encoders share."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from ..utils.transformer import LayerNorm, Transformer, copy_blocks


class TopBlocksEncoder(BaseModule):
    """A few ViT blocks, initialised from the top blocks of the video
    encoder, whose [CLS] output is projected like CLIP's (``ln_post`` then
    ``proj``) into the joint space.

    Args:
        width (int): C, the video width.
        embed_dim (int): D, the joint width.
        heads (int): Attention heads.
        layers (int): Blocks (the paper: 2).
        mlp_ratio (float): MLP width over C.
        act (str): ``'quick_gelu'`` or ``'gelu'``.
        with_cp (bool): Activation checkpointing.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self, width: int, embed_dim: int, heads: int, layers: int,
                 mlp_ratio: float, act: str, with_cp: bool,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.transformer = Transformer(width, layers, heads, mlp_ratio, act,
                                       with_cp)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, embed_dim) * width**-0.5)

    def init_from_backbone(self, backbone: nn.Module) -> None:
        """Copy the top video blocks, ``ln_post`` and ``proj``."""
        copy_blocks(self.transformer,
                    backbone.top_blocks(len(self.transformer.resblocks)))
        self.ln_post.load_state_dict(backbone.ln_post.state_dict())
        self.proj.data.copy_(backbone.proj.data)

    def encode_cls(self, sequences: torch.Tensor,
                   attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(S, 1 + L, C)`` [CLS]-headed sequences -> ``(S, D)``."""
        out = self.transformer(sequences, attn_mask)
        return self.ln_post(out[:, 0]) @ self.proj
