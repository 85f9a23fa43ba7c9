"""Retrieval ranking (ties, several GT items, chunking, re-ranking) against
hand-computed values and brute force."""
import doctest

import numpy as np
import pytest
import torch

from stoavlp.evaluation import chunked_retrieval, gt_ranks, retrieval_metrics


def brute_force_ranks(scores, gt_sets):
    """The definition, one query at a time: 1 + #(non-GT >= best GT)."""
    ranks = []
    for row, gts in zip(scores.tolist(), gt_sets):
        best = max(row[g] for g in gts)
        ranks.append(1 + sum(s >= best
                             for j, s in enumerate(row) if j not in gts))
    return torch.tensor(ranks)


def test_ties_are_not_hits():
    scores = torch.tensor([
        [0.9, 0.9, 0.1],  # GT 0 ties with item 1
        [0.2, 0.5, 0.5],  # GT 1 ties with item 2
        [0.3, 0.3, 0.3],  # collapsed: all equal
        [0.1, 0.2, 0.8]
    ])  # clean hit
    gt = torch.tensor([0, 1, 2, 2])
    assert gt_ranks(scores, gt).tolist() == [2, 2, 3, 1]
    # The sort-and-compare trick (CLIP4Clip#80, mmaction2 RetrievalMetric)
    # gives each tied query one entry per tied position, the first a hit:
    # 7 "ranks" for 3 queries and R@1 = 3/7 instead of 0.
    sx = np.sort(-scores[:3, :3].numpy())
    d = np.diag(-scores[:3, :3].numpy())
    ind = np.where((sx - d[:, None]) == 0)[1]
    assert ind.tolist() == [0, 1, 0, 1, 0, 1, 2]
    assert retrieval_metrics(gt_ranks(scores[:3, :3], gt[:3]))['R1'] == 0


def test_several_gt_items_v2t():
    # 2 videos x 5 captions: video 0 owns captions {0, 1, 2}, video 1 {3, 4}
    scores = torch.tensor([[0.1, 0.8, 0.8, 0.9, 0.2],
                           [0.7, 0.7, 0.1, 0.7, 0.3]])
    gt = [{0, 1, 2}, {3, 4}]
    # video 0: best GT 0.8 (captions 1 and 2 tie, both GT: no penalty);
    # caption 3 (0.9) is above -> rank 2. video 1: best GT 0.7 ties with
    # non-GT captions 0 and 1 -> rank 3.
    assert gt_ranks(scores, gt).tolist() == [2, 3]
    # lists, duplicates and tensors are accepted as GT sets
    assert gt_ranks(scores, [[0, 1, 2, 2], torch.tensor([3, 4])]).tolist() \
        == [2, 3]
    # one int per query: caption 2 is no longer GT, so its tie counts
    assert gt_ranks(scores, [1, 4]).tolist() == [3, 4]


def test_retrieval_metrics_hand_computed():
    metrics = retrieval_metrics(torch.tensor([1, 2, 3, 6, 11, 1]))
    assert metrics == pytest.approx(
        dict(R1=100 * 2 / 6,
             R5=100 * 4 / 6,
             R10=100 * 5 / 6,
             MdR=2.5,
             MnR=24 / 6))
    assert set(retrieval_metrics([3],
                                 topk=(1, 50))) == {'R1', 'R50', 'MdR', 'MnR'}
    assert retrieval_metrics([1, 3, 2])['MdR'] == 2.0


@pytest.mark.parametrize('multi', [False, True])
def test_chunked_equals_full(multi):
    gen = torch.Generator().manual_seed(0)
    # small integer features: dot products are exact in float32, so ties
    # are frequent and identical whatever the chunking
    query = torch.randint(-2, 3, (37, 6), generator=gen).float()
    gallery = torch.randint(-2, 3, (23, 6), generator=gen).float()
    if multi:
        gt = [{i % 23, (i * 7) % 23} for i in range(37)]
    else:
        gt = torch.randint(0, 23, (37, ), generator=gen)
    full = query @ gallery.T
    expected = gt_ranks(full, gt)
    sets = gt if multi else [{int(g)} for g in gt]
    assert torch.equal(expected, brute_force_ranks(full, sets))
    assert (expected > 1).any()  # ties / misses do occur here
    for chunk_size in (1, 3, 7, 37, 64):
        out = chunked_retrieval(query,
                                gallery,
                                gt,
                                chunk_size=chunk_size,
                                topk=5)
        assert torch.equal(out['ranks'], expected)
        assert out['topk_indices'].shape == (37, 5)
        assert torch.equal(out['topk_scores'], full.topk(5, dim=1).values)
        assert torch.equal(full.gather(1, out['topk_indices']),
                           out['topk_scores'])


def test_no_topk_and_clipping():
    feats = torch.eye(4)
    out = chunked_retrieval(feats, feats, torch.arange(4))
    assert out['ranks'].tolist() == [1, 1, 1, 1]
    assert out['topk_indices'].shape == (4, 0)
    out = chunked_retrieval(feats, feats, torch.arange(4), topk=10)
    assert out['topk_indices'].shape == (4, 4)  # clipped to G


def _table_rerank(table, calls):
    """A re-ranker that looks new scores up in a (Q, G) table."""

    def rerank(query_idx, gallery_idx, scores):
        calls.append(query_idx.tolist())
        assert gallery_idx.shape == scores.shape
        return table[query_idx[:, None], gallery_idx]

    return rerank


def test_rerank_hand_computed():
    first = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]).repeat(4, 1)
    query = first  # query @ eye = first-stage scores
    gallery = torch.eye(6)
    gt = [{2}, {4}, {1}, {1, 2}]
    assert gt_ranks(first, gt).tolist() == [3, 5, 2, 2]
    table = torch.zeros(4, 6)
    table[0, :3] = torch.tensor([0.1, 0.2, 0.3])  # promotes GT 2 to 1st
    table[1, :3] = torch.tensor([0.3, 0.2, 0.1])  # GT 4 is not in top-3
    table[1, 4] = 1.0  # ... so a high score outside top-k is never seen
    table[2, :3] = torch.tensor([0.5, 0.5, 0.1])  # GT 1 ties with item 0
    table[3, :3] = torch.tensor([0.5, 0.4, 0.6])  # best GT (2) first
    calls = []
    out = chunked_retrieval(query,
                            gallery,
                            gt,
                            chunk_size=3,
                            topk=3,
                            rerank=_table_rerank(table, calls))
    assert calls == [[0, 1, 2], [3]]  # global query indices per chunk
    assert out['ranks'].tolist() == [1, 5, 2, 1]
    assert out['topk_indices'][0].tolist() == [2, 1, 0]
    assert out['topk_scores'][0].tolist() == pytest.approx([0.3, 0.2, 0.1])
    assert out['topk_indices'][2].tolist() == [0, 1, 2]  # stable on ties
    # a re-ranker can also demote the GT inside the top-k
    table[0, :3] = torch.tensor([0.3, 0.2, 0.1])
    out = chunked_retrieval(query,
                            gallery,
                            gt,
                            chunk_size=4,
                            topk=3,
                            rerank=_table_rerank(table, []))
    assert out['ranks'].tolist() == [3, 5, 2, 1]


def test_monotone_rerank_keeps_ranks():
    gen = torch.Generator().manual_seed(1)
    query = torch.randn(50, 16, generator=gen)
    gallery = torch.randn(40, 16, generator=gen)
    gt = torch.randint(0, 40, (50, ), generator=gen)
    plain = chunked_retrieval(query, gallery, gt, chunk_size=16, topk=8)
    reranked = chunked_retrieval(query,
                                 gallery,
                                 gt,
                                 chunk_size=16,
                                 topk=8,
                                 rerank=lambda q, g, s: 2 * s + 1)
    assert torch.equal(plain['ranks'], reranked['ranks'])
    assert torch.equal(plain['topk_indices'], reranked['topk_indices'])


def test_half_precision_and_score_fn():
    gen = torch.Generator().manual_seed(2)
    query = torch.randn(20, 8, generator=gen).half()
    gallery = torch.randn(30, 8, generator=gen).half()
    gt = torch.arange(20)
    out = chunked_retrieval(query, gallery, gt, chunk_size=6)
    assert torch.equal(out['ranks'],
                       gt_ranks(query.float() @ gallery.float().T, gt))
    negated = chunked_retrieval(query.float(),
                                gallery.float(),
                                gt,
                                score_fn=lambda q, g: -(q @ g.T))
    assert torch.equal(negated['ranks'],
                       gt_ranks(-(query.float() @ gallery.float().T), gt))


def test_invalid_arguments():
    feats = torch.eye(3)
    gt = torch.arange(3)
    with pytest.raises(ValueError, match='rerank needs topk'):
        chunked_retrieval(feats, feats, gt, rerank=lambda q, g, s: s)
    with pytest.raises(ValueError, match='chunk_size'):
        chunked_retrieval(feats, feats, gt, chunk_size=0)
    with pytest.raises(ValueError, match='feature sizes differ'):
        chunked_retrieval(feats, torch.eye(4), gt)
    with pytest.raises(ValueError, match='no ground-truth'):
        gt_ranks(feats, [{0}, set(), {2}])
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        gt_ranks(feats, [0, 1, 3])
    with pytest.raises(ValueError, match='2 queries'):
        gt_ranks(feats, [0, 1])
    with pytest.raises(ValueError, match='NaN'):
        gt_ranks(torch.full((2, 2), float('nan')), [0, 1])
    with pytest.raises(ValueError, match='rerank returned'):
        chunked_retrieval(feats,
                          feats,
                          gt,
                          topk=2,
                          rerank=lambda q, g, s: s[:, :1])
    with pytest.raises(ValueError, match='1-based'):
        retrieval_metrics([0, 1])


def test_doctests():
    import stoavlp.evaluation.functional.retrieval as functional
    assert doctest.testmod(functional).failed == 0
