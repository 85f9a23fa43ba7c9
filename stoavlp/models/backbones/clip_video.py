"""CLIP ViT applied to every frame of a clip (the STOA-VLP video encoder).

Parameter names are OpenAI CLIP's ``visual.*`` names without the prefix,
so OpenAI/open_clip/transformers CLIP weights load through
:mod:`stoavlp.models.utils.clip_weights`.

Letters: B batch, T frames, H/W patch grid (H = W = G), C width,
D embedding dimension.
"""
import logging
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch.utils.checkpoint import checkpoint

from stoavlp.models.utils.clip_weights import (check_activation,
                                               load_state_dict_with_report,
                                               read_clip_checkpoint,
                                               resize_positional_embedding,
                                               split_visual_text)
from stoavlp.models.utils.transformer import LayerNorm, Transformer
from stoavlp.registry import MODELS


def _check_layers(name: str, layers: Sequence[int], depth: int) -> tuple:
    layers = tuple(int(i) for i in layers)
    bad = [i for i in layers if not 1 <= i <= depth]
    if bad:
        raise ValueError(f'{name} are 1-indexed blocks in [1, {depth}], '
                         f'got {bad}')
    return layers


@MODELS.register_module()
class CLIPVideoEncoder(BaseModule):
    """CLIP ViT run on each frame; frame and clip features plus tokens.

    With the defaults (``joint_attention_layers=()``) every frame goes
    through exactly OpenAI CLIP's image tower, so ``frame_features`` equal
    ``encode_image`` of each frame.

    Args:
        image_size (int): Frame side in pixels. Defaults to 224.
        patch_size (int): Defaults to 16.
        width (int): C. Defaults to 768.
        layers (int): Number of blocks. Defaults to 12.
        heads (int): Attention heads. Defaults to 12.
        mlp_ratio (float): MLP hidden width over C. Defaults to 4.0.
        embed_dim (int): D of the joint video-text space. Defaults to 512.
        act (str): ``'quick_gelu'`` (OpenAI weights) or ``'gelu'``.
            Defaults to ``'quick_gelu'``.
        feature_layers (Sequence[int]): 1-indexed blocks whose output
            tokens are returned in ``layer_tokens`` (paper: 10 for the
            object trajectories, 11 for the actions). Defaults to (10, 11).
        joint_attention_layers (Sequence[int]): 1-indexed blocks that
            attend over all ``T * (1 + HW)`` tokens of a clip instead of
            per frame (the official code does so in its last two blocks).
            Defaults to () (exact CLIP).
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
                 image_size: int = 224,
                 patch_size: int = 16,
                 width: int = 768,
                 layers: int = 12,
                 heads: int = 12,
                 mlp_ratio: float = 4.0,
                 embed_dim: int = 512,
                 act: str = 'quick_gelu',
                 feature_layers: Sequence[int] = (10, 11),
                 joint_attention_layers: Sequence[int] = (),
                 with_cp: bool = False,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if image_size % patch_size:
            raise ValueError(f'image_size {image_size} is not a multiple of '
                             f'patch_size {patch_size}')
        self.image_size = image_size
        self.patch_size = patch_size
        self.feature_layers = _check_layers('feature_layers', feature_layers,
                                            layers)
        self.joint_attention_layers = _check_layers(
            'joint_attention_layers', joint_attention_layers, layers)
        self.pretrained = pretrained
        self.act = act
        self._grid_size = image_size // patch_size
        self._embed_dim = embed_dim

        scale = width**-0.5  # OpenAI CLIP's initialisation scale
        self.conv1 = nn.Conv2d(3, width, patch_size, patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(
            scale * torch.randn(self._grid_size**2 + 1, width))
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, heads, mlp_ratio, act,
                                       with_cp)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, embed_dim))

    @property
    def width(self) -> int:
        """C, the token width."""
        return self.transformer.width

    @property
    def embed_dim(self) -> int:
        """D, the width of ``frame_features``."""
        return self._embed_dim

    @property
    def grid_size(self) -> int:
        """G, the side of the patch grid (14 for ViT-B/16 at 224 px)."""
        return self._grid_size

    def top_blocks(self, num_blocks: int) -> nn.ModuleList:
        """The last ``num_blocks`` blocks (to initialise other encoders).

        Args:
            num_blocks (int): How many, counted from the top.

        Returns:
            nn.ModuleList: The blocks themselves (not copies), in order.
        """
        depth = len(self.transformer.resblocks)
        if not 1 <= num_blocks <= depth:
            raise ValueError(f'num_blocks must be in [1, {depth}], '
                             f'got {num_blocks}')
        return self.transformer.resblocks[depth - num_blocks:]

    def init_weights(self) -> None:
        """Apply ``init_cfg``, then load ``pretrained`` CLIP weights."""
        first_call = not self.is_init
        super().init_weights()
        if self.pretrained is not None and first_call:
            self.load_clip_weights(self.pretrained)

    def load_clip_weights(self, path: str) -> None:
        """Load the vision tower of a CLIP checkpoint, reporting mismatches.

        The patch rows of ``positional_embedding`` are resized when the
        checkpoint's grid differs from :attr:`grid_size`.

        Args:
            path (str): See :func:`load_clip_state_dict`.
        """
        state_dict, source_act = read_clip_checkpoint(path)
        check_activation(self.act, source_act, path, type(self).__name__)
        visual, _, _ = split_visual_text(state_dict)
        pos = visual.get('positional_embedding')
        if pos is not None and pos.shape[0] != self.grid_size**2 + 1:
            old_grid = round((pos.shape[0] - 1)**0.5)
            print_log(
                f'{type(self).__name__}: resizing positional_embedding '
                f'from a {old_grid}x{old_grid} to a {self.grid_size}x'
                f'{self.grid_size} patch grid (bicubic)',
                logger='current', level=logging.INFO)
            visual['positional_embedding'] = resize_positional_embedding(
                pos, self.grid_size)
        load_state_dict_with_report(self, visual, path)

    def _embed(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B*T, 3, H_px, W_px)`` -> ``(B*T, 1 + G*G, C)`` block input."""
        x = self.conv1(frames)  # (B*T, C, G, G)
        x = x.flatten(2).transpose(1, 2)  # (B*T, G*G, C), row-major grid
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)  # (B*T, 1 + G*G, C)
        x = x + self.positional_embedding.to(x.dtype)
        return self.ln_pre(x)

    def _run_block(self, block: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.transformer.with_cp and self.training:
            return checkpoint(block, x, None, use_reentrant=False)
        return block(x)

    def forward(self, video: torch.Tensor) -> Dict[str, object]:
        """Encode a batch of clips.

        Args:
            video (torch.Tensor): ``(B, T, 3, image_size, image_size)``
                normalised frames.

        Returns:
            dict: Always the same keys:

            - ``frame_features`` (torch.Tensor): ``(B, T, D)``
              ``ln_post(CLS) @ proj`` per frame (v_1..v_T, unnormalised).
            - ``video_feature`` (torch.Tensor): ``(B, D)`` their mean over
              frames (v_CLS).
            - ``layer_tokens`` (dict[int, torch.Tensor]): for each of
              ``feature_layers``, the output of that (1-indexed) block,
              ``(B, T, 1 + G*G, C)``: CLS first, then the patches in
              row-major grid order (G is :attr:`grid_size`).
        """
        if video.dim() != 5 or video.shape[2] != 3:
            raise ValueError('video must be (B, T, 3, H, W), got '
                             f'{tuple(video.shape)}')
        if video.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f'frames must be {self.image_size}x'
                             f'{self.image_size}, got '
                             f'{tuple(video.shape[-2:])}')
        num_clips, num_frames = video.shape[:2]
        x = self._embed(video.flatten(0, 1))  # (B*T, N, C), N = 1 + G*G
        num_tokens, width = x.shape[1:]
        layer_tokens = {}
        for index, block in enumerate(self.transformer.resblocks, start=1):
            if index in self.joint_attention_layers:
                # One sequence per clip: every token sees all frames.
                x = x.reshape(num_clips, num_frames * num_tokens, width)
                x = self._run_block(block, x)  # (B, T*N, C)
                x = x.reshape(num_clips * num_frames, num_tokens, width)
            else:
                x = self._run_block(block, x)  # (B*T, N, C)
            if index in self.feature_layers:
                layer_tokens[index] = x.view(num_clips, num_frames,
                                             num_tokens, width)
        cls = self.ln_post(x[:, 0]) @ self.proj  # (B*T, D)
        frame_features = cls.view(num_clips, num_frames, -1)  # (B, T, D)
        return dict(
            frame_features=frame_features,
            video_feature=frame_features.mean(dim=1),  # (B, D)
            layer_tokens=layer_tokens)
