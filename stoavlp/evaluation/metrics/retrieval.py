"""Recall@K / median / mean rank of text-video retrieval, from GT ranks."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric

from stoavlp.registry import METRICS
from ..functional import retrieval_metrics


@METRICS.register_module()
class RetrievalRecall(BaseMetric):
    """Aggregate per-query ground-truth ranks into R@K, MdR and MnR.

    The ranking itself happens on the model side
    (:func:`stoavlp.evaluation.functional.chunked_retrieval`, ties counted
    against the ground truth, optional top-k re-ranking); this metric only
    collects the ranks and reports them. Each data sample is one query and
    carries ``{direction}_rank`` (int, 1-based) for the direction it belongs
    to, e.g. a text query ``t2v_rank`` and a video query ``v2t_rank``; a
    sample may carry both when texts and videos pair one to one.

    Keys are ``{direction}/R{K}``, ``{direction}/MdR`` and
    ``{direction}/MnR`` (R@K in percent), e.g. ``t2v/R1``. The direction
    already disambiguates the keys, so there is no default prefix; a
    ``prefix`` such as ``'msrvtt'`` gives ``msrvtt/t2v/R1``.

    In distributed evaluation every query must be processed on exactly one
    rank (e.g. ``ranks[rank::world]``), and ``evaluate`` called with the
    total number of processed samples: mmengine's ``collect_results``
    interleaves the ranks' lists and cuts them to ``size``. Samples without
    any ``{direction}_rank`` are ignored, so padding with ``{}`` is safe.

    Args:
        topk (int | Sequence[int]): The K of each reported R@K.
            Defaults to ``(1, 5, 10)``.
        directions (str | Sequence[str]): The directions to report; each
            reads ``{direction}_rank`` from the data samples and must
            receive at least one rank. Defaults to ``('t2v', 'v2t')``.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prepended to every key as ``prefix/``.
            Defaults to None (no prefix).

    Examples:
        Use in code:

        >>> from stoavlp.evaluation import RetrievalRecall
        >>> metric = RetrievalRecall(topk=(1, 5), directions='t2v')
        >>> metric.process(None, [dict(t2v_rank=1), dict(t2v_rank=2),
        ...                       dict(t2v_rank=7), dict(t2v_rank=1)])
        >>> metric.evaluate(size=4)
        {'t2v/R1': 50.0, 't2v/R5': 75.0, 't2v/MdR': 1.5, 't2v/MnR': 2.75}

        Use in a config:

        .. code:: python

            val_evaluator = dict(type='RetrievalRecall', topk=(1, 5, 10))
            test_evaluator = val_evaluator
    """

    # The direction ("t2v/") is the disambiguating prefix; '' (not None)
    # keeps mmengine from warning that no prefix is set.
    default_prefix: Optional[str] = ''

    def __init__(self,
                 topk: Union[int, Sequence[int]] = (1, 5, 10),
                 directions: Union[str, Sequence[str]] = ('t2v', 'v2t'),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or any(not isinstance(k, int) or k < 1 for k in topk):
            raise ValueError(f'topk must be positive integers, got {topk!r}')
        directions = ((directions, )
                      if isinstance(directions, str) else tuple(directions))
        if not directions or len(set(directions)) != len(directions):
            raise ValueError(
                f'directions must be distinct names, got {directions!r}')
        self.topk = topk
        self.directions = directions

    def process(self, data_batch: Optional[dict],
                data_samples: Sequence[dict]) -> None:
        """Collect the ground-truth ranks of a batch of queries.

        Args:
            data_batch (dict, optional): Unused.
            data_samples (Sequence[dict | BaseDataElement]): One per query,
                holding ``{direction}_rank`` (int or one-element tensor) for
                one or more of ``self.directions``.
        """
        for sample in data_samples:
            result = {}
            for direction in self.directions:
                rank = sample.get(f'{direction}_rank', None)
                if rank is None:
                    continue
                rank = int(torch.as_tensor(rank).item())
                if rank < 1:
                    raise ValueError(
                        f'{direction}_rank must be 1-based, got {rank}')
                result[direction] = rank
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute R@K, MdR and MnR per direction.

        Args:
            results (list[dict]): ``{direction: rank}`` per processed sample.

        Returns:
            dict[str, float]: ``{direction}/R{K}``, ``{direction}/MdR``,
            ``{direction}/MnR``.
        """
        metrics = {}
        for direction in self.directions:
            ranks = [r[direction] for r in results if direction in r]
            if not ranks:
                raise ValueError(
                    f'no data sample carried "{direction}_rank"; the model '
                    'must set it, or leave the direction out of '
                    f'`directions` (got {self.directions})')
            for name, value in retrieval_metrics(ranks, self.topk).items():
                metrics[f'{direction}/{name}'] = value
        return metrics
