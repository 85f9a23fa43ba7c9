"""The causal CLIP text transformer (the STOA-VLP text encoder).

Parameter names are OpenAI CLIP's text names (``token_embedding``,
``positional_embedding``, ``transformer.resblocks.N``, ``ln_final``,
``text_projection``).

Letters: B batch, L tokens, C width, D embedding dimension, V vocabulary.
"""
import logging
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule

from stoavlp.models.utils.clip_weights import (check_activation,
                                               load_state_dict_with_report,
                                               read_clip_checkpoint,
                                               split_visual_text)
from stoavlp.models.utils.mask import causal_mask
from stoavlp.models.utils.transformer import LayerNorm, Transformer
from stoavlp.registry import MODELS


@MODELS.register_module()
class CLIPTextEncoder(BaseModule):
    """CLIP text tower returning every token's feature and the EOT feature.

    The sentence feature (the paper's t_[SEP], the official code's
    "t_CLS") is taken at the end-of-text token, defined here as the last
    attended position ``attention_mask.sum(-1) - 1``. For CLIP BPE input
    (ids padded with 0 after EOT = 49407) this is ``token_ids.argmax(-1)``,
    so ``text_feature`` equals open_clip's ``encode_text``.

    Only the causal mask is applied, as in CLIP: padding comes after EOT
    and, under the causal mask, never affects positions up to EOT.

    Args:
        vocab_size (int): V. Defaults to 49408.
        context_length (int): Most tokens per text (rows of
            ``positional_embedding``). Defaults to 77.
        width (int): C. Defaults to 512.
        layers (int): Number of blocks. Defaults to 12.
        heads (int): Attention heads. Defaults to 8.
        embed_dim (int): D. Defaults to 512.
        act (str): ``'quick_gelu'`` (OpenAI weights) or ``'gelu'``.
            Defaults to ``'quick_gelu'``.
        with_cp (bool): Activation checkpointing of every block in
            training. Defaults to False.
        pretrained (str, optional): CLIP weights loaded by
            :meth:`init_weights` (any format of
            :func:`~stoavlp.models.utils.clip_weights.load_clip_state_dict`).
            Defaults to None.
        init_cfg (dict | list[dict], optional): MMEngine initialisation
            config. Defaults to None.
    """

    def __init__(self,
                 vocab_size: int = 49408,
                 context_length: int = 77,
                 width: int = 512,
                 layers: int = 12,
                 heads: int = 8,
                 embed_dim: int = 512,
                 act: str = 'quick_gelu',
                 with_cp: bool = False,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.vocab_size = vocab_size
        self.context_length = context_length
        self.embed_dim = embed_dim
        self.pretrained = pretrained
        self.act = act
        self.token_embedding = nn.Embedding(vocab_size, width)
        # OpenAI CLIP's initialisation of the embeddings and projection.
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        self.positional_embedding = nn.Parameter(
            0.01 * torch.randn(context_length, width))
        self.transformer = Transformer(width, layers, heads, 4.0, act,
                                       with_cp)
        self.ln_final = LayerNorm(width)
        self.text_projection = nn.Parameter(width**-0.5 *
                                            torch.randn(width, embed_dim))
        # Built once here and sliced per call (not a checkpoint entry).
        self.register_buffer('attn_mask', causal_mask(context_length),
                             persistent=False)

    @property
    def width(self) -> int:
        """C, the token width."""
        return self.transformer.width

    def init_weights(self) -> None:
        """Apply ``init_cfg``, then load ``pretrained`` CLIP weights."""
        first_call = not self.is_init
        super().init_weights()
        if self.pretrained is not None and first_call:
            self.load_clip_weights(self.pretrained)

    def load_clip_weights(self, path: str) -> None:
        """Load the text tower of a CLIP checkpoint, reporting mismatches.

        A longer checkpoint ``positional_embedding`` (77 rows for OpenAI)
        is cut to ``context_length`` rows; positions beyond it are never
        used by a causal model that sees at most ``context_length`` tokens.

        Args:
            path (str): See :func:`load_clip_state_dict`.
        """
        state_dict, source_act = read_clip_checkpoint(path)
        check_activation(self.act, source_act, path, type(self).__name__)
        _, text, _ = split_visual_text(state_dict)
        pos = text.get('positional_embedding')
        if pos is not None and pos.shape[0] > self.context_length:
            print_log(
                f'{type(self).__name__}: using the first '
                f'{self.context_length} of {pos.shape[0]} positional '
                'embeddings', logger='current', level=logging.INFO)
            text['positional_embedding'] = pos[:self.context_length]
        load_state_dict_with_report(self, text, path)

    def forward(self, token_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Encode tokenised texts.

        Args:
            token_ids (torch.Tensor): ``(B, L)`` BPE ids, L <=
                ``context_length``, padded with 0 after EOT.
            attention_mask (torch.Tensor): ``(B, L)``, 1 for real tokens
                (start token to EOT), 0 for padding. Each row must have at
                least one 1.

        Returns:
            dict[str, torch.Tensor]:

            - ``token_features``: ``(B, L, D)`` ``ln_final(x) @
              text_projection`` at every position (t_1..t_L).
            - ``text_feature``: ``(B, D)`` the EOT position's feature
              (= open_clip ``encode_text``).
            - ``eot_index``: ``(B,)`` that position.
        """
        length = token_ids.shape[1]
        if length > self.context_length:
            raise ValueError(f'{length} tokens exceed context_length '
                             f'{self.context_length}')
        x = self.token_embedding(token_ids)  # (B, L, C)
        x = x + self.positional_embedding[:length].to(x.dtype)
        hidden = self.transformer(x, self.attn_mask[:length, :length])
        token_features = self.ln_final(hidden) @ self.text_projection
        eot_index = attention_mask.long().sum(dim=-1) - 1  # (B,)
        batch_index = torch.arange(token_ids.shape[0],
                                   device=token_ids.device)
        return dict(
            token_features=token_features,  # (B, L, D)
            text_feature=token_features[batch_index, eot_index],  # (B, D)
            eot_index=eot_index)

    def forward_step(self, token_ids: torch.Tensor, position: int,
                     caches: List[dict]) -> torch.Tensor:
        """Encode one new token per sequence, reusing earlier positions'
        keys and values (incremental decoding).

        Args:
            token_ids (torch.Tensor): ``(N, 1)`` the token at ``position``.
            position (int): Its position (the number of cached tokens).
            caches (list[dict]): One per block, ``{'k', 'v'}`` of the earlier
                positions (empty dicts before the first token); extended in
                place.

        Returns:
            torch.Tensor: ``(N, 1, D)``, equal to :meth:`forward`'s
            ``token_features`` at ``position`` (the encoder is causal, so a
            token never depends on later ones).
        """
        if position >= self.context_length:
            raise ValueError(f'position {position} exceeds context_length '
                             f'{self.context_length}')
        x = self.token_embedding(token_ids)  # (N, 1, C)
        x = x + self.positional_embedding[position].to(x.dtype)
        # No mask: the only keys are this and earlier positions.
        hidden = self.transformer(x, None, caches)
        return self.ln_final(hidden) @ self.text_projection
