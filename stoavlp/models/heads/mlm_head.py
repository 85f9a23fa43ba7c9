"""Masked language modelling (MLM) through the fusion encoder.

Letters: B batch, L text length, P masked tokens, V vocabulary.
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from stoavlp.registry import MODELS
from ..utils.distributed import local_uniform
from ..utils.features import VideoTextFeatures


@MODELS.register_module()
class MLMHead(nn.Module):
    """Predict masked caption words from the video and the other words.

    ``mask_prob`` (15 %) of the caption tokens (never the start, end or
    padding tokens; at least one per caption) are masked. Masking follows
    the official release rather than BERT's 80/10/10: the masked token's id
    is replaced by 0 before the text encoder and its feature is zeroed at
    the fusion input (CLIP has no [MASK] token). The fusion is
    bidirectional; the algorithm's tied ``lm_head`` reads the logits.

    Args:
        mask_prob (float): Defaults to 0.15.
        loss (dict): Defaults to ``dict(type='MLMLoss')``.
    """

    def __init__(self, mask_prob: float = 0.15,
                 loss: Optional[dict] = None) -> None:
        super().__init__()
        self.mask_prob = mask_prob
        self.loss_module = MODELS.build(loss or dict(type='MLMLoss'))

    def sample_mask(self, token_ids: torch.Tensor,
                    attention_mask: torch.Tensor,
                    draw: torch.Tensor) -> torch.Tensor:
        """``(B, L)`` bool: the caption tokens to mask.

        Args:
            token_ids (torch.Tensor): ``(B, L)``.
            attention_mask (torch.Tensor): ``(B, L)``, 1 on SOT..EOT.
            draw (torch.Tensor): ``(B, L)`` uniform [0, 1) numbers.
        """
        lengths = attention_mask.sum(-1)  # SOT + words + EOT
        pos = torch.arange(token_ids.shape[1], device=token_ids.device)
        words = (pos[None] >= 1) & (pos[None] < lengths[:, None] - 1)
        mask = words & (draw < self.mask_prob)
        # At least one masked word per caption: its lowest draw.
        lowest = torch.where(words, draw, torch.full_like(draw, 2.0))
        forced = F.one_hot(lowest.argmin(-1), token_ids.shape[1]).bool()
        return mask | (forced & words)

    def loss(self, features: VideoTextFeatures,
             data_samples: List) -> torch.Tensor:
        """MLM loss of one batch (masks from ``features.generator``)."""
        token_ids, attention_mask = features.token_ids, features.attention_mask
        encoders = features.encoders
        draw = local_uniform(features.generator, *token_ids.shape).to(
            token_ids.device)
        masked = self.sample_mask(token_ids, attention_mask, draw)
        masked_text = encoders.encode_text(token_ids.masked_fill(masked, 0),
                                           attention_mask)['token_features']
        masked_text = masked_text.masked_fill(masked[..., None], 0)
        _, fused_text = encoders.fuse(features.video_seq, masked_text,
                                      attention_mask)
        logits = encoders.token_logits(fused_text[masked])  # (P, V)
        return self.loss_module(logits, token_ids[masked])
