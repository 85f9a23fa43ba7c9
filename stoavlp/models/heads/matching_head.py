"""Video-text matching (VTM) head.

Letters: P fused pairs, C fusion width.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from stoavlp.registry import MODELS


@MODELS.register_module()
class VTMHead(BaseModule):
    """Matched / unmatched logits from the fused video [CLS] and text EOT.

    As the official release: two bilinear forms on the L2-normalised fused
    outputs, ``logit_k = v̂ᵀ W_k t̂`` for k in (unmatched, matched). The head
    owns the VTM loss (positives and sampled hard negatives).

    Args:
        width (int): C. Defaults to 512.
        dropout (float): Defaults to 0.1.
        loss (dict): Defaults to ``dict(type='VTMLoss')``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 width: int = 512,
                 dropout: float = 0.1,
                 loss: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        # unmatched = -I, matched = +I: starts as a cosine-similarity test
        self.bilinear = nn.Parameter(
            torch.stack([-torch.eye(width), torch.eye(width)]))
        self.dropout = nn.Dropout(dropout)
        self.loss_module = MODELS.build(loss or dict(type='VTMLoss'))

    def forward(self, video_out: torch.Tensor,
                text_out: torch.Tensor) -> torch.Tensor:
        """``(P, C)`` fused video [CLS] and text EOT -> ``(P, 2)``."""
        v = self.dropout(F.normalize(video_out.float(), dim=-1))
        t = self.dropout(F.normalize(text_out.float(), dim=-1))
        return torch.einsum('pc,kcd,pd->pk', v, self.bilinear.float(), t)

    @torch.no_grad()
    def match_probability(self, video_out: torch.Tensor,
                          text_out: torch.Tensor) -> torch.Tensor:
        """``(P,)`` probability that each pair matches."""
        return self(video_out, text_out).softmax(-1)[:, 1]

    def loss(self, video_out: torch.Tensor, text_out: torch.Tensor,
             labels: torch.Tensor) -> torch.Tensor:
        """VTM loss of pairs with ``labels (P,)`` (1 = matched)."""
        return self.loss_module(self(video_out, text_out), labels)


@MODELS.register_module()
class VTMLinearHead(VTMHead):
    """Matched / unmatched logits from a linear layer on the fused pair,
    ``logits = Linear([v; t; v ⊙ t])`` (BLIP's ITM head, with the video
    side and the element-wise product added), on the fused outputs as they
    are, not L2-normalised.

    Why it exists: :class:`VTMHead`'s logits on unit vectors move only as
    fast as every entry of ``W`` does (about ``lr`` per Adam step), so a
    short run never leaves the class prior (the demo before this head:
    ``loss_vtm`` 0.62 against the prior 0.64 after 500 steps; see
    ``tests/test_models/test_heads/test_matching_head.py``). On the
    layer-normalised fused features (entries ~1) each step moves a logit by
    about ``lr * 3C``.

    Args:
        width (int): C. Defaults to 512.
        dropout (float): Defaults to 0.1.
        loss (dict): Defaults to ``dict(type='VTMLoss')``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 width: int = 512,
                 dropout: float = 0.1,
                 loss: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(width, dropout, loss, init_cfg)
        del self.bilinear
        self.fc = nn.Linear(3 * width, 2)

    def forward(self, video_out: torch.Tensor,
                text_out: torch.Tensor) -> torch.Tensor:
        """``(P, C)`` fused video [CLS] and text EOT -> ``(P, 2)``."""
        v, t = video_out.float(), text_out.float()
        return self.fc(self.dropout(torch.cat([v, t, v * t], -1)))
