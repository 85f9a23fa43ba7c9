"""Region-word alignment: the property a CLIP start gives OTA."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from stoavlp.registry import MODELS
from ..utils.distributed import (gather_no_grad, gather_with_grad,
                                 global_mean, local_rows)


@MODELS.register_module()
class RegionWordLoss(nn.Module):
    """Symmetric InfoNCE between object regions and their noun tokens.

    STOA-VLP starts from CLIP, whose text tokens for nouns already sit near
    the image regions they name; OTA's matching is meaningful from its first
    step because of that. A CLIP trained here from scratch with VTC alone
    only aligns the end-of-text feature, so the demo's stage 0 (the tiny
    CLIP) adds this term, as region-word pre-training does (GLIP, RegionCLIP):
    each object's region feature should be closer to the feature of the
    caption token naming it than to every other named object's token in the
    global batch, and vice versa.

    ``sim(r, w) = s * cos(r, w)`` with a learnable ``s`` (like VTC's).

    Args:
        init_temperature (float): ``1 / s`` at the start. Defaults to 0.07.
        max_logit_scale (float): Defaults to 100.
        loss_weight (float): Defaults to 1.
    """

    def __init__(self, init_temperature: float = 0.07,
                 max_logit_scale: float = 100.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.logit_scale = nn.Parameter(
            torch.tensor(math.log(1.0 / init_temperature)))
        self.max_logit_scale = max_logit_scale
        self.loss_weight = loss_weight

    def forward(self, regions: torch.Tensor, words: torch.Tensor,
                valid: torch.Tensor) -> torch.Tensor:
        """
        Args:
            regions (torch.Tensor): ``(B, N, D)`` region feature of each
                trajectory (object class) of a clip.
            words (torch.Tensor): ``(B, N, D)`` the feature of the caption
                token naming it.
            valid (torch.Tensor): ``(B, N)`` pairs that exist (the object
                is visible and named).

        Returns:
            torch.Tensor: The mean over the global batch's pairs (0 with a
            graph when it has none).
        """
        regions = F.normalize(regions.flatten(0, 1), dim=-1)
        words = F.normalize(words.flatten(0, 1), dim=-1)
        valid = valid.flatten().bool()
        # fixed-size rows gathered (every rank the same shape), then masked
        all_regions = gather_with_grad(regions)
        all_words = gather_with_grad(words)
        all_valid = gather_no_grad(valid)
        scale = self.logit_scale.exp().clamp(max=self.max_logit_scale)
        start, _ = local_rows(len(regions))
        target = start + torch.arange(len(regions), device=regions.device)
        blocked = ~all_valid[None]
        r2w = (scale * regions @ all_words.t()).masked_fill(blocked, -1e4)
        w2r = (scale * words @ all_regions.t()).masked_fill(blocked, -1e4)
        loss = (F.cross_entropy(r2w, target, reduction='none') +
                F.cross_entropy(w2r, target, reduction='none')) / 2
        loss = (loss * valid).sum() + 0.0 * scale
        return self.loss_weight * global_mean(loss, valid.sum())
