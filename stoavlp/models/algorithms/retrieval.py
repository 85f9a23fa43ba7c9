"""Text-video retrieval (and multiple choice) fine-tuning and evaluation.

Letters: B videos in a batch, n texts of a video, V / T all videos / texts
of the test set, L text length, D joint width, Lv video-side tokens.
"""
from functools import partial
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from stoavlp.registry import MODELS
from ..data_preprocessors import stack_field
from .base import VideoTextModel


@MODELS.register_module()
class STOAVLPRetriever(VideoTextModel):
    """VTC + VTM fine-tuning; ranking by similarity, optionally re-ranked
    by the VTM head; multiple choice by the VTM head.

    Evaluation of retrieval goes through ``RetrievalLoop``: features of the
    whole test set are cached with ``mode='tensor'`` and
    :meth:`predict_all` ranks them chunk by chunk (memory bounded). A
    query's top ``rerank_topk`` candidates are re-scored as the official
    code does: ``softmax(sim over the top-k) * P_match(VTM)``, and placed
    above the other candidates.

    Args:
        vtc_loss (dict): Defaults to ``dict(type='VTCLoss')``.
        vtm_head (dict, optional): ``VTMHead``; needed for VTM training,
            re-ranking and multiple choice.
        rerank_topk (int): Candidates re-ranked per query, 0 for none.
            Defaults to 32 (official).
        rerank_batch (int): Fused pairs per VTM batch. Defaults to 128.
        chunk_size (int): Queries scored at a time. Defaults to 1024.
        **kwargs: The encoders, see :class:`VideoTextModel`.
    """

    def __init__(self,
                 vtc_loss: Optional[dict] = None,
                 vtm_head: Optional[dict] = None,
                 rerank_topk: int = 32,
                 rerank_batch: int = 128,
                 chunk_size: int = 1024,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.vtc_loss = MODELS.build(vtc_loss or dict(type='VTCLoss'))
        self.vtm_head = MODELS.build(vtm_head) if vtm_head else None
        if self.vtm_head is not None and self.fusion_encoder is None:
            raise ValueError('vtm_head needs a fusion_encoder')
        self.rerank_topk = rerank_topk if self.vtm_head is not None else 0
        self.rerank_batch = rerank_batch
        self.chunk_size = chunk_size

    def loss(self, inputs: torch.Tensor,
             data_samples: List) -> Dict[str, torch.Tensor]:
        token_ids = stack_field(data_samples, 'token_ids')
        attention_mask = stack_field(data_samples, 'attention_mask')
        video = self.encode_video(inputs, data_samples)
        text = self.encode_text(token_ids, attention_mask)
        losses = dict(loss_vtc=self.vtc_loss(video['video_feature'],
                                             text['text_feature']))
        if self.vtm_head is not None:
            losses['loss_vtm'] = self.vtm_loss(
                video, text, self.video_sequence(video), attention_mask,
                self._generator())
        return losses

    # -- features for evaluation and inference ---------------------------
    def video_features(self, inputs: torch.Tensor,
                       data_samples: List) -> Dict[str, torch.Tensor]:
        """Ranking features of ``inputs (B, T, 3, H, W)``.

        Returns:
            dict: ``video_embed (B, D)`` normalised and, with a VTM head,
            ``video_tokens (B, Lv, D)``, ``video_keep (B, Lv)``,
            ``video_types (Lv,)`` (the fusion input's video side).
        """
        video = self.encode_video(inputs, data_samples)
        out = dict(video_embed=F.normalize(video['video_feature'], dim=-1))
        if self.vtm_head is not None:
            tokens, types, keep = self.video_sequence(video)
            out.update(video_tokens=tokens, video_keep=keep,
                       video_types=types)
        return out

    def text_features(self, token_ids: torch.Tensor,
                      attention_mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Ranking features of ``token_ids (N, L)``.

        Returns:
            dict: ``text_embed (N, D)`` normalised, ``text_keep (N, L)``,
            ``text_eot (N,)`` and, with a VTM head, ``text_tokens
            (N, L, D)``.
        """
        text = self.encode_text(token_ids, attention_mask)
        out = dict(text_embed=F.normalize(text['text_feature'], dim=-1),
                   text_keep=attention_mask.bool(),
                   text_eot=text['eot_index'])
        if self.vtm_head is not None:
            out['text_tokens'] = text['token_features']
        return out

    def _forward(self, inputs: torch.Tensor, data_samples: List) -> Dict:
        """Features of a batch of videos and all their texts:
        :meth:`video_features` and :meth:`text_features` plus
        ``text_owner (N,)`` (index of each text's video in the batch)."""
        ids, masks, owner = [], [], []
        for i, sample in enumerate(data_samples):
            token_ids = sample.token_ids.view(-1, sample.token_ids.shape[-1])
            ids.append(token_ids)
            masks.append(sample.attention_mask.view_as(token_ids))
            owner += [i] * len(token_ids)
        out = self.video_features(inputs, data_samples)
        out.update(self.text_features(torch.cat(ids), torch.cat(masks)))
        out['text_owner'] = torch.tensor(owner, device=inputs.device)
        return out

    @torch.no_grad()
    def match_probability(self, feats: Dict, video_index: torch.Tensor,
                          text_index: torch.Tensor) -> torch.Tensor:
        """VTM ``P(match)`` of pairs ``(video_index[p], text_index[p])``
        of cached ``feats`` (see :meth:`_forward`), in batches."""
        probs = []
        for start in range(0, len(video_index), self.rerank_batch):
            v = video_index[start:start + self.rerank_batch]
            t = text_index[start:start + self.rerank_batch]
            video_seq = (feats['video_tokens'][v], feats['video_types'],
                         feats['video_keep'][v])
            fused_video, fused_text = self.fuse(
                video_seq, feats['text_tokens'][t], feats['text_keep'][t])
            v_cls = int((feats['video_types'] == 0).sum()) - 1
            eot = feats['text_eot'][t]
            probs.append(self.vtm_head.match_probability(
                fused_video[:, v_cls], fused_text[torch.arange(len(t)), eot]))
        return torch.cat(probs)

    def rerank_scores(self, feats: Dict, query_idx: torch.Tensor,
                      gallery_idx: torch.Tensor, sims: torch.Tensor,
                      videos_are_queries: bool = False) -> torch.Tensor:
        """Re-score each query's top-k candidates the official way:
        ``softmax(scale * sim over the k) * P_match(VTM)``.

        Args:
            feats (dict): Cached :meth:`_forward` outputs.
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

    def rank(self, feats: Dict, videos_are_queries: bool,
             ground_truth, topk: int = 0) -> Dict[str, torch.Tensor]:
        """Rank one direction of cached features, as evaluation ranks:
        cosine similarity, the top ``rerank_topk`` re-scored by
        :meth:`rerank_scores` and placed above the rest.

        Args:
            feats (dict): :meth:`video_features` of the gallery videos and
                :meth:`text_features` of the texts, concatenated.
            videos_are_queries (bool): Video-to-text when True.
            ground_truth: Per query its gallery index or set of indices
                (see :func:`~stoavlp.evaluation.functional
                .chunked_retrieval`).
            topk (int): Candidates returned without re-ranking (with it,
                the ``rerank_topk`` re-ranked ones). Defaults to 0.

        Returns:
            dict: ``ranks (Q,)`` and, with candidates, ``topk_indices`` /
            ``topk_scores`` ``(Q, k)``, best first.
        """
        from stoavlp.evaluation.functional import chunked_retrieval
        query, gallery = ('video_embed', 'text_embed') if videos_are_queries \
            else ('text_embed', 'video_embed')
        rerank = partial(self.rerank_scores, feats,
                         videos_are_queries=videos_are_queries) \
            if self.rerank_topk else None
        # re-ranking fixes the candidates (and so the metrics); without it
        # topk only chooses how many are returned
        return chunked_retrieval(
            feats[query], feats[gallery], ground_truth,
            chunk_size=self.chunk_size, topk=self.rerank_topk or topk,
            rerank=rerank)

    def predict_all(self, feats: Dict,
                    keep_topk: int = 0) -> Dict[str, torch.Tensor]:
        """Rank the whole test set both ways (:meth:`rank`).

        Args:
            feats (dict): :meth:`_forward` outputs of all videos, with
                ``text_to_video (T,)`` replacing ``text_owner``.
            keep_topk (int): Best candidates to return per query without
                re-ranking (with it, the ``rerank_topk`` re-ranked ones).
                Defaults to 0.

        Returns:
            dict: ``t2v_ranks (T,)`` and ``v2t_ranks (V,)``, 1-based ranks
            of the ground truth (ties count against it); with candidates,
            ``t2v_topk_indices``/``t2v_topk_scores`` ``(T, k)`` (video
            indices) and ``v2t_topk_indices``/``v2t_topk_scores`` ``(V, k)``
            (text indices), best first, re-ranked scores when re-ranking.
        """
        text_to_video = feats['text_to_video']
        video_to_texts = [set() for _ in range(len(feats['video_embed']))]
        for t, v in enumerate(text_to_video.tolist()):
            video_to_texts[v].add(t)
        t2v = self.rank(feats, False, text_to_video, keep_topk)
        v2t = self.rank(feats, True, video_to_texts, keep_topk)
        out = dict(t2v_ranks=t2v['ranks'], v2t_ranks=v2t['ranks'])
        for name, result in (('t2v', t2v), ('v2t', v2t)):
            if self.rerank_topk or keep_topk:
                out[f'{name}_topk_indices'] = result['topk_indices']
                out[f'{name}_topk_scores'] = result['topk_scores']
        return out

    def predict(self, inputs: torch.Tensor, data_samples: List) -> List:
        """Multiple choice: every video's candidate texts scored like the
        re-ranked retrieval candidates, ``softmax(sim over the options) *
        P_match(VTM)`` (by similarity alone without a VTM head); sets
        ``pred_label``, ``mc_scores`` (n,), ``similarities`` (n,, cosine)
        and, with a VTM head, ``match_probs`` (n,, ``P_match``)."""
        feats = self._forward(inputs, data_samples)
        owner = feats['text_owner']
        sims = (feats['video_embed'][owner] * feats['text_embed']).sum(-1)
        if self.vtm_head is not None:
            match = self.match_probability(
                feats, owner, torch.arange(len(owner), device=owner.device))
        scale = float(self.vtc_loss.scale())
        for i, sample in enumerate(data_samples):
            option_scores = sims[owner == i]
            if self.vtm_head is not None:
                option_scores = (scale * option_scores).softmax(-1) * \
                    match[owner == i]
            sample.set_field(sims[owner == i], 'similarities')
            if self.vtm_head is not None:
                sample.set_field(match[owner == i], 'match_probs')
            sample.set_field(option_scores, 'mc_scores')
            sample.set_field(int(option_scores.argmax()), 'pred_label',
                             field_type='metainfo')
        return data_samples
