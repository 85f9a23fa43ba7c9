"""What OTA and ASP share: match predictions to text tokens, then MSE.

Letters: B batch, P predictions per sample (trajectories or actions),
L text length, D feature width.
"""
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..utils.distributed import global_mean
from .hungarian import hungarian_match


def eot_mask(token_mask: torch.Tensor, eot_index: torch.Tensor
             ) -> torch.Tensor:
    """``token_mask`` ``(B, L)`` with the EOT position (t_CLS) added."""
    mask = token_mask.bool().clone()
    mask[torch.arange(len(mask), device=mask.device), eot_index] = True
    return mask


class SetAlignmentLoss(nn.Module):
    """Hungarian matching on ``Softmax(sim(pred, targets))``, MSE on pairs.

    Per sample, the similarity of every valid prediction to every target
    token is turned into a distribution over targets (softmax over the
    target axis), the assignment maximising the total probability is found
    (``min(#pred, #targets)`` pairs), and the matched predictions are
    regressed onto the matched target features. Matching and targets carry
    no gradient: the text encoder is not trained by this loss.

    Args:
        similarity (str): ``'dot'`` (the official code) or ``'cosine'``.
        normalize (bool): Regress L2-normalised features instead of raw
            ones (the official code); the loss is then the squared distance
            of unit vectors, ``2 - 2 cos``, averaged over pairs (scale-free
            and independent of D). Useful when the text encoder trains fast,
            e.g. from scratch: the raw MSE then mostly chases the changing
            scale of the text features. Defaults to False.
        loss_weight (float): Defaults to 1.
    """

    def __init__(self, similarity: str = 'dot', normalize: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if similarity not in ('dot', 'cosine'):
            raise ValueError(f'similarity must be "dot" or "cosine", got '
                             f'{similarity!r}')
        self.similarity = similarity
        self.normalize = normalize
        self.loss_weight = loss_weight

    @torch.no_grad()
    def match(self, pred: torch.Tensor, targets: torch.Tensor
              ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Matched ``(rows, cols)`` of one sample's ``pred (P, D)`` and
        ``targets (L', D)``."""
        if self.similarity == 'cosine':
            pred, targets = F.normalize(pred, dim=-1), F.normalize(
                targets, dim=-1)
        score = (pred.float() @ targets.float().t()).softmax(dim=-1)
        rows, cols = hungarian_match(score)
        device = pred.device
        return (torch.as_tensor(rows, device=device),
                torch.as_tensor(cols, device=device))

    @torch.no_grad()
    def assignments(self, pred: torch.Tensor, pred_mask: torch.Tensor,
                    targets: torch.Tensor, target_mask: torch.Tensor
                    ) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        """The pairs :meth:`aligned_loss` regresses, as batch indices.

        :meth:`aligned_loss` regresses exactly these pairs.

        Args:
            pred (torch.Tensor): ``(B, P, D)``.
            pred_mask (torch.Tensor): ``(B, P)`` valid predictions.
            targets (torch.Tensor): ``(B, L, D)`` text token features.
            target_mask (torch.Tensor): ``(B, L)`` candidate targets.

        Returns:
            list[tuple[torch.Tensor, torch.Tensor]]: per sample,
            ``pred_index (p,)`` in ``[0, P)`` and ``target_index (p,)`` in
            ``[0, L)`` (int64, ``p = min(#valid, #candidates)``, empty when
            either side is), ``pred_index`` ascending.
        """
        pairs = []
        for b in range(pred.shape[0]):
            pred_index = pred_mask[b].bool().nonzero().flatten()
            target_index = target_mask[b].bool().nonzero().flatten()
            if len(pred_index) == 0 or len(target_index) == 0:
                empty = pred_index.new_zeros(0)
                pairs.append((empty, empty.clone()))
                continue
            rows, cols = self.match(pred[b][pred_index],
                                    targets[b][target_index])
            pairs.append((pred_index[rows], target_index[cols]))
        return pairs

    def aligned_loss(self, pred: torch.Tensor, pred_mask: torch.Tensor,
                     targets: torch.Tensor,
                     target_mask: torch.Tensor) -> torch.Tensor:
        """The loss of a batch.

        Args:
            pred (torch.Tensor): ``(B, P, D)``.
            pred_mask (torch.Tensor): ``(B, P)`` valid predictions.
            targets (torch.Tensor): ``(B, L, D)`` text token features.
            target_mask (torch.Tensor): ``(B, L)`` candidate targets.

        Returns:
            torch.Tensor: MSE over all matched pairs (0 with a graph when a
            batch has none, e.g. no objects or no nouns).
        """
        targets = targets.detach()
        pairs = self.assignments(pred, pred_mask, targets, target_mask)
        matched_pred = [pred[b][rows] for b, (rows, _) in enumerate(pairs)
                        if len(rows)]
        matched_target = [targets[b][cols]
                          for b, (rows, cols) in enumerate(pairs) if len(rows)]
        if not matched_pred:
            # no pair here, but other ranks may have some: count zero
            return self.loss_weight * global_mean(pred.sum() * 0.0, 0)
        matched_pred = torch.cat(matched_pred)
        matched_target = torch.cat(matched_target)
        if self.normalize:
            distance = F.normalize(matched_pred, dim=-1) - F.normalize(
                matched_target, dim=-1)
            return self.loss_weight * global_mean(
                distance.pow(2).sum(), len(distance))
        # MSE: the mean over every element of every pair of the global batch
        squared = (matched_pred - matched_target).pow(2)
        return self.loss_weight * global_mean(squared.sum(), squared.numel())
