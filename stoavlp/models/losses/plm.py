"""Prefix language modelling (PLM) in one fusion pass."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from stoavlp.registry import MODELS
from ..utils.distributed import global_mean


@MODELS.register_module()
class PLMLoss(nn.Module):
    """Predict a random-length suffix of the caption from the video and the
    caption's prefix (SimVLM's prefix LM, as the paper follows).

    Per caption a split point ``s`` is drawn uniformly from ``1..e`` where
    ``e`` is the EOT position: text positions ``< s`` join the
    (bidirectional) prefix, later positions are causal, and positions
    ``s - 1 .. e - 1`` predict tokens ``s .. e``. The official code runs one
    fusion pass per position (31 passes); with a prefix-LM attention mask
    one pass gives the same logits (see ``stoavlp.models.utils.mask``).

    Args:
        loss_weight (float): Defaults to 1.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    def sample_split(eot_index: torch.Tensor,
                     draw: torch.Tensor) -> torch.Tensor:
        """``(B,)`` split points ``s`` uniform in ``[1, eot_index]`` from
        ``draw (B,)`` uniform [0, 1) numbers."""
        # floor(draw * e) is in [0, e - 1]; minimum() guards float rounding
        return 1 + (draw * eot_index.float()).long().minimum(eot_index - 1)

    @staticmethod
    def target_mask(split: torch.Tensor, eot_index: torch.Tensor,
                    length: int) -> torch.Tensor:
        """``(B, L)`` bool: text positions whose *next* token is a target
        (``s - 1 <= p <= e - 1``)."""
        pos = torch.arange(length, device=split.device)[None]
        return (pos >= split[:, None] - 1) & (pos <= eot_index[:, None] - 1)

    def forward(self, logits: torch.Tensor,
                targets: torch.Tensor) -> torch.Tensor:
        """``logits (P, V)`` at the predicting positions, ``targets (P,)``."""
        # mean over the tokens of the global batch (ranks hold different
        # numbers of tokens)
        total = F.cross_entropy(logits.float(), targets, reduction='sum')
        return self.loss_weight * global_mean(total, len(targets))
