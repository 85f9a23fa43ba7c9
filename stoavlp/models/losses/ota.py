"""Dynamic object-text alignment (OTA), paper eq. 6-7."""
import torch

from stoavlp.registry import MODELS
from .set_alignment import SetAlignmentLoss, eot_mask


@MODELS.register_module()
class OTALoss(SetAlignmentLoss):
    """Align trajectory tokens with noun tokens (eq. 6-7).

    ``[o_ind, t_ind] = matching(Softmax(sim(o_t, t_noun)))`` (eq. 6) over
    the valid trajectories and the noun tokens plus ``t_CLS`` (the EOT
    feature: a trajectory matched to it matches no specific noun), then
    ``L_OTA = MSE(o_ind, t_ind)`` (eq. 7) with
    ``|o_ind| = |t_ind| = min(#trajectories, L_noun + 1)``. Text features are
    detached (the text encoder is frozen for this loss).
    """

    def forward(self, trajectory_tokens: torch.Tensor,
                trajectory_mask: torch.Tensor, text_tokens: torch.Tensor,
                noun_mask: torch.Tensor,
                eot_index: torch.Tensor) -> torch.Tensor:
        """
        Args:
            trajectory_tokens (torch.Tensor): ``(B, N, D)`` o.
            trajectory_mask (torch.Tensor): ``(B, N)`` valid trajectories.
            text_tokens (torch.Tensor): ``(B, L, D)`` text encoder outputs.
            noun_mask (torch.Tensor): ``(B, L)`` noun tokens.
            eot_index (torch.Tensor): ``(B,)`` position of t_CLS.
        """
        return self.aligned_loss(trajectory_tokens, trajectory_mask,
                                 text_tokens, eot_mask(noun_mask, eot_index))
