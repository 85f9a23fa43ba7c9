"""Spatial-temporal action set prediction (ASP), paper eq. 8-9."""
import torch

from stoavlp.registry import MODELS
from .set_alignment import SetAlignmentLoss, eot_mask


@MODELS.register_module()
class ASPLoss(SetAlignmentLoss):
    """Predict the text's action set with the action tokens (eq. 8-9).

    The action set ``s_act = Set(t_act) ∪ {∅}`` holds the verb tokens and
    the empty action ``∅ = t_CLS`` (the EOT feature).
    ``[x_ind, s_ind] = matching(Softmax(sim(x_t, s_act)))`` (eq. 8),
    ``L_ASP = MSE(x_ind, s_ind)`` (eq. 9). As in the official code ``∅``
    appears once, so ``min(M, #verbs + 1)`` actions are matched. Text
    features are detached.
    """

    def forward(self, action_tokens: torch.Tensor, text_tokens: torch.Tensor,
                verb_mask: torch.Tensor,
                eot_index: torch.Tensor) -> torch.Tensor:
        """
        Args:
            action_tokens (torch.Tensor): ``(B, M, D)`` x.
            text_tokens (torch.Tensor): ``(B, L, D)`` text encoder outputs.
            verb_mask (torch.Tensor): ``(B, L)`` verb tokens.
            eot_index (torch.Tensor): ``(B,)`` position of t_CLS (∅).
        """
        action_mask = action_tokens.new_ones(action_tokens.shape[:2],
                                             dtype=torch.bool)
        return self.aligned_loss(action_tokens, action_mask, text_tokens,
                                 eot_mask(verb_mask, eot_index))
