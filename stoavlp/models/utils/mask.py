"""Attention masks (bool, True = may attend), built in one place.

Letters: B batch, Q queries, K keys, L length.
"""
import torch


def padding_mask(keep: torch.Tensor) -> torch.Tensor:
    """``(B, K)`` keep-mask of keys -> ``(B, 1, 1, K)`` attention mask."""
    return keep.bool()[:, None, None, :]


def causal_mask(length: int, device=None) -> torch.Tensor:
    """``(L, L)``: position i attends to positions <= i."""
    return torch.ones(length, length, dtype=torch.bool,
                      device=device).tril()


def prefix_lm_mask(prefix_len: torch.Tensor, length: int) -> torch.Tensor:
    """Prefix-LM mask ``(B, 1, L, L)``.

    Positions ``< prefix_len[b]`` form the prefix and see each other
    (bidirectional); later positions are causal: they see the prefix and the
    earlier suffix positions, never later ones.

    Args:
        prefix_len (torch.Tensor): ``(B,)`` prefix length per sample.
        length (int): L.
    """
    pos = torch.arange(length, device=prefix_len.device)
    causal = pos[None, :] <= pos[:, None]  # (L, L) key <= query
    in_prefix = pos[None, :] < prefix_len[:, None]  # (B, L) key in prefix
    return (causal[None] | in_prefix[:, None, :])[:, None]  # (B, 1, L, L)
