"""What RetrievalLoop reports per query (``query_results``); the merging of
per-rank features is tested with RetrievalFeatures
(tests/test_structures/test_retrieval_features.py)."""
import torch

from stoavlp.structures import RetrievalFeatures


class _Dataset:
    """get_data_info of a 3-video test set (2, 1 and 2 captions)."""
    infos = [dict(video_id='v0', text=['a dog', 'a red dog']),
             dict(video_id='v1', text=['a cat']),
             dict(video_id='v2', text=['a car', 'a blue car'])]

    def get_data_info(self, idx):
        return self.infos[idx]


def test_query_results_name_queries_ground_truth_and_top_candidates():
    """What ``tools/test.py --dump`` writes for retrieval, against a brute
    force ranking of the same similarities."""
    from types import SimpleNamespace

    from stoavlp.engine.runner import rank_with_model
    from stoavlp.engine.runner.retrieval_loop import query_results
    torch.manual_seed(0)
    videos = torch.nn.functional.normalize(torch.randn(3, 8), dim=-1)
    # texts near their own video, one ("a cat") nearer to v2
    texts = videos[[0, 0, 2, 2, 2]] + 0.3 * torch.randn(5, 8)
    texts = torch.nn.functional.normalize(texts, dim=-1)
    feats = RetrievalFeatures(video_embed=videos, text_embed=texts,
                              text_to_video=torch.tensor([0, 0, 1, 2, 2]),
                              sample_idx=torch.tensor([0, 1, 2]))
    # a model without re-ranking: similarity alone
    model = SimpleNamespace(rerank_topk=0, rerank_scores=None)
    ranks = rank_with_model(model, feats, keep_topk=2, chunk_size=2)
    t2v, v2t = query_results(ranks, feats, _Dataset())
    sims = texts @ videos.T
    ids = ['v0', 'v1', 'v2']
    for t, item in enumerate(t2v):
        order = sims[t].argsort(descending=True).tolist()
        gt = feats.text_to_video[t].item()
        assert item['t2v_rank'] == order.index(gt) + 1
        assert item['gt_video_ids'] == [ids[gt]]
        assert item['topk_video_ids'] == [ids[i] for i in order[:2]]
        torch.testing.assert_close(torch.tensor(item['topk_scores']),
                                   sims[t, order[:2]])
    assert [i['query_id'] for i in t2v] == ['v0#0', 'v0#1', 'v1#0', 'v2#0',
                                            'v2#1']
    assert t2v[2]['query_text'] == 'a cat'
    text_ids = [i['query_id'] for i in t2v]
    captions = ['a dog', 'a red dog', 'a cat', 'a car', 'a blue car']
    for v, item in enumerate(v2t):
        order = sims[:, v].argsort(descending=True).tolist()
        own = [t for t in range(5) if feats.text_to_video[t] == v]
        assert item['query_id'] == ids[v]
        assert item['v2t_rank'] == min(order.index(t) for t in own) + 1
        assert item['gt_text_ids'] == [text_ids[t] for t in own]
        assert item['topk_text_ids'] == [text_ids[t] for t in order[:2]]
        assert item['topk_texts'] == [captions[t] for t in order[:2]]
    # without kept candidates: ranks and ids only
    bare = rank_with_model(model, feats, chunk_size=2)
    t2v, _ = query_results(bare, feats, _Dataset())
    assert 'topk_video_ids' not in t2v[0] and t2v[0]['query_id'] == 'v0#0'
