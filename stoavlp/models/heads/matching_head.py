"""Video-text matching (VTM) head.

Letters: B local batch, B_all global batch, P fused pairs, L text length,
C fusion width.
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from stoavlp.registry import MODELS
from ..utils.distributed import gather_no_grad, local_rows
from ..utils.features import VideoSequence, VideoTextFeatures


@MODELS.register_module()
class VTMHead(BaseModule):
    """Matched / unmatched logits from the fused video [CLS] and text EOT.

    As the official release: two bilinear forms on the L2-normalised fused
    outputs, ``logit_k = v̂ᵀ W_k t̂`` for k in (unmatched, matched). The head
    owns the VTM objective: B positive pairs, and for each video a hard
    negative text and for each text a hard negative video, drawn by
    ``loss`` (``VTMLoss.sample_hard_negatives``) from the similarity of the
    global batch. Negatives are gathered without gradient, as the official
    code does.

    Args:
        width (int): C. Defaults to 512.
        dropout (float): Defaults to 0.1.
        loss (dict): Defaults to ``dict(type='VTMLoss')``.
        temperature (float, optional): Of the similarity negatives are drawn
            by. None (default) uses the model's learned VTC scale (the
            algorithm must then have a ``vtc_loss``).
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 width: int = 512,
                 dropout: float = 0.1,
                 loss: Optional[dict] = None,
                 temperature: Optional[float] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        # unmatched = -I, matched = +I: starts as a cosine-similarity test
        self.bilinear = nn.Parameter(
            torch.stack([-torch.eye(width), torch.eye(width)]))
        self.dropout = nn.Dropout(dropout)
        self.loss_module = MODELS.build(loss or dict(type='VTMLoss'))
        self.temperature = temperature

    def forward(self, video_out: torch.Tensor,
                text_out: torch.Tensor) -> torch.Tensor:
        """``(P, C)`` fused video [CLS] and text EOT -> ``(P, 2)``."""
        v = self.dropout(F.normalize(video_out.float(), dim=-1))
        t = self.dropout(F.normalize(text_out.float(), dim=-1))
        return torch.einsum('pc,kcd,pd->pk', v, self.bilinear.float(), t)

    def pair_logits(self, encoders, video_seq: VideoSequence,
                    text_tokens: torch.Tensor, attention_mask: torch.Tensor,
                    eot_index: torch.Tensor) -> torch.Tensor:
        """Fuse P (video, text) pairs and score them: ``(P, 2)``.

        Args:
            encoders (VideoTextModel): Supplies ``fuse``.
            video_seq (VideoSequence): P video sides.
            text_tokens (torch.Tensor): ``(P, L, C)`` text encoder outputs.
            attention_mask (torch.Tensor): ``(P, L)``.
            eot_index (torch.Tensor): ``(P,)`` where each text's [EOT] is.
        """
        fused_video, fused_text = encoders.fuse(video_seq, text_tokens,
                                                attention_mask)
        rows = torch.arange(len(eot_index), device=eot_index.device)
        return self(fused_video[:, video_seq.cls_index],
                    fused_text[rows, eot_index])

    @torch.no_grad()
    def match_probability(self, encoders, video_seq: VideoSequence,
                          text_tokens: torch.Tensor,
                          attention_mask: torch.Tensor,
                          eot_index: torch.Tensor) -> torch.Tensor:
        """``(P,)`` probability that each pair matches (see
        :meth:`pair_logits`)."""
        return self.pair_logits(encoders, video_seq, text_tokens,
                                attention_mask, eot_index).softmax(-1)[:, 1]

    def loss(self, features: VideoTextFeatures,
             data_samples: List) -> torch.Tensor:
        """VTM loss on B positives, B hard-negative videos and B
        hard-negative texts (negatives from ``features.generator``)."""
        video_seq, text = features.video_seq, features.text
        attention_mask = features.attention_mask
        b = video_seq.tokens.shape[0]
        with torch.no_grad():
            all_video = gather_no_grad(F.normalize(
                features.video['video_feature'], dim=-1))
            all_text = gather_no_grad(F.normalize(text['text_feature'],
                                                  dim=-1))
            scale = 1 / self.temperature if self.temperature \
                else features.logit_scale
            neg_video, neg_text = self.loss_module.sample_hard_negatives(
                scale * all_text @ all_video.t(), features.generator)
            start, stop = local_rows(b)
            neg_video, neg_text = neg_video[start:stop], neg_text[start:stop]
            all_sides = VideoSequence(gather_no_grad(video_seq.tokens),
                                      video_seq.types,
                                      gather_no_grad(video_seq.mask),
                                      video_seq.cls_index)
            all_text_tokens = gather_no_grad(text['token_features'])
            all_mask = gather_no_grad(attention_mask)
            all_eot = gather_no_grad(text['eot_index'])
        logits = self.pair_logits(
            features.encoders,
            video_seq.cat(all_sides.select(neg_video), video_seq),
            torch.cat([text['token_features'], text['token_features'],
                       all_text_tokens[neg_text]]),
            torch.cat([attention_mask, attention_mask, all_mask[neg_text]]),
            torch.cat([text['eot_index'], text['eot_index'],
                       all_eot[neg_text]]))
        labels = torch.cat([torch.ones(b), torch.zeros(2 * b)]).long().to(
            logits.device)
        return self.loss_module(logits, labels)


@MODELS.register_module()
class VTMLinearHead(VTMHead):
    """Matched / unmatched logits from a linear layer on the fused pair,
    ``logits = Linear([v; t; v ⊙ t])`` (BLIP's ITM head, with the video
    side and the element-wise product added), on the fused outputs as they
    are, not L2-normalised.

    Why it exists: :class:`VTMHead`'s logits on unit vectors move only as
    fast as every entry of ``W`` does (about ``lr`` per Adam step), so a
    short run never leaves the class prior (the demo before this head:
    ``loss_vtm`` 0.62 against the prior 0.64 after 500 steps; see
    ``tests/test_models/test_heads/test_matching_head.py``). On the
    layer-normalised fused features (entries ~1) each step moves a logit by
    about ``lr * 3C``.

    Args:
        width (int): C. Defaults to 512.
        dropout (float): Defaults to 0.1.
        loss (dict): Defaults to ``dict(type='VTMLoss')``.
        temperature (float, optional): See :class:`VTMHead`.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 width: int = 512,
                 dropout: float = 0.1,
                 loss: Optional[dict] = None,
                 temperature: Optional[float] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(width, dropout, loss, temperature, init_cfg)
        del self.bilinear
        self.fc = nn.Linear(3 * width, 2)

    def forward(self, video_out: torch.Tensor,
                text_out: torch.Tensor) -> torch.Tensor:
        """``(P, C)`` fused video [CLS] and text EOT -> ``(P, 2)``."""
        v, t = video_out.float(), text_out.float()
        return self.fc(self.dropout(torch.cat([v, t, v * t], -1)))
