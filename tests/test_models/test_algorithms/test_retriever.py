"""STOAVLPRetriever and STOAVLPMultipleChoice: features, re-ranking, MC."""
import pytest
import torch

from algorithm_helpers import build, encoders, reference_match_prob
from stoavlp.engine.runner import rank_with_model
from stoavlp.evaluation.functional import gt_ranks
from stoavlp.registry import MODELS
from stoavlp.structures import RetrievalFeatures


def brute_force_ranks(model, feats, videos_are_queries):
    """Full similarity matrix; each query's top 2 re-scored by the
    reference VTM probability, ``softmax(scale * sim) * P``, above the rest
    (which keep their cosine similarity, <= 1)."""
    sims = feats.text_embed @ feats.video_embed.t()  # (S, V)
    if videos_are_queries:
        sims = sims.t()
    scale = float(model.vtc_loss.scale())
    rows = []
    for q in range(len(sims)):
        top = sims[q].topk(2).indices
        prob = torch.tensor([
            reference_match_prob(model, feats, *((q, int(g))
                                 if videos_are_queries else (int(g), q)))
            for g in top])
        order = sims[q].clone()
        order[top] = 2.0 + (scale * sims[q, top]).softmax(-1) * prob
        rows.append(order)
    owner = feats.text_to_video.tolist()
    truth = [{t for t, v in enumerate(owner) if v == q}
             for q in range(feats.num_videos)] if videos_are_queries \
        else feats.text_to_video
    return gt_ranks(torch.stack(rows), truth)


def test_retrieval_ranks_equal_brute_force(retriever, multi_text_batch):
    inputs, samples = multi_text_batch(retriever)
    with torch.no_grad():
        feats = retriever(inputs, samples, mode='tensor')
        assert isinstance(feats, RetrievalFeatures)
        assert feats.text_to_video.tolist() == [0, 0, 1, 2, 2, 2]
        ranks = rank_with_model(retriever, feats, chunk_size=2)
        want_t2v = brute_force_ranks(retriever, feats, False)
        want_v2t = brute_force_ranks(retriever, feats, True)
    assert ranks['t2v_ranks'].tolist() == want_t2v.tolist()
    assert ranks['v2t_ranks'].tolist() == want_v2t.tolist()


def test_match_probability_equals_the_reference_fusion(retriever,
                                                       multi_text_batch):
    inputs, samples = multi_text_batch(retriever)
    with torch.no_grad():
        feats = retriever(inputs, samples, mode='tensor')
        pairs = [(0, 5), (1, 2), (2, 0), (2, 3)]
        got = retriever.match_probability(
            feats, torch.tensor([v for v, _ in pairs]),
            torch.tensor([t for _, t in pairs]))
    want = torch.tensor([reference_match_prob(retriever, feats, v, t)
                         for v, t in pairs])
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_multiple_choice_fuses_similarity_and_vtm(
        tiny_cfg, make_batch, prepare, multi_text_batch):
    model = build(dict(encoders(tiny_cfg), type='STOAVLPMultipleChoice',
                       vtc_loss=dict(type='VTCLoss'),
                       vtm_head=dict(type='VTMHead', width=32, dropout=0.0)))
    inputs, samples = multi_text_batch(model, (5, 5, 5))
    with torch.no_grad():
        out = model(inputs, samples, mode='predict')
        feats = model(inputs, samples, mode='tensor')
    scale = float(model.vtc_loss.scale())
    for i, sample in enumerate(out):
        options = range(5 * i, 5 * i + 5)
        probs = torch.tensor([reference_match_prob(model, feats, i, t)
                              for t in options])
        sims = torch.stack([feats.text_embed[t] @ feats.video_embed[i]
                            for t in options])
        want = (scale * sims).softmax(-1) * probs
        torch.testing.assert_close(sample.mc_scores, want, rtol=1e-5,
                                   atol=1e-6)
        torch.testing.assert_close(sample.similarities, sims)
        assert sample.pred_label == int(want.argmax())
    model.train()
    inputs, samples = prepare(model, make_batch(seed=6))
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_vtc', 'loss_vtm'}


def test_predict_gives_normalised_embeddings(retriever, multi_text_batch):
    inputs, samples = multi_text_batch(retriever)
    with torch.no_grad():
        out = retriever(inputs, samples, mode='predict')
    assert [len(s.text_embed) for s in out] == [2, 1, 3]
    for s in out:
        torch.testing.assert_close(s.video_embed.norm(), torch.tensor(1.0))
        torch.testing.assert_close(s.text_embed.norm(dim=-1),
                                   torch.ones(len(s.text_embed)))


def test_reranking_without_a_vtm_head_fails_at_build(tiny_cfg):
    cfg = dict(encoders(tiny_cfg), type='STOAVLPRetriever',
               vtc_loss=dict(type='VTCLoss'), rerank_topk=32)
    with pytest.raises(ValueError, match='rerank_topk=32 re-ranks with the '
                                         'VTM head'):
        MODELS.build(cfg)
    model = MODELS.build(dict(cfg, rerank_topk=0))  # similarity alone
    assert model.vtm_head is None


def test_retrieval_loop_bf16_autocast_ranks_like_float32(retriever,
                                                         multi_text_batch):
    """RetrievalLoop(amp='bf16'): features computed in bfloat16 (on a CPU
    too) give the float32 ranks up to near-ties."""
    from types import SimpleNamespace

    from stoavlp.engine.runner import RetrievalLoop
    from stoavlp.engine.runner.retrieval_loop import autocast
    inputs, samples = multi_text_batch(retriever)
    with torch.no_grad():
        feats32 = retriever(inputs, samples, mode='tensor')
        with autocast('bf16', 'cpu'):
            feats16 = retriever(inputs, samples, mode='tensor')
    assert feats16.video_embed.dtype == torch.bfloat16  # it did run
    for key in ('video_embed', 'text_embed'):
        torch.testing.assert_close(getattr(feats16, key).float(),
                                   getattr(feats32, key), atol=0.05,
                                   rtol=0.05)
    ranks = {}
    for name, feats in (('fp32', feats32), ('bf16', feats16)):
        with torch.no_grad(), autocast(None if name == 'fp32' else 'bf16',
                                       'cpu'):
            ranks[name] = rank_with_model(retriever, feats)['t2v_ranks']
    assert (ranks['bf16'] - ranks['fp32']).abs().max() <= 1
    with pytest.raises(ValueError, match="amp must be one of"):
        RetrievalLoop(SimpleNamespace(build_evaluator=lambda e: e),
                      dataloader=None, evaluator=[], amp='int8')
