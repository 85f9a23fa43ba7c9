"""Language-model head tied to the CLIP token embedding (MLM, PLM).

Letters: B batch, L text length, C fusion width, V vocabulary.
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
    a learned ``W_proj (C, C)`` (identity at start) and a bias. The head
    owns the MLM and PLM losses; either may be None (an ablation config),
    and the read-out its next-token predictions come from
    (:mod:`~stoavlp.models.heads.lm_readout`: stoavlp's one-pass prefix LM,
    or the official blank-slot read-out for converted official
    checkpoints).

    Args:
        width (int): C. Defaults to 512.
        vocab_size (int): V. Defaults to 49408.
        dropout (float): Defaults to 0.1.
        mlm_loss (dict, optional): Defaults to ``dict(type='MLMLoss')``.
        plm_loss (dict, optional): Defaults to ``dict(type='PLMLoss')``.
        readout (dict, optional): Defaults to
            ``dict(type='PrefixLMReadout')``; ``'BlankSlotReadout'`` is the
            official one.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 width: int = 512,
                 vocab_size: int = 49408,
                 dropout: float = 0.1,
                 mlm_loss: Optional[dict] = 'default',
                 plm_loss: Optional[dict] = 'default',
                 readout: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.proj = nn.Parameter(torch.eye(width))
        self.bias = nn.Parameter(torch.zeros(vocab_size))
        self.dropout = nn.Dropout(dropout)
        if mlm_loss == 'default':
            mlm_loss = dict(type='MLMLoss')
        if plm_loss == 'default':
            plm_loss = dict(type='PLMLoss')
        self.mlm_loss = MODELS.build(mlm_loss) if mlm_loss else None
        self.plm_loss = MODELS.build(plm_loss) if plm_loss else None
        self.readout = MODELS.build(readout or dict(type='PrefixLMReadout'))

    def forward(self, hidden: torch.Tensor,
                token_embedding: torch.Tensor) -> torch.Tensor:
        """``hidden (..., C)`` and ``E (V, C)`` -> logits ``(..., V)``."""
        # (h W) E^T, not h (W E^T): only the few predicted positions are
        # multiplied by the C x C matrix instead of all V vocabulary rows.
        projected = self.dropout(hidden) @ self.proj.to(hidden.dtype)
        return projected @ token_embedding.t().to(hidden.dtype) + \
            self.bias.to(hidden.dtype)

    def loss_mlm(self, text_hidden: torch.Tensor, token_ids: torch.Tensor,
                 masked: torch.Tensor,
                 token_embedding: torch.Tensor) -> torch.Tensor:
        """MLM loss at the ``masked (B, L)`` positions of ``text_hidden
        (B, L, C)`` (fusion outputs of the masked caption)."""
        logits = self(text_hidden[masked], token_embedding)  # (P, V)
        return self.mlm_loss(logits, token_ids[masked])

    def loss_plm(self, text_hidden: torch.Tensor, token_ids: torch.Tensor,
                 predicting: torch.Tensor,
                 token_embedding: torch.Tensor) -> torch.Tensor:
        """PLM loss: position p in ``predicting (B, L)`` predicts token
        ``p + 1`` from the prefix-LM fusion outputs ``text_hidden``."""
        targets = torch.roll(token_ids, shifts=-1, dims=1)[predicting]
        logits = self(text_hidden[predicting], token_embedding)
        return self.plm_loss(logits, targets)
