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
              start: int = 0,
              positions: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Add position and type embeddings to ``(B, L, C)`` tokens with
        ``types (L,)``; positions ``start..start + L - 1``, or the given
        ``positions (L,)``."""
        length = tokens.shape[1]
        if positions is None:
            positions = torch.arange(start, start + length,
                                     device=tokens.device)
        last = int(positions.max()) + 1 if len(positions) else 0
        if last > len(self.positional_embedding):
            raise ValueError(f'fused sequence of {last} tokens; '
                             f'max_positions is '
                             f'{len(self.positional_embedding)}')
        pos = self.positional_embedding[positions]
        return tokens + (pos + self.type_embedding[types]).to(tokens.dtype)

    def forward(self,
                tokens: torch.Tensor,
                types: torch.Tensor,
                keep: torch.Tensor,
                mode: str = 'bidirectional',
                prefix_len: Optional[torch.Tensor] = None,
                caches: Optional[List[dict]] = None,
                attn_mask: Optional[torch.Tensor] = None,
                positions: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Fuse a sequence.

        Args:
            tokens (torch.Tensor): ``(B, L, C)`` concatenated segments.
            types (torch.Tensor): ``(L,)`` segment type of each position.
            keep (torch.Tensor): ``(B, L)`` valid tokens (keys).
            mode (str): ``'bidirectional'``, ``'prefix_lm'`` or
                ``'masked'`` (the given ``attn_mask``; read-outs with their
                own attention pattern, see ``lm_readout.py``).
            prefix_len (torch.Tensor, optional): ``(B,)`` for prefix_lm.
            attn_mask (torch.Tensor, optional): bool ``(B or 1, 1, L, L)``
                for ``'masked'``, True = may attend.
            positions (torch.Tensor, optional): ``(L,)`` position of each
                token (default ``0..L-1``).
            caches (list[dict], optional): One empty dict per block, filled
                with this sequence's keys and values for
                :meth:`forward_step` (decoding after a prefix).

        Returns:
            torch.Tensor: ``(B, L, C)`` after ``ln_final``.
        """
        x = self.embed(tokens, types, positions=positions)
        mask = padding_mask(keep)  # (B, 1, 1, L)
        if mode == 'prefix_lm':
            if prefix_len is None:
                raise ValueError('prefix_lm attention needs prefix_len')
            mask = mask & prefix_lm_mask(prefix_len, tokens.shape[1])
        elif mode == 'masked':
            if attn_mask is None:
                raise ValueError('masked attention needs attn_mask')
            mask = mask & attn_mask
        elif mode != 'bidirectional':
            raise ValueError(f'mode must be "bidirectional", "prefix_lm" or '
                             f'"masked", got {mode!r}')
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
        positions = torch.tensor([position], device=tokens.device)
        return self.forward_cached(tokens, types, positions,
                                   padding_mask(keep), caches)

    def forward_cached(self, tokens: torch.Tensor, types: torch.Tensor,
                       positions: torch.Tensor, attn_mask: torch.Tensor,
                       caches: List[dict]) -> torch.Tensor:
        """S new tokens after cached keys/values, under ``attn_mask``
        ``(N, 1, S, cached + S)``; the caches are extended by all S.

        Args:
            tokens (torch.Tensor): ``(N, S, C)``.
            types (torch.Tensor): ``(S,)``.
            positions (torch.Tensor): ``(S,)``.
            attn_mask (torch.Tensor): bool, True = may attend.
            caches (list[dict]): One per block, extended in place.

        Returns:
            torch.Tensor: ``(N, S, C)`` after ``ln_final``.
        """
        x = self.embed(tokens, types, positions=positions)
        return self.ln_final(self.transformer(x, attn_mask, caches))
