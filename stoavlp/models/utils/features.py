"""What an algorithm hands its heads: the encoded batch.

Letters: B batch, T frames, Lv video-side tokens, L text length, D joint
width.
"""
from dataclasses import dataclass
from typing import Dict, NamedTuple, Optional

import torch
from torch import Tensor


class VideoSequence(NamedTuple):
    """The fusion input's video side ``[v_1..v_T, v_CLS, o_1..o_N, x_1..x_M]``.

    Attributes:
        tokens (Tensor): ``(B, Lv, D)``.
        types (Tensor): ``(Lv,)`` token types (video / trajectory / action).
        mask (Tensor): ``(B, Lv)`` bool, valid tokens (absent trajectories
            are masked).
        cls_index (int): Position of ``v_CLS`` (= T), whose fused output
            the VTM head reads.
    """
    tokens: Tensor
    types: Tensor
    mask: Tensor
    cls_index: int

    def select(self, index: Tensor) -> 'VideoSequence':
        """Rows ``index`` of the batch (repeats allowed)."""
        return self._replace(tokens=self.tokens[index],
                             mask=self.mask[index])

    def cat(self, *others: 'VideoSequence') -> 'VideoSequence':
        """This batch followed by ``others`` (same layout)."""
        return self._replace(
            tokens=torch.cat([self.tokens] + [o.tokens for o in others]),
            mask=torch.cat([self.mask] + [o.mask for o in others]))


@dataclass
class VideoTextFeatures:
    """One batch, encoded once, read by every objective head.

    Attributes:
        encoders: The algorithm (a ``VideoTextModel``): heads call its
            ``encode_text``, ``fuse``, ``token_logits``.
        video (dict): ``STOAVideoEncoder`` outputs (``video_feature (B, D)``,
            ``frame_features (B, T, D)``, trajectory/action tokens).
        text (dict): ``CLIPTextEncoder`` outputs (``token_features
            (B, L, D)``, ``text_feature (B, D)``, ``eot_index (B,)``).
        token_ids (Tensor): ``(B, L)``.
        attention_mask (Tensor): ``(B, L)`` valid text tokens.
        video_seq (VideoSequence): The fusion input's video side; None
            without a fusion encoder.
        generator (torch.Generator): Seeded by the iteration: every rank
            (and a resumed run) draws the same numbers for the global batch
            (MLM masks, PLM split points, VTM negatives).
        logit_scale (Tensor): VTC's learned scale of the similarity, None
            without VTC.
    """
    encoders: 'torch.nn.Module'
    video: Dict[str, Tensor]
    text: Dict[str, Tensor]
    token_ids: Tensor
    attention_mask: Tensor
    video_seq: Optional[VideoSequence] = None
    generator: Optional[torch.Generator] = None
    logit_scale: Optional[Tensor] = None

    @property
    def eot_index(self) -> Tensor:
        """``(B,)`` position of each text's [EOT] (t_CLS)."""
        return self.text['eot_index']
