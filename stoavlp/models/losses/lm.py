"""Token cross entropy for the language-modelling objectives (MLM, PLM).

The heads that choose the predicted tokens (``MLMHead``, ``PLMHead``) own
the sampling; these losses only score the chosen tokens.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from stoavlp.registry import MODELS
from ..utils.distributed import global_mean


class TokenCrossEntropyLoss(nn.Module):
    """Cross entropy over the vocabulary, averaged over the tokens of the
    *global* batch (ranks hold different numbers of predicted tokens).

    Args:
        loss_weight (float): Defaults to 1.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
        """``logits (P, V)`` of the predicted tokens, ``targets (P,)``."""
        total = F.cross_entropy(logits.float(), targets, reduction='sum')
        return self.loss_weight * global_mean(total, len(targets))


@MODELS.register_module()
class MLMLoss(TokenCrossEntropyLoss):
    """MLM's loss at the masked tokens (``MLMHead`` masks them)."""


@MODELS.register_module()
class PLMLoss(TokenCrossEntropyLoss):
    """PLM's (and captioning's) loss at the suffix tokens (``PLMHead``
    chooses the split)."""
