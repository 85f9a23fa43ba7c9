"""Text-video retrieval and multiple choice: fine-tuning and the features
evaluation ranks.

Letters: B videos in a batch, n texts of a video, V / S all videos / texts
of a gallery, L text length, D joint width, Lv video-side tokens,
Q queries, k candidates of a query.
"""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from stoavlp.registry import MODELS
from stoavlp.structures.retrieval_features import RetrievalFeatures
from ..utils.features import VideoSequence
from .base import VideoTextModel


@MODELS.register_module()
class STOAVLPRetriever(VideoTextModel):
    """VTC + VTM fine-tuning; ranking features and VTM re-ranking scores.

    Evaluation: ``RetrievalLoop`` gathers :meth:`_forward`'s
    :class:`RetrievalFeatures` of the test set and ranks them with
    :func:`stoavlp.evaluation.functional.retrieval_ranks` by cosine
    similarity; a query's top ``rerank_topk`` candidates are re-scored by
    :meth:`rerank_scores` as the official code does, ``softmax(sim over the
    top-k) * P_match(VTM)``, and placed above the other candidates.

    Args:
        vtc_loss (dict): ``VTCLoss``.
        vtm_head (dict, optional): ``VTMHead``; needed for VTM training and
            re-ranking.
        rerank_topk (int): Candidates re-ranked per query by the VTM head,
            0 for none (similarity only). Must be 0 without a ``vtm_head``.
        rerank_batch (int): Fused pairs per VTM batch. Defaults to 128.
        **kwargs: The encoders, see :class:`VideoTextModel`.
    """

    def __init__(self,
                 vtc_loss: dict,
                 vtm_head: Optional[dict] = None,
                 rerank_topk: int = 0,
                 rerank_batch: int = 128,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.vtc_loss = MODELS.build(vtc_loss)
        self.vtm_head = MODELS.build(vtm_head) if vtm_head else None
        if self.vtm_head is not None:
            self._require('fusion_encoder')
        if rerank_topk and self.vtm_head is None:
            raise ValueError(f'rerank_topk={rerank_topk} re-ranks with the '
                             'VTM head, but the model has no vtm_head: set '
                             'rerank_topk=0 or add a vtm_head')
        self.rerank_topk = rerank_topk
        self.rerank_batch = rerank_batch

    def loss(self, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        """``loss_vtc`` and, with the VTM head, ``loss_vtm`` of a batch of
        (video, caption) pairs."""
        features = self.extract_features(inputs, data_samples,
                                         logit_scale=self.vtc_loss.scale())
        losses = dict(loss_vtc=self.vtc_loss(
            features.video['video_feature'], features.text['text_feature']))
        if self.vtm_head is not None:
            losses['loss_vtm'] = self.vtm_head.loss(features, data_samples)
        return losses

    # -- features for evaluation and inference ---------------------------
    def video_features(self, inputs: torch.Tensor,
                       data_samples: List) -> RetrievalFeatures:
        """The video half of the ranking features of ``inputs (B, T, 3, H,
        W)``: ``video_embed`` and, with a VTM head, the fusion input's video
        side."""
        video = self.encode_video(inputs, data_samples)
        out = RetrievalFeatures(
            video_embed=F.normalize(video['video_feature'], dim=-1))
        if self.vtm_head is not None:
            seq = self.video_sequence(video)
            out.video_tokens, out.video_mask = seq.tokens, seq.mask
            out.video_types, out.cls_index = seq.types, seq.cls_index
        return out

    def text_features(self, token_ids: torch.Tensor,
                      attention_mask: torch.Tensor) -> RetrievalFeatures:
        """The text half of the ranking features of ``token_ids (S, L)``:
        ``text_embed``, ``attention_mask``, ``eot_index`` and, with a VTM
        head, ``text_tokens``."""
        text = self.encode_text(token_ids, attention_mask)
        return RetrievalFeatures(
            text_embed=F.normalize(text['text_feature'], dim=-1),
            attention_mask=attention_mask.bool(),
            eot_index=text['eot_index'],
            text_tokens=text['token_features']
            if self.vtm_head is not None else None)

    def _forward(self, inputs: torch.Tensor,
                 data_samples: List) -> RetrievalFeatures:
        """Features of a batch of videos and all their texts;
        ``text_to_video`` indexes the batch, ``sample_idx`` says each
        video's dataset index (``RetrievalFeatures.merge`` orders by it)."""
        ids, masks, owner = [], [], []
        for i, sample in enumerate(data_samples):
            token_ids = sample.token_ids.view(-1, sample.token_ids.shape[-1])
            ids.append(token_ids)
            masks.append(sample.attention_mask.view_as(token_ids))
            owner += [i] * len(token_ids)
        out = self.video_features(inputs, data_samples).with_texts(
            self.text_features(torch.cat(ids), torch.cat(masks)))
        out.text_to_video = torch.tensor(owner, device=inputs.device)
        if all('sample_idx' in s.metainfo for s in data_samples):
            out.sample_idx = torch.tensor(
                [s.metainfo['sample_idx'] for s in data_samples])
        return out

    @torch.no_grad()
    def match_probability(self, feats: RetrievalFeatures,
                          video_index: torch.Tensor,
                          text_index: torch.Tensor) -> torch.Tensor:
        """VTM ``P(match)`` of pairs ``(video_index[p], text_index[p])`` of
        ``feats``, ``rerank_batch`` pairs at a time."""
        probs = []
        for start in range(0, len(video_index), self.rerank_batch):
            v = video_index[start:start + self.rerank_batch]
            t = text_index[start:start + self.rerank_batch]
            probs.append(self.vtm_head.match_probability(
                self, VideoSequence(feats.video_tokens[v], feats.video_types,
                                    feats.video_mask[v], feats.cls_index),
                feats.text_tokens[t], feats.attention_mask[t],
                feats.eot_index[t]))
        return torch.cat(probs)

    def rerank_scores(self, feats: RetrievalFeatures,
                      query_idx: torch.Tensor, gallery_idx: torch.Tensor,
                      sims: torch.Tensor,
                      videos_are_queries: bool = False) -> torch.Tensor:
        """Re-score each query's top-k candidates the official way:
        ``softmax(scale * sim over the k) * P_match(VTM)``.

        Args:
            feats (RetrievalFeatures): Videos and texts being ranked.
            query_idx (torch.Tensor): ``(Q,)`` query indices (texts, or
                videos when ``videos_are_queries``).
            gallery_idx (torch.Tensor): ``(Q, k)`` candidate indices.
            sims (torch.Tensor): ``(Q, k)`` their cosine similarities.

        Returns:
            torch.Tensor: ``(Q, k)`` scores.
        """
        k = gallery_idx.shape[1]
        queries = query_idx[:, None].expand(-1, k).reshape(-1)
        gallery = gallery_idx.reshape(-1)
        video, text = (queries, gallery) if videos_are_queries \
            else (gallery, queries)
        match = self.match_probability(feats, video, text)
        scale = float(self.vtc_loss.scale())
        return (scale * sims).softmax(-1) * match.view(-1, k)

    @torch.no_grad()
    def score_options(self, inputs: torch.Tensor, data_samples: List) -> List:
        """Score every video's candidate texts like re-ranked retrieval
        candidates, ``softmax(scale * sim over the options) * P_match``
        (similarity alone without a VTM head). Sets ``mc_scores (n,)``,
        ``similarities (n,)`` (cosine), with a VTM head ``match_probs
        (n,)``, and ``pred_label`` (the best option)."""
        feats = self._forward(inputs, data_samples)
        owner = feats.text_to_video
        sims = (feats.video_embed[owner] * feats.text_embed).sum(-1)
        if self.vtm_head is not None:
            match = self.match_probability(
                feats, owner, torch.arange(len(owner), device=owner.device))
        scale = float(self.vtc_loss.scale())
        for i, sample in enumerate(data_samples):
            option_scores = sims[owner == i]
            sample.set_field(option_scores, 'similarities')
            if self.vtm_head is not None:
                sample.set_field(match[owner == i], 'match_probs')
                option_scores = (scale * option_scores).softmax(-1) * \
                    match[owner == i]
            sample.set_field(option_scores, 'mc_scores')
            sample.set_field(int(option_scores.argmax()), 'pred_label',
                             field_type='metainfo')
        return data_samples

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        """Sets ``video_embed (D,)`` and, for samples with texts,
        ``text_embed (n, D)`` (normalised) on every sample."""
        feats = self._forward(inputs, data_samples)
        for i, sample in enumerate(data_samples):
            sample.set_field(feats.video_embed[i], 'video_embed')
            sample.set_field(feats.text_embed[feats.text_to_video == i],
                             'text_embed')
        return data_samples


@MODELS.register_module()
class STOAVLPMultipleChoice(STOAVLPRetriever):
    """Multiple choice (MSR-VTT MC): the retrieval model whose prediction
    is :meth:`~STOAVLPRetriever.score_options` (same weights, so a
    retrieval checkpoint evaluates MC as it is)."""

    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        return self.score_options(inputs, data_samples)
