"""Captioning, retrieval/MC and QA models on tiny configs."""
import copy
import json

import pytest
import torch
import torch.nn.functional as F

from stoavlp.evaluation.functional import gt_ranks
from stoavlp.models.data_preprocessors import stack_field
from stoavlp.registry import MODELS


def encoders(tiny_cfg):
    cfg = copy.deepcopy(tiny_cfg)
    for key in ('type', 'vtc_loss', 'vtm_head', 'lm_head', 'ota_loss',
                'asp_loss'):
        cfg.pop(key)
    return cfg


def build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


@pytest.fixture
def captioner(tiny_cfg):
    return build(dict(encoders(tiny_cfg), type='STOAVLPCaptioner',
                      lm_head=dict(type='TiedLMHead', width=32, dropout=0.0),
                      decode_cfg=dict(max_length=10)))


@pytest.mark.parametrize('decode_cfg, message', [
    (dict(max_lenght=20), r"decode_cfg: unknown option 'max_lenght' \(did "
                          r"you mean 'max_length'\?\)"),
    (dict(num_beams=0), r'decode_cfg\.num_beams must be >= 1'),
    (dict(num_beams=2.5), r'decode_cfg\.num_beams must be int'),
    (dict(max_length=5, min_length=9), r'decode_cfg\.min_length must be in'),
    (dict(early_stopping='yes'), r'decode_cfg\.early_stopping must be bool'),
])
def test_bad_decode_cfg_fails_when_the_model_is_built(tiny_cfg, decode_cfg,
                                                      message):
    cfg = dict(encoders(tiny_cfg), type='STOAVLPCaptioner',
               lm_head=dict(type='TiedLMHead', width=32),
               decode_cfg=decode_cfg)
    with pytest.raises(ValueError, match=message):
        MODELS.build(cfg)


def test_generate_overrides_are_checked_too(captioner, make_batch, prepare):
    inputs, samples = prepare(captioner, make_batch(seed=1))
    with pytest.raises(ValueError, match="unknown option 'beams'"):
        captioner.generate(inputs, samples, beams=3)


@pytest.mark.parametrize('num_beams', [1, 3])
def test_cached_decoding_equals_recomputing(captioner, make_batch, prepare,
                                            num_beams):
    inputs, samples = prepare(captioner, make_batch(seed=1))
    with torch.no_grad():
        cached = captioner.generate(inputs, samples, cached=True,
                                    num_beams=num_beams)
        recomputed = captioner.generate(inputs, samples, cached=False,
                                        num_beams=num_beams)
    assert cached.shape[0] == 3 and cached.shape[1] <= 10
    assert torch.equal(cached, recomputed)


def test_caption_loss_is_teacher_forced_cross_entropy(captioner, make_batch,
                                                      prepare):
    inputs, samples = prepare(captioner, make_batch(seed=2))
    loss = captioner(inputs, samples, mode='loss')['loss_caption']
    # reference: per caption, position p (0 .. eot-1) predicts token p + 1,
    # reading the logits of an uncached step model fed the true tokens
    ids = stack_field(samples, 'token_ids')
    logits, targets = [], []
    with torch.no_grad():
        video = captioner.video_sequence(captioner.encode_video(inputs,
                                                                samples))
        for b in range(len(ids)):
            eot = int(stack_field(samples, 'attention_mask')[b].sum()) - 1
            seq = tuple(x[b:b + 1] if x.dim() > 1 else x for x in video)
            for p in range(eot):
                text = captioner.encode_text(
                    ids[b:b + 1, :p + 1], torch.ones(1, p + 1).long())
                _, fused = captioner.fuse(
                    seq, text['token_features'],
                    torch.ones(1, p + 1).long(), mode='prefix_lm',
                    text_prefix=torch.ones(1).long())
                logits.append(captioner.lm_head(
                    fused[0, p],
                    captioner.text_encoder.token_embedding.weight))
                targets.append(ids[b, p + 1])
    want = F.cross_entropy(torch.stack(logits), torch.stack(targets))
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)
    out = captioner(inputs, samples, mode='predict')
    assert all(isinstance(s.pred_caption, str) for s in out)


@pytest.fixture
def retriever(tiny_cfg):
    return build(dict(encoders(tiny_cfg), type='STOAVLPRetriever',
                      vtm_head=dict(type='VTMHead', width=32, dropout=0.0),
                      rerank_topk=2, rerank_batch=3, chunk_size=2))


def multi_text_batch(make_batch, prepare, model, texts_per_video=(2, 1, 3)):
    """Videos with several captions each, as retrieval test items."""
    inputs, samples = make_batch(seed=4)
    _, extra = make_batch(batch=sum(texts_per_video), seed=5)
    start = 0
    for sample, n in zip(samples, texts_per_video):
        group = extra[start:start + n]
        start += n
        for key in ('token_ids', 'attention_mask', 'noun_mask', 'verb_mask'):
            sample.set_field(torch.stack([g.get(key) for g in group]), key)
    return prepare(model, (inputs, samples))


def test_retrieval_ranks_equal_brute_force(retriever, make_batch, prepare):
    inputs, samples = multi_text_batch(make_batch, prepare, retriever)
    with torch.no_grad():
        feats = retriever(inputs, samples, mode='tensor')
        feats['text_to_video'] = feats.pop('text_owner')
        ranks = retriever.predict_all(feats)
        # brute force: full matrix, VTM-rescore every query's top 2
        sims = feats['text_embed'] @ feats['video_embed'].t()  # (T, V)
        scale = float(retriever.vtc_loss.scale())
        want_t2v = []
        for t in range(len(sims)):
            top = sims[t].topk(2).indices
            prob = retriever.match_probability(
                feats, top, torch.full((2, ), t))
            new = (scale * sims[t, top]).softmax(-1) * prob
            order = torch.full_like(sims[t], -1.0)
            order[top] = 1.0 + new  # re-ranked candidates come first
            want_t2v.append(order)
        want = gt_ranks(torch.stack(want_t2v), feats['text_to_video'])
    assert ranks['t2v_ranks'].tolist() == want.tolist()
    assert len(ranks['v2t_ranks']) == 3
    assert ((ranks['v2t_ranks'] >= 1) & (ranks['v2t_ranks'] <= 6)).all()


def test_multiple_choice_fuses_similarity_and_vtm(retriever, make_batch,
                                                   prepare):
    inputs, samples = multi_text_batch(make_batch, prepare, retriever,
                                       (5, 5, 5))
    with torch.no_grad():
        out = retriever(inputs, samples, mode='predict')
        feats = retriever(inputs, samples, mode='tensor')
    scale = float(retriever.vtc_loss.scale())
    for i, sample in enumerate(out):
        options = torch.arange(5 * i, 5 * i + 5)
        probs = retriever.match_probability(feats, torch.full((5, ), i),
                                            options)
        sims = feats['text_embed'][options] @ feats['video_embed'][i]
        want = (scale * sims).softmax(-1) * probs
        torch.testing.assert_close(sample.mc_scores, want)
        assert sample.pred_label == int(want.argmax())
    retriever.train()
    inputs, samples = prepare(retriever, make_batch(seed=6))
    losses = retriever(inputs, samples, mode='loss')
    assert set(losses) == {'loss_vtc', 'loss_vtm'}


@pytest.fixture
def answer_file(tmp_path):
    path = tmp_path / 'train_qa.json'
    answers = ['red'] * 3 + ['blue'] * 2 + ['two', 'spinning']
    path.write_text(json.dumps([{'question': 'q', 'answer': a,
                                 'video_id': 0} for a in answers]))
    return str(path)


@pytest.mark.parametrize('head', ['classifier', 'first_token'])
def test_question_answering(tiny_cfg, make_batch, prepare, answer_file,
                            head):
    qa_head = dict(type='QAClassifierHead', width=32, dropout=0.0,
                   answer_vocab=dict(ann_file=answer_file, size=3)) \
        if head == 'classifier' else dict(
            type='QAFirstTokenHead',
            lm_head=dict(type='TiedLMHead', width=32, dropout=0.0))
    model = build(dict(encoders(tiny_cfg), type='STOAVLPQuestionAnswerer',
                       qa_head=qa_head)).train()
    inputs, samples = prepare(model, make_batch(seed=7))
    for sample, (answer, label) in zip(samples, [('red', 0), ('blue', 1),
                                                 ('green', -1)]):
        sample.set_metainfo(dict(answer=answer))
        sample.set_field(torch.tensor(label), 'answer_label')
    if head == 'classifier':
        assert model.qa_head.answers == ['red', 'blue', 'spinning']
    loss = model(inputs, samples, mode='loss')['loss_qa']
    assert torch.isfinite(loss)
    loss.backward()
    assert model.answer_slot.grad is not None
    out = model.eval()(inputs, samples, mode='predict')
    assert all(isinstance(s.pred_answer, str) for s in out)
    if head == 'classifier':
        assert all(s.pred_answer in ('red', 'blue', 'spinning') for s in out)
        # the slot's class scores decide the answer
        with torch.no_grad():
            slot = model.answer_slot_features(inputs, samples)
            want = model.qa_head.classifier(slot).argmax(-1)
        assert [s.pred_answer for s in out] == [
            model.qa_head.answers[i] for i in want]


def test_retrieval_loop_bf16_autocast_ranks_like_float32(retriever, make_batch,
                                                         prepare):
    """RetrievalLoop(amp='bf16'): features computed in bfloat16 (on a CPU
    too) give the float32 ranks up to near-ties."""
    from types import SimpleNamespace

    from stoavlp.engine.runner import RetrievalLoop
    from stoavlp.engine.runner.retrieval_loop import autocast
    inputs, samples = multi_text_batch(make_batch, prepare, retriever)
    with torch.no_grad():
        feats32 = retriever(inputs, samples, mode='tensor')
        with autocast('bf16', 'cpu'):
            feats16 = retriever(inputs, samples, mode='tensor')
    assert feats16['video_embed'].dtype == torch.bfloat16  # it did run
    for key in ('video_embed', 'text_embed'):
        torch.testing.assert_close(feats16[key].float(), feats32[key],
                                   atol=0.05, rtol=0.05)
    ranks = {}
    for name, feats in (('fp32', feats32), ('bf16', feats16)):
        feats = dict(feats, text_to_video=feats['text_owner'])
        with torch.no_grad(), autocast(None if name == 'fp32' else 'bf16',
                                       'cpu'):
            ranks[name] = retriever.predict_all(feats)['t2v_ranks']
    assert (ranks['bf16'] - ranks['fp32']).abs().max() <= 1
    with pytest.raises(ValueError, match="amp must be one of"):
        RetrievalLoop(SimpleNamespace(build_evaluator=lambda e: e),
                      dataloader=None, evaluator=[], amp='int8')
