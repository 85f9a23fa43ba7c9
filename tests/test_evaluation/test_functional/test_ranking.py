"""rank_direction / retrieval_ranks on RetrievalFeatures, against brute
force over the full similarity matrix."""
import torch
import torch.nn.functional as F

from stoavlp.evaluation.functional import (gt_ranks, rank_direction,
                                           retrieval_ranks, video_texts)
from stoavlp.structures import RetrievalFeatures


def features(seed=0, videos=5, texts_per_video=(2, 1, 3, 1, 2)):
    g = torch.Generator().manual_seed(seed)
    video = F.normalize(torch.randn(videos, 8, generator=g), dim=-1)
    owner = torch.tensor([v for v, n in enumerate(texts_per_video)
                          for _ in range(n)])
    text = F.normalize(video[owner] + torch.randn(len(owner), 8,
                                                  generator=g), dim=-1)
    return RetrievalFeatures(video_embed=video, text_embed=text,
                             text_to_video=owner)


def test_similarity_ranks_equal_brute_force_both_ways():
    feats = features()
    sims = feats.text_embed @ feats.video_embed.t()
    out = retrieval_ranks(feats, keep_topk=3, chunk_size=2)
    assert out['t2v_ranks'].tolist() == gt_ranks(
        sims, feats.text_to_video).tolist()
    assert out['v2t_ranks'].tolist() == gt_ranks(
        sims.t(), video_texts(feats)).tolist()
    assert out['t2v_topk_indices'].tolist() == sims.topk(
        3, dim=1).indices.tolist()
    assert video_texts(feats)[2] == {3, 4, 5}
    assert 't2v_topk_indices' not in retrieval_ranks(feats)


def test_the_scorer_re_ranks_the_top_candidates():
    feats = features(seed=1)
    sims = feats.text_embed @ feats.video_embed.t()
    calls = []

    def scorer(f, query_idx, gallery_idx, top_sims, videos_are_queries):
        assert f is feats
        calls.append(videos_are_queries)
        return -top_sims  # reverse the top-2 order

    out = rank_direction(feats, False, scorer=scorer, rerank_topk=2)
    top = sims.topk(2, dim=1).indices
    assert out['topk_indices'].tolist() == top.flip(1).tolist()
    # brute force: the two re-ranked candidates above all, reversed
    order = sims.clone()
    order.scatter_(1, top, torch.stack([3 - sims.gather(1, top)[:, 0],
                                        3 - sims.gather(1, top)[:, 1]], 1))
    assert out['ranks'].tolist() == gt_ranks(order,
                                             feats.text_to_video).tolist()
    assert calls == [False]
    # rerank_topk=0: the scorer is not used
    assert rank_direction(feats, False, scorer=scorer)['ranks'].tolist() == \
        gt_ranks(sims, feats.text_to_video).tolist()
    assert calls == [False]
