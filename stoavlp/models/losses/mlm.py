"""Masked language modelling (MLM) through the fusion encoder."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from stoavlp.registry import MODELS
from ..utils.distributed import global_mean


@MODELS.register_module()
class MLMLoss(nn.Module):
    """Cross entropy over the vocabulary at randomly masked text tokens.

    ``mask_prob`` (15 %) of the caption tokens (never the start, end or
    padding tokens; at least one per caption) are masked. Masking follows
    the official release rather than BERT's 80/10/10: the masked token's id
    is replaced by 0 before the text encoder and its feature is zeroed at
    the fusion input (CLIP has no [MASK] token).

    Args:
        mask_prob (float): Defaults to 0.15.
        loss_weight (float): Defaults to 1.
    """

    def __init__(self, mask_prob: float = 0.15,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.mask_prob = mask_prob
        self.loss_weight = loss_weight

    def sample_mask(self, token_ids: torch.Tensor,
                    attention_mask: torch.Tensor,
                    draw: torch.Tensor) -> torch.Tensor:
        """``(B, L)`` bool: the caption tokens to mask.

        Args:
            token_ids (torch.Tensor): ``(B, L)``.
            attention_mask (torch.Tensor): ``(B, L)``, 1 on SOT..EOT.
            draw (torch.Tensor): ``(B, L)`` uniform [0, 1) numbers (the
                caller makes them reproducible across ranks and resumes).
        """
        lengths = attention_mask.sum(-1)  # SOT + words + EOT
        pos = torch.arange(token_ids.shape[1], device=token_ids.device)
        words = (pos[None] >= 1) & (pos[None] < lengths[:, None] - 1)
        mask = words & (draw < self.mask_prob)
        # At least one masked word per caption: its lowest draw.
        lowest = torch.where(words, draw, torch.full_like(draw, 2.0))
        forced = F.one_hot(lowest.argmin(-1), token_ids.shape[1]).bool()
        return mask | (forced & words)

    def forward(self, logits: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
        """``logits (P, V)`` at the masked tokens, ``targets (P,)`` ids."""
        # mean over the tokens of the global batch (ranks hold different
        # numbers of tokens)
        total = F.cross_entropy(logits.float(), targets, reduction='sum')
        return self.loss_weight * global_mean(total, len(targets))
