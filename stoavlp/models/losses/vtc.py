"""Video-text contrastive loss (VTC), paper eq. 3-5."""
import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from stoavlp.registry import MODELS
from ..utils.clip_weights import load_clip_state_dict
from ..utils.distributed import gather_with_grad, local_rows


@MODELS.register_module()
class VTCLoss(nn.Module):
    """Symmetric InfoNCE between video and text features (eq. 3-5).

    ``sim(v, t)`` is the cosine similarity times a learnable logit scale
    (CLIP's, clamped at ``max_logit_scale`` = 100). It starts from the CLIP
    checkpoint's trained ``logit_scale`` when ``pretrained`` is given (the
    official behaviour: 100 for OpenAI's ViT-B/16), else from
    ``1 / init_temperature``. A scale that stays at 1/0.07 = 14.3 leaves
    VTM's similarity-sampled "hard" negatives nearly uniform, so configs
    must let it learn (see the schedules' ``vtc_loss.logit_scale`` rate). Features are gathered across ranks *with*
    gradient, so every rank's loss uses the global batch as negatives:

    ``L_t2v = -mean_i log softmax_j(sim(v_j, t_i))[i]`` (eq. 3),
    ``L_v2t = -mean_i log softmax_j(sim(v_i, t_j))[i]`` (eq. 4),
    ``L_VTC = (L_t2v + L_v2t) / 2`` (eq. 5).

    Args:
        init_temperature (float): Defaults to 0.07 (CLIP's initial value).
        max_logit_scale (float): Defaults to 100.
        pretrained (str, optional): A CLIP checkpoint (any format of
            :func:`~stoavlp.models.utils.clip_weights.load_clip_state_dict`)
            whose ``logit_scale`` :meth:`init_weights` loads. Defaults to
            None.
        loss_weight (float): Defaults to 1.
    """

    def __init__(self, init_temperature: float = 0.07,
                 max_logit_scale: float = 100.0,
                 pretrained: Optional[str] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.logit_scale = nn.Parameter(
            torch.tensor(math.log(1.0 / init_temperature)))
        self.max_logit_scale = max_logit_scale
        self.pretrained = pretrained
        self.loss_weight = loss_weight

    def init_weights(self) -> None:
        """Take ``logit_scale`` from ``pretrained`` (clamped at
        ``log(max_logit_scale)``); called by MMEngine with the model's."""
        if self.pretrained is None:
            return
        scale = load_clip_state_dict(self.pretrained).get('logit_scale')
        if scale is None:
            raise KeyError(f'{self.pretrained} has no logit_scale for '
                           'VTCLoss(pretrained=...)')
        self.logit_scale.data.fill_(
            min(float(scale), math.log(self.max_logit_scale)))

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=self.max_logit_scale)

    def logits(self, video: torch.Tensor, text: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Local rows against the global batch.

        Args:
            video (torch.Tensor): ``(B, D)`` video features (v_CLS).
            text (torch.Tensor): ``(B, D)`` text features (t at EOT).

        Returns:
            tuple: ``v2t (B, B_all)`` and ``t2v (B, B_all)`` logits.
        """
        video = F.normalize(video, dim=-1)
        text = F.normalize(text, dim=-1)
        all_video = gather_with_grad(video)  # (B_all, D)
        all_text = gather_with_grad(text)
        scale = self.scale()
        return scale * video @ all_text.t(), scale * text @ all_video.t()

    def forward(self, video: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        v2t, t2v = self.logits(video, text)
        start, stop = local_rows(video.shape[0])
        target = torch.arange(start, stop, device=video.device)
        loss = (F.cross_entropy(t2v, target) + F.cross_entropy(v2t, target))
        return self.loss_weight * loss / 2
