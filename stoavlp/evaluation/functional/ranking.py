"""Ranking :class:`~stoavlp.structures.RetrievalFeatures` as evaluation
does: :func:`~.retrieval.chunked_retrieval` on the embeddings, the top
candidates re-scored by a scorer the caller passes (the model's
``rerank_scores``), so models need no evaluation code.

Letters: V videos, S texts, Q queries, k candidates.
"""
from functools import partial
from typing import Callable, Dict, Optional

from torch import Tensor

from .retrieval import GroundTruth, chunked_retrieval


#: ``scorer(feats, query_idx (c,), gallery_idx (c, k), sims (c, k),
#: videos_are_queries) -> (c, k)``, e.g. ``STOAVLPRetriever.rerank_scores``.
Scorer = Callable[..., Tensor]


def rank_direction(feats, videos_are_queries: bool,
                   ground_truth: Optional[GroundTruth] = None,
                   scorer: Optional[Scorer] = None, rerank_topk: int = 0,
                   topk: int = 0, chunk_size: int = 1024) -> Dict[str, Tensor]:
    """Rank one direction of :class:`~stoavlp.structures.RetrievalFeatures`
    as evaluation does: cosine similarity, the top ``rerank_topk``
    re-scored by ``scorer`` and placed above the rest.

    Args:
        feats (RetrievalFeatures): The videos and texts.
        videos_are_queries (bool): Video-to-text when True.
        ground_truth (optional): Per query its gallery index or set of
            indices (:func:`gt_ranks`); None: from ``feats.text_to_video``.
        scorer (Callable, optional): The re-ranking scores (see
            :data:`Scorer`); None ranks by similarity alone.
        rerank_topk (int): Candidates re-scored per query (with a scorer).
        topk (int): Candidates returned without re-ranking (with it, the
            ``rerank_topk`` re-ranked ones). Defaults to 0.
        chunk_size (int): Queries scored at a time. Defaults to 1024.

    Returns:
        dict: ``ranks (Q,)`` and, with candidates, ``topk_indices`` /
        ``topk_scores`` ``(Q, k)``, best first.
    """
    if ground_truth is None:
        ground_truth = video_texts(feats) if videos_are_queries \
            else feats.text_to_video
    query, gallery = (feats.video_embed, feats.text_embed) \
        if videos_are_queries else (feats.text_embed, feats.video_embed)
    rerank = None
    if scorer is not None and rerank_topk:
        rerank = partial(_score_candidates, scorer, feats,
                         videos_are_queries)
    # re-ranking fixes the candidates (and so the metrics); without it
    # topk only chooses how many are returned
    return chunked_retrieval(query, gallery, ground_truth,
                             chunk_size=chunk_size,
                             topk=rerank_topk if rerank else topk,
                             rerank=rerank)


def _score_candidates(scorer: Scorer, feats, videos_are_queries: bool,
                      query_idx: Tensor, gallery_idx: Tensor,
                      sims: Tensor) -> Tensor:
    return scorer(feats, query_idx, gallery_idx, sims,
                  videos_are_queries=videos_are_queries)


def video_texts(feats) -> list:
    """Per video the set of its texts' indices (video-to-text truth)."""
    owned = [set() for _ in range(feats.num_videos)]
    for t, v in enumerate(feats.text_to_video.tolist()):
        owned[v].add(t)
    return owned


def retrieval_ranks(feats, scorer: Optional[Scorer] = None,
                    rerank_topk: int = 0, keep_topk: int = 0,
                    chunk_size: int = 1024) -> Dict[str, Tensor]:
    """Rank a test set both ways (:func:`rank_direction`).

    Returns:
        dict: ``t2v_ranks (S,)`` and ``v2t_ranks (V,)``, 1-based ranks of
        the ground truth (ties count against it); with candidates
        (``keep_topk`` or re-ranking), ``t2v_topk_indices`` /
        ``t2v_topk_scores`` ``(S, k)`` (video indices) and
        ``v2t_topk_indices`` / ``v2t_topk_scores`` ``(V, k)`` (text
        indices), best first, re-ranked scores when re-ranking.
    """
    out = {}
    for name, videos_are_queries in (('t2v', False), ('v2t', True)):
        result = rank_direction(feats, videos_are_queries, scorer=scorer,
                                rerank_topk=rerank_topk, topk=keep_topk,
                                chunk_size=chunk_size)
        out[f'{name}_ranks'] = result['ranks']
        if 'topk_indices' in result and (keep_topk or
                                         (scorer and rerank_topk)):
            out[f'{name}_topk_indices'] = result['topk_indices']
            out[f'{name}_topk_scores'] = result['topk_scores']
    return out
