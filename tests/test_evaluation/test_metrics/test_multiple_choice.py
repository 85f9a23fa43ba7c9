"""MCAccuracy against hand-computed values."""
import doctest

import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement

from stoavlp.evaluation import MCAccuracy
from stoavlp.registry import METRICS


def test_mc_accuracy():
    metric = MCAccuracy()
    metric.process(None, [
        dict(pred_label=torch.tensor(2), mc_label=torch.tensor(2)),
        dict(pred_label=torch.tensor([1]), mc_label=1),
        BaseDataElement(pred_label=0, mc_label=torch.tensor(4)),
        dict(pred_label=3, mc_label=3),
    ])
    assert metric.evaluate(size=4) == {'mc/acc': 75.0}
    with pytest.raises(KeyError, match='mc_label'):
        metric.process(None, [dict(pred_label=1)])
    with pytest.raises(ValueError, match='no predictions'):
        metric.compute_metrics([])


def test_registry_and_doctests():
    with DefaultScope.overwrite_default_scope('stoavlp'):
        assert isinstance(METRICS.build(dict(type='MCAccuracy')), MCAccuracy)
    import stoavlp.evaluation.metrics.multiple_choice as mc
    assert doctest.testmod(
        mc, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
