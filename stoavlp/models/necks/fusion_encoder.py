"""Modality-agnostic fusion encoder.

Letters: B batch, L total sequence length, C width (= D, the joint width).
"""
from typing import List, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from stoavlp.registry import MODELS
from ..utils.mask import padding_mask, prefix_lm_mask
from ..utils.transformer import LayerNorm, Transformer, copy_blocks

# Segment types of the fusion input [v_1..v_T, v_CLS | o | x | t].
VIDEO, TRAJECTORY, ACTION, TEXT = range(4)


@MODELS.register_module()
class FusionEncoder(BaseModule):
    """Joint encoder over ``[v_1..v_T, v_CLS, o, x, t]``.

    Inputs are already in the joint space (width D); a learned position
    embedding over the whole sequence (its first rows initialised from
    CLIP's text position embedding, as the official code) and a segment-type
    embedding are added. Two attention modes:

    - ``'bidirectional'``: every valid token sees every valid token (VTM,
      MLM, retrieval re-ranking, QA);
    - ``'prefix_lm'``: positions before ``prefix_len`` (the video side and a
      text prefix) see each other; later positions are causal (PLM,
      captioning).

    Args:
        width (int): C = D. Defaults to 512.
        layers (int): Defaults to 6 (the first six CLIP text blocks).
        heads (int): Defaults to 8.
        max_positions (int): Longest fused sequence. Defaults to 128.
        mlp_ratio (float): Defaults to 4.
        act (str): Defaults to ``'quick_gelu'``.
        with_cp (bool): Activation checkpointing. Defaults to False.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 width: int = 512,
                 layers: int = 6,
                 heads: int = 8,
                 max_positions: int = 128,
                 mlp_ratio: float = 4.0,
                 act: str = 'quick_gelu',
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.positional_embedding = nn.Parameter(
            torch.randn(max_positions, width) * 0.01)
        self.type_embedding = nn.Parameter(torch.zeros(4, width))
        self.transformer = Transformer(width, layers, heads, mlp_ratio, act,
                                       with_cp)
        self.ln_final = LayerNorm(width)

    def init_from_text_encoder(self, text_encoder: nn.Module) -> None:
        """First text blocks, text position embedding rows, ``ln_final``."""
        blocks = text_encoder.transformer.resblocks
        copy_blocks(self.transformer, blocks[:len(self.transformer.resblocks)])
        rows = min(len(self.positional_embedding),
                   len(text_encoder.positional_embedding))
        self.positional_embedding.data[:rows] = \
            text_encoder.positional_embedding.data[:rows]
        self.ln_final.load_state_dict(text_encoder.ln_final.state_dict())

    def embed(self, tokens: torch.Tensor, types: torch.Tensor,
              start: int = 0) -> torch.Tensor:
        """Add position (from ``start``) and type embeddings to
        ``(B, L, C)`` tokens with ``types (L,)``."""
        length = tokens.shape[1]
        if start + length > len(self.positional_embedding):
            raise ValueError(f'fused sequence of {start + length} tokens; '
                             f'max_positions is '
                             f'{len(self.positional_embedding)}')
        pos = self.positional_embedding[start:start + length]
        return tokens + (pos + self.type_embedding[types]).to(tokens.dtype)

    def forward(self,
                tokens: torch.Tensor,
                types: torch.Tensor,
                keep: torch.Tensor,
                mode: str = 'bidirectional',
                prefix_len: Optional[torch.Tensor] = None,
                caches: Optional[List[dict]] = None) -> torch.Tensor:
        """Fuse a sequence.

        Args:
            tokens (torch.Tensor): ``(B, L, C)`` concatenated segments.
            types (torch.Tensor): ``(L,)`` segment type of each position.
            keep (torch.Tensor): ``(B, L)`` valid tokens (keys).
            mode (str): ``'bidirectional'`` or ``'prefix_lm'``.
            prefix_len (torch.Tensor, optional): ``(B,)`` for prefix_lm.
            caches (list[dict], optional): One empty dict per block, filled
                with this sequence's keys and values for
                :meth:`forward_step` (decoding after a prefix).

        Returns:
            torch.Tensor: ``(B, L, C)`` after ``ln_final``.
        """
        x = self.embed(tokens, types)
        mask = padding_mask(keep)  # (B, 1, 1, L)
        if mode == 'prefix_lm':
            if prefix_len is None:
                raise ValueError('prefix_lm attention needs prefix_len')
            mask = mask & prefix_lm_mask(prefix_len, tokens.shape[1])
        elif mode != 'bidirectional':
            raise ValueError(f'mode must be "bidirectional" or "prefix_lm", '
                             f'got {mode!r}')
        return self.ln_final(self.transformer(x, mask, caches))

    def forward_step(self, tokens: torch.Tensor, type_id: int, position: int,
                     keep: torch.Tensor, caches: List[dict]) -> torch.Tensor:
        """One new token per sequence after a cached prefix (decoding).

        The new token sees every kept cached position and itself; cached
        positions never see it, as under the prefix-LM mask.

        Args:
            tokens (torch.Tensor): ``(N, 1, C)``.
            type_id (int): Its segment type.
            position (int): Its position (the cache length).
            keep (torch.Tensor): ``(N, position + 1)`` valid keys, the new
                token's included.
            caches (list[dict]): Filled by :meth:`forward` / earlier steps;
                extended in place.

        Returns:
            torch.Tensor: ``(N, 1, C)`` after ``ln_final``.
        """
        types = torch.full((1, ), type_id, device=tokens.device)
        x = self.embed(tokens, types, start=position)
        return self.ln_final(self.transformer(x, padding_mask(keep), caches))
