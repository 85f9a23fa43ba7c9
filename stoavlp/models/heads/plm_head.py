"""Prefix language modelling (PLM) and captioning through the fusion
encoder, in one fusion pass.

Letters: B batch, L text length, P predicted tokens, V vocabulary.
"""
from typing import List, Optional

import torch
import torch.nn as nn

from stoavlp.registry import MODELS
from ..utils.distributed import local_uniform
from ..utils.features import VideoSequence, VideoTextFeatures


@MODELS.register_module()
class PLMHead(nn.Module):
    """Predict a random-length suffix of the caption from the video and the
    caption's prefix (SimVLM's prefix LM, as the paper follows).

    Per caption a split point ``s`` is drawn uniformly from ``1..e`` where
    ``e`` is the EOT position: text positions ``< s`` join the
    (bidirectional) prefix with the video side, later positions are causal,
    and positions ``s - 1 .. e - 1`` predict tokens ``s .. e``. The official
    code runs one fusion pass per position (31 passes); with a prefix-LM
    attention mask one pass gives the same logits. The read-out decides the
    attention (:mod:`~stoavlp.models.heads.lm_readout`); the algorithm's
    tied ``lm_head`` reads the logits.

    Args:
        readout (dict): Defaults to ``dict(type='PrefixLMReadout')``
            (stoavlp's); ``'BlankSlotReadout'`` is the official one.
        loss (dict): Defaults to ``dict(type='PLMLoss')``.
    """

    def __init__(self, readout: Optional[dict] = None,
                 loss: Optional[dict] = None) -> None:
        super().__init__()
        self.readout = MODELS.build(readout or dict(type='PrefixLMReadout'))
        self.loss_module = MODELS.build(loss or dict(type='PLMLoss'))

    def sample_split(self, features: VideoTextFeatures) -> torch.Tensor:
        """``(B,)`` split points ``s`` uniform in ``[1, eot_index]``."""
        eot = features.eot_index
        draw = local_uniform(features.generator, len(eot)).to(eot.device)
        # floor(draw * e) is in [0, e - 1]; minimum() guards float rounding
        return 1 + (draw * eot.float()).long().minimum(eot - 1)

    @staticmethod
    def target_mask(split: torch.Tensor, eot_index: torch.Tensor,
                    length: int) -> torch.Tensor:
        """``(B, L)`` bool: text positions whose *next* token is a target
        (``s - 1 <= p <= e - 1``)."""
        pos = torch.arange(length, device=split.device)[None]
        return (pos >= split[:, None] - 1) & (pos <= eot_index[:, None] - 1)

    def loss(self, features: VideoTextFeatures,
             data_samples: List) -> torch.Tensor:
        """Prefix-LM loss of one batch: position p in the target mask
        predicts token ``p + 1``."""
        token_ids, encoders = features.token_ids, features.encoders
        split = self.sample_split(features)
        fused_text = self.readout.fuse(
            encoders, features.video_seq, features.text['token_features'],
            features.attention_mask, split)  # (B, L, D)
        predicting = self.target_mask(split, features.eot_index,
                                      token_ids.shape[1])
        targets = torch.roll(token_ids, shifts=-1, dims=1)[predicting]
        logits = encoders.token_logits(fused_text[predicting])  # (P, V)
        return self.loss_module(logits, targets)


@MODELS.register_module()
class CaptionHead(PLMHead):
    """Captioning: PLM with the split at 1 (the prefix is the video side
    and the start token; the whole caption is predicted causally), and the
    read-out's cached decoding steps for generation."""

    def sample_split(self, features: VideoTextFeatures) -> torch.Tensor:
        return torch.ones_like(features.eot_index)

    def caption_steps(self, encoders, video_seq: VideoSequence):
        """The decoding step protocol (``stoavlp.models.utils.generation``)
        of this read-out, with key/value caches."""
        return self.readout.caption_steps(encoders, video_seq)
