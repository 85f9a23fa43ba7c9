"""The RetrievalRecall metric against hand-computed values."""
import doctest

import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement

from stoavlp.evaluation import RetrievalRecall
from stoavlp.registry import METRICS


def test_retrieval_recall_metric():
    metric = RetrievalRecall(topk=(1, 5))
    metric.process(None, [
        dict(t2v_rank=1, v2t_rank=2),
        BaseDataElement(t2v_rank=torch.tensor(3)),
        dict(t2v_rank=torch.tensor([6])),
        dict(v2t_rank=1),
    ])
    metrics = metric.evaluate(size=4)
    assert metrics == pytest.approx({
        't2v/R1': 100 / 3,
        't2v/R5': 200 / 3,
        't2v/MdR': 3.0,
        't2v/MnR': 10 / 3,
        'v2t/R1': 50.0,
        'v2t/R5': 100.0,
        'v2t/MdR': 1.5,
        'v2t/MnR': 1.5
    })
    metric = RetrievalRecall(directions='t2v', prefix='msrvtt')
    metric.process(None, [dict(t2v_rank=1, v2t_rank=9)])
    assert set(metric.evaluate(1)) == {
        'msrvtt/t2v/R1', 'msrvtt/t2v/R5', 'msrvtt/t2v/R10', 'msrvtt/t2v/MdR',
        'msrvtt/t2v/MnR'
    }


def test_retrieval_recall_errors():
    with pytest.raises(ValueError, match='topk'):
        RetrievalRecall(topk=(0, 5))
    with pytest.raises(ValueError, match='directions'):
        RetrievalRecall(directions=('t2v', 't2v'))
    metric = RetrievalRecall()
    with pytest.raises(ValueError, match='1-based'):
        metric.process(None, [dict(t2v_rank=0)])
    metric = RetrievalRecall()
    metric.process(None, [dict(t2v_rank=1)])
    with pytest.raises(ValueError, match='v2t_rank'):
        metric.evaluate(1)


def test_retrieval_recall_ignores_padding_samples():
    metric = RetrievalRecall(directions='v2t')
    metric.process(None, [dict(v2t_rank=1), dict(), dict(v2t_rank=3)])
    assert metric.evaluate(3)['v2t/MnR'] == 2.0


def test_registry_and_doctests():
    # stoavlp's RetrievalRecall shadows mmaction2's within the stoavlp scope
    with DefaultScope.overwrite_default_scope('stoavlp'):
        metric = METRICS.build(dict(type='RetrievalRecall'))
    assert isinstance(metric, RetrievalRecall)
    import stoavlp.evaluation.metrics.retrieval as metric_module
    assert doctest.testmod(metric_module).failed == 0
