"""Task models built from the tiny pre-training config's encoders."""
import pytest
import torch

from algorithm_helpers import build, encoders


@pytest.fixture
def retriever(tiny_cfg):
    return build(dict(encoders(tiny_cfg), type='STOAVLPRetriever',
                      vtc_loss=dict(type='VTCLoss'),
                      vtm_head=dict(type='VTMHead', width=32, dropout=0.0),
                      rerank_topk=2, rerank_batch=3))


@pytest.fixture
def multi_text_batch(make_batch, prepare):
    """``multi_text_batch(model, texts_per_video)``: videos with several
    captions each, as retrieval test items."""

    def make(model, texts_per_video=(2, 1, 3)):
        inputs, samples = make_batch(seed=4)
        _, extra = make_batch(batch=sum(texts_per_video), seed=5)
        start = 0
        for sample, n in zip(samples, texts_per_video):
            group = extra[start:start + n]
            start += n
            for key in ('token_ids', 'attention_mask', 'noun_mask',
                        'verb_mask'):
                sample.set_field(torch.stack([g.get(key) for g in group]),
                                 key)
        return prepare(model, (inputs, samples))

    return make
