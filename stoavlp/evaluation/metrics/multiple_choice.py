"""Multiple-choice video QA accuracy (e.g. MSRVTT-MC)."""
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from stoavlp.registry import METRICS


@METRICS.register_module()
class MCAccuracy(BaseMetric):
    """Multiple-choice accuracy: ``pred_label == mc_label``, in percent.

    Args:
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to None, which means
            ``default_prefix`` (``'mc'``): ``mc/acc``.

    Examples:
        Use in code:

        >>> import torch
        >>> from stoavlp.evaluation import MCAccuracy
        >>> metric = MCAccuracy()
        >>> metric.process(None, [
        ...     dict(pred_label=torch.tensor(2), mc_label=torch.tensor(2)),
        ...     dict(pred_label=1, mc_label=0)])
        >>> metric.evaluate(size=2)
        {'mc/acc': 50.0}

        Use in a config:

        .. code:: python

            val_evaluator = dict(type='MCAccuracy')
            test_evaluator = val_evaluator
    """

    default_prefix: Optional[str] = 'mc'

    def process(self, data_batch: Optional[dict],
                data_samples: Sequence[Any]) -> None:
        """Compare the chosen option with the true one.

        Args:
            data_batch (dict, optional): Unused.
            data_samples (Sequence[dict | BaseDataElement]): Each holds
                ``pred_label`` and ``mc_label`` (int or one-element tensor).
        """
        for sample in data_samples:
            pred = sample.get('pred_label', None)
            label = sample.get('mc_label', None)
            if pred is None or label is None:
                raise KeyError('MCAccuracy needs "pred_label" and "mc_label" '
                               'in every data sample')
            pred = int(torch.as_tensor(pred).item())
            label = int(torch.as_tensor(label).item())
            self.results.append(pred == label)

    def compute_metrics(self, results: List[bool]) -> Dict[str, float]:
        """Accuracy in percent.

        Args:
            results (list[bool]): Whether each question was right.

        Returns:
            dict[str, float]: ``acc``.
        """
        if not results:
            raise ValueError('MCAccuracy received no predictions')
        return {'acc': sum(results) * 100.0 / len(results)}
