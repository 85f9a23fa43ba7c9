"""Open-ended video question answering accuracy."""
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from stoavlp.registry import METRICS

# MSRVTT-QA / MSVD-QA question types: the first word of the question.
QUESTION_TYPES = ('what', 'who', 'how', 'when', 'where')


def normalize_answer(answer: Any) -> str:
    """Lower-case, strip and collapse whitespace (``' A  dog '`` -> 'a dog').

    Args:
        answer (Any): An answer (str, or anything ``str()`` accepts).

    Returns:
        str: The normalised answer.
    """
    return ' '.join(str(answer).lower().split())


def question_type(question: str, types: Sequence[str] = QUESTION_TYPES) -> str:
    """Type of a question by its first word, ``'other'`` if not in ``types``.

    Args:
        question (str): The question, e.g. ``'What is the man doing?'``.
        types (Sequence[str]): Known types (lower case).
            Defaults to ``QUESTION_TYPES``.

    Returns:
        str: e.g. ``'what'``.
    """
    words = str(question).lower().split()
    first = words[0].strip('?,.!:;"\'') if words else ''
    return first if first in types else 'other'


def _percent(hits: int, total: int) -> float:
    return hits * 100.0 / total


@METRICS.register_module()
class QAAccuracy(BaseMetric):
    """Open-ended QA accuracy (exact match), overall and per question type.

    A prediction is correct when it equals the answer (or one of the
    answers, when a list is given) after :func:`normalize_answer`. When the
    samples carry ``question_type``, or a ``question`` to derive it from (its
    first word: what / who / how / when / where, else ``other``), the
    accuracy of each type seen is also reported as ``acc_{type}``.

    Args:
        question_types (Sequence[str]): First words that name a type when
            ``question_type`` is absent. Defaults to
            ``('what', 'who', 'how', 'when', 'where')``.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to None, which means
            ``default_prefix`` (``'qa'``): ``qa/acc``.

    Examples:
        Use in code:

        >>> from stoavlp.evaluation import QAAccuracy
        >>> metric = QAAccuracy()
        >>> metric.process(None, [
        ...     dict(pred_answer='Dog ', answer='dog', question='what is it?'),
        ...     dict(pred_answer='man', answer='woman', question='who sings?'),
        ...     dict(pred_answer='cat', answer='cat', question='what runs?')])
        >>> metric.evaluate(size=3)  # doctest: +NORMALIZE_WHITESPACE
        {'qa/acc': 66.66666666666667, 'qa/acc_what': 100.0,
         'qa/acc_who': 0.0}

        Use in a config:

        .. code:: python

            val_evaluator = dict(type='QAAccuracy')
            test_evaluator = val_evaluator
    """

    default_prefix: Optional[str] = 'qa'

    def __init__(self,
                 question_types: Sequence[str] = QUESTION_TYPES,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.question_types = tuple(t.lower() for t in question_types)

    def process(self, data_batch: Optional[dict],
                data_samples: Sequence[Any]) -> None:
        """Score each question (right or wrong) and note its type.

        Args:
            data_batch (dict, optional): Unused.
            data_samples (Sequence[dict | BaseDataElement]): Each holds
                ``pred_answer`` (str) or ``pred_label`` (an index into the
                dataset's ``metainfo['answers']``), ``answer`` (str or
                list[str]) and optionally ``question_type`` (str) or
                ``question`` (str).
        """
        for sample in data_samples:
            pred = sample.get('pred_answer', None)
            if pred is None and sample.get('pred_label', None) is not None:
                pred = self._answer_name(int(sample.get('pred_label')))
            answers = sample.get('answer', None)
            if pred is None or answers is None:
                raise KeyError('QAAccuracy needs "pred_answer" (or '
                               '"pred_label") and "answer" in every data '
                               'sample')
            if isinstance(answers, str):
                answers = [answers]
            correct = normalize_answer(pred) in {
                normalize_answer(a)
                for a in answers
            }
            qtype = sample.get('question_type', None)
            if qtype is None and sample.get('question', None) is not None:
                qtype = question_type(sample.get('question'),
                                      self.question_types)
            self.results.append(
                dict(correct=correct,
                     qtype=None if qtype is None else str(qtype).lower()))

    def _answer_name(self, label: int) -> str:
        answers = (self.dataset_meta or {}).get('answers')
        if answers is None:
            raise KeyError('a prediction by class index, but the dataset '
                           'names no answers (metainfo["answers"], from '
                           'its answer_vocab)')
        return answers[label]

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Accuracy in percent, overall and per question type.

        Args:
            results (list[dict]): ``{correct, qtype}`` per question.

        Returns:
            dict[str, float]: ``acc`` and ``acc_{type}`` for each type seen
            (known types first, in ``question_types`` order).
        """
        if not results:
            raise ValueError('QAAccuracy received no predictions')
        metrics = {
            'acc': _percent(sum(r['correct'] for r in results), len(results))
        }
        totals, hits = Counter(), Counter()
        for r in results:
            if r['qtype'] is not None:
                totals[r['qtype']] += 1
                hits[r['qtype']] += r['correct']
        known = [t for t in self.question_types if t in totals]
        for qtype in known + sorted(set(totals) - set(known)):
            metrics[f'acc_{qtype}'] = _percent(hits[qtype], totals[qtype])
        return metrics
