"""Reference implementations that tests and benchmarks compare the
production encoders against (slow or redundant ways to compute what the
encoders compute, and views of their internals).

Letters: B batch, T frames, K boxes per frame, N trajectories, C width,
D joint width, L tokens.
"""
import torch
import torch.nn as nn


def dense_trajectory_tokens(encoder: nn.Module, object_tokens: torch.Tensor,
                            labels: torch.Tensor,
                            box_mask: torch.Tensor) -> torch.Tensor:
    """A :class:`~stoavlp.models.necks.TrajectoryEncoder`'s trajectory
    tokens as the official code computes them: N dense masked sequences of
    ``T * K + 1`` tokens per clip (the encoder packs only the visible boxes).

    Args:
        encoder (TrajectoryEncoder): The encoder whose parameters are used.
        object_tokens (torch.Tensor): ``(B, T, K, C)``, the encoder's
            ``object_tokens`` output.
        labels (torch.Tensor): ``(B, T, K)`` class ids (-1 for none).
        box_mask (torch.Tensor): ``(B, T, K)`` visible boxes.

    Returns:
        torch.Tensor: ``(B, N, D)``, zeros for absent classes.
    """
    b, t, k, c = object_tokens.shape
    n = encoder.num_trajectories
    tokens = (object_tokens + encoder.frame_position[:t, None]).reshape(
        b, 1, t * k, c).expand(b, n, t * k, c)
    classes = torch.arange(n, device=labels.device)
    member = (box_mask.bool() & (labels >= 0)).reshape(b, 1, t * k) & (
        labels.reshape(b, 1, t * k) == classes[None, :, None])
    cls = encoder.cls_token.to(tokens.dtype).expand(b, n, 1, c)
    sequences = torch.cat([cls, tokens], 2).reshape(b * n, 1 + t * k, c)
    keep = torch.cat([member.new_ones(b, n, 1), member], 2)
    encoded = encoder.encode_sequences(sequences, keep.reshape(b * n, -1))
    present = member.any(-1).reshape(b * n, 1)
    return (encoded * present).view(b, n, -1)


def text_blocks(encoder: nn.Module, start: int, stop: int) -> nn.ModuleList:
    """Blocks ``start:stop`` (0-indexed) of a
    :class:`~stoavlp.models.backbones.CLIPTextEncoder`, e.g. ``(0, 6)``:
    the blocks the fusion encoder is initialised from.

    Args:
        encoder (CLIPTextEncoder): The text encoder.
        start (int): First block index.
        stop (int): One past the last block index.

    Returns:
        nn.ModuleList: The blocks themselves (not copies).
    """
    depth = len(encoder.transformer.resblocks)
    if not 0 <= start < stop <= depth:
        raise ValueError(f'need 0 <= start < stop <= {depth}, got '
                         f'{start}, {stop}')
    return encoder.transformer.resblocks[start:stop]


def text_hidden(encoder: nn.Module, token_ids: torch.Tensor) -> torch.Tensor:
    """The last block output of a
    :class:`~stoavlp.models.backbones.CLIPTextEncoder` before ``ln_final``,
    ``(B, L, C)``: its ``token_features`` are ``ln_final(hidden) @
    text_projection``.

    Args:
        encoder (CLIPTextEncoder): The text encoder.
        token_ids (torch.Tensor): ``(B, L)`` BPE ids.
    """
    length = token_ids.shape[1]
    x = encoder.token_embedding(token_ids)
    x = x + encoder.positional_embedding[:length].to(x.dtype)
    return encoder.transformer(x, encoder.attn_mask[:length, :length])
