"""The vocabulary read-out tied to the CLIP token embedding.

Letters: C fusion width, V vocabulary.
"""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from stoavlp.registry import MODELS


@MODELS.register_module()
class TiedLMHead(BaseModule):
    """``logits = dropout(h) @ (W_proj @ E^T) + b``, E the token embedding.

    As the official release, the output layer is the CLIP text token
    embedding ``E (V, C)`` (passed in, not copied, so it stays tied) behind
    a learned ``W_proj (C, C)`` (identity at start) and a bias. One layer
    shared by every head that predicts tokens (``MLMHead``, ``PLMHead``,
    ``CaptionHead``), held by the algorithm as ``lm_head``.

    Args:
        width (int): C. Defaults to 512.
        vocab_size (int): V. Defaults to 49408.
        dropout (float): Defaults to 0.1.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 width: int = 512,
                 vocab_size: int = 49408,
                 dropout: float = 0.1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.proj = nn.Parameter(torch.eye(width))
        self.bias = nn.Parameter(torch.zeros(vocab_size))
        self.dropout = nn.Dropout(dropout)

    def forward(self, hidden: torch.Tensor,
                token_embedding: torch.Tensor) -> torch.Tensor:
        """``hidden (..., C)`` and ``E (V, C)`` -> logits ``(..., V)``."""
        # (h W) E^T, not h (W E^T): only the few predicted positions are
        # multiplied by the C x C matrix instead of all V vocabulary rows.
        projected = self.dropout(hidden) @ self.proj.to(hidden.dtype)
        return projected @ token_embedding.t().to(hidden.dtype) + \
            self.bias.to(hidden.dtype)
