"""The transformer block every stoavlp module uses.

Parameter names follow OpenAI CLIP / open_clip (``ln_1``, ``attn.in_proj_*``,
``attn.out_proj``, ``ln_2``, ``mlp.c_fc``, ``mlp.c_proj``), so CLIP
checkpoints load without renaming and the trajectory, action and fusion
encoders can be initialised by copying CLIP blocks.

Letters: B batch, L sequence length, C width, H heads.
"""
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class QuickGELU(nn.Module):
    """OpenAI CLIP's activation, ``x * sigmoid(1.702 x)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


ACTIVATIONS = {'quick_gelu': QuickGELU, 'gelu': nn.GELU}


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 (as CLIP does under fp16/bf16)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.float()).type_as(x)


class ResidualAttentionBlock(nn.Module):
    """Pre-LN block: ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``.

    Args:
        width (int): C.
        heads (int): H.
        mlp_ratio (float): Hidden width of the MLP over C. Defaults to 4.
        act (str): ``'quick_gelu'`` (OpenAI weights) or ``'gelu'``.
    """

    def __init__(self, width: int, heads: int, mlp_ratio: float = 4.0,
                 act: str = 'quick_gelu') -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f'width {width} not divisible by heads {heads}')
        self.heads = heads
        self.ln_1 = LayerNorm(width)
        # nn.MultiheadAttention only holds the weights (CLIP's names); the
        # computation below uses scaled_dot_product_attention with batched
        # masks and an optional key/value cache.
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_2 = LayerNorm(width)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(
            OrderedDict([('c_fc', nn.Linear(width, hidden)),
                         ('gelu', ACTIVATIONS[act]()),
                         ('c_proj', nn.Linear(hidden, width))]))

    def attention(self,
                  x: torch.Tensor,
                  attn_mask: Optional[torch.Tensor] = None,
                  cache: Optional[Dict[str, torch.Tensor]] = None
                  ) -> torch.Tensor:
        """Multi-head self-attention of ``x`` (B, L, C).

        Args:
            x (torch.Tensor): ``(B, L, C)`` normalised inputs (queries).
            attn_mask (torch.Tensor, optional): bool, True = may attend,
                broadcastable to ``(B, H, L, L_total)``.
            cache (dict, optional): ``{'k', 'v'}`` of earlier positions
                ``(B, H, L_past, C/H)``; extended in place with this call's
                keys and values (incremental decoding).
        """
        b, length, width = x.shape
        qkv = F.linear(x, self.attn.in_proj_weight, self.attn.in_proj_bias)
        q, k, v = qkv.view(b, length, 3, self.heads,
                           width // self.heads).permute(2, 0, 3, 1, 4)
        # q, k, v: (B, H, L, C/H)
        if cache is not None:
            if 'k' in cache:
                k = torch.cat([cache['k'], k], dim=2)
                v = torch.cat([cache['v'], v], dim=2)
            cache['k'], cache['v'] = k, v
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        out = out.transpose(1, 2).reshape(b, length, width)  # (B, L, C)
        return self.attn.out_proj(out)

    def forward(self,
                x: torch.Tensor,
                attn_mask: Optional[torch.Tensor] = None,
                cache: Optional[Dict[str, torch.Tensor]] = None
                ) -> torch.Tensor:
        x = x + self.attention(self.ln_1(x), attn_mask, cache)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    """A stack of :class:`ResidualAttentionBlock` (``resblocks``).

    Args:
        width (int): C.
        layers (int): Number of blocks.
        heads (int): H.
        mlp_ratio (float): Defaults to 4.
        act (str): Defaults to ``'quick_gelu'``.
        with_cp (bool): Activation checkpointing of every block in training
            (memory for compute). Defaults to False.
    """

    def __init__(self, width: int, layers: int, heads: int,
                 mlp_ratio: float = 4.0, act: str = 'quick_gelu',
                 with_cp: bool = False) -> None:
        super().__init__()
        self.width = width
        self.with_cp = with_cp
        self.resblocks = nn.ModuleList([
            ResidualAttentionBlock(width, heads, mlp_ratio, act)
            for _ in range(layers)
        ])

    def forward(self,
                x: torch.Tensor,
                attn_mask: Optional[torch.Tensor] = None,
                caches: Optional[Sequence[dict]] = None) -> torch.Tensor:
        """Run all blocks on ``x`` (B, L, C); see the block for masks."""
        for i, block in enumerate(self.resblocks):
            cache = caches[i] if caches is not None else None
            if self.with_cp and self.training and cache is None:
                x = checkpoint(block, x, attn_mask, use_reentrant=False)
            else:
                x = block(x, attn_mask, cache)
        return x


def copy_blocks(target: Transformer, source: Sequence[nn.Module]) -> None:
    """Initialise ``target``'s blocks from ``source`` blocks, in order.

    The trajectory/action encoders take the top two CLIP ViT blocks, the
    fusion encoder the first six CLIP text blocks.
    """
    if len(source) != len(target.resblocks):
        raise ValueError(f'{len(source)} source blocks for '
                         f'{len(target.resblocks)} target blocks')
    for dst, src in zip(target.resblocks, source):
        dst.load_state_dict(src.state_dict())
