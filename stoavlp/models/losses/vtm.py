"""Video-text matching (VTM) with hard negatives."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from stoavlp.registry import MODELS


@MODELS.register_module()
class VTMLoss(nn.Module):
    """2-way cross entropy on positive pairs and sampled hard negatives.

    For every text one negative video, and for every video one negative
    text, is drawn with probability ``softmax(sim)`` over the *global* batch
    (the diagonal excluded), following ALBEF and the official release.
    ``uniform_mix`` mixes that with a uniform draw: the probabilities become
    ``(1 - a) softmax(sim) + a / (B_all - 1)``. Hard negatives alone teach
    the head the fine differences between near-duplicates (the demo's
    one-attribute variants) and almost never show it an unrelated pair, so
    its scores on those (the bulk of a retrieval gallery) stay uncalibrated.

    Args:
        uniform_mix (float): ``a`` in ``[0, 1]``. Defaults to 0 (official).
        loss_weight (float): Defaults to 1.
    """

    def __init__(self, uniform_mix: float = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not 0 <= uniform_mix <= 1:
            raise ValueError(f'uniform_mix must be in [0, 1], got '
                             f'{uniform_mix}')
        self.uniform_mix = uniform_mix
        self.loss_weight = loss_weight

    @torch.no_grad()
    def sample_hard_negatives(self, sim_t2v: torch.Tensor,
                              generator: Optional[torch.Generator] = None
                              ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Draw hard negatives from the global similarity matrix.

        Args:
            sim_t2v (torch.Tensor): ``(B_all, B_all)`` logits, text i vs
                video j (the same on every rank).

        Returns:
            tuple: ``neg_video (B_all,)`` for every text and
            ``neg_text (B_all,)`` for every video (global indices).
        """
        n = sim_t2v.shape[0]
        if n < 2:
            raise ValueError('VTM hard negatives need a global batch >= 2')
        eye = torch.eye(n, dtype=torch.bool, device=sim_t2v.device)
        t2v = F.softmax(sim_t2v.float(), dim=1).masked_fill(eye, 0)
        v2t = F.softmax(sim_t2v.float().t(), dim=1).masked_fill(eye, 0)
        # multinomial needs a positive row sum: a row whose off-diagonal
        # probability underflowed gets a uniform draw.
        t2v = torch.where(t2v.sum(1, keepdim=True) > 0, t2v, (~eye).float())
        v2t = torch.where(v2t.sum(1, keepdim=True) > 0, v2t, (~eye).float())
        if self.uniform_mix:
            uniform = (~eye).float() / (n - 1)
            t2v = (1 - self.uniform_mix) * t2v / t2v.sum(1, keepdim=True) + \
                self.uniform_mix * uniform
            v2t = (1 - self.uniform_mix) * v2t / v2t.sum(1, keepdim=True) + \
                self.uniform_mix * uniform
        neg_video = torch.multinomial(t2v.cpu(), 1, generator=generator)
        neg_text = torch.multinomial(v2t.cpu(), 1, generator=generator)
        return (neg_video.squeeze(1).to(sim_t2v.device),
                neg_text.squeeze(1).to(sim_t2v.device))

    def forward(self, logits: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """``logits (P, 2)`` (unmatched, matched), ``labels (P,)`` 0/1."""
        return self.loss_weight * F.cross_entropy(logits.float(), labels)
