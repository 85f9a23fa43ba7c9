"""QAAccuracy against hand-computed values."""
import doctest

import pytest
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement

from stoavlp.evaluation import QAAccuracy
from stoavlp.evaluation.metrics.qa import normalize_answer, question_type
from stoavlp.registry import METRICS


def test_normalisation_and_question_type():
    assert normalize_answer('  A   Red\tCar \n') == 'a red car'
    assert normalize_answer(3) == '3'
    assert question_type('What is the man doing?') == 'what'
    assert question_type('who?') == 'who'
    assert question_type('  HOW many dogs') == 'how'
    assert question_type('is it raining') == 'other'
    assert question_type('') == 'other'
    assert question_type('why not', types=('why', )) == 'why'


def test_qa_accuracy_by_question_type():
    metric = QAAccuracy()
    metric.process(
        None,
        [
            dict(question='what is he doing?',
                 answer='dance',
                 pred_answer=' Dance'),  # hit after normalisation
            dict(question='What animal is it', answer='dog',
                 pred_answer='cat'),
            dict(question='who is singing', answer='man', pred_answer='man'),
            BaseDataElement(
                question='how many people', answer='two', pred_answer='two'),
            dict(question='where is he', answer='park', pred_answer='street'),
            dict(question='when does it end',
                 answer='night',
                 pred_answer='night'),
            dict(question='is it raining', answer='yes', pred_answer='yes'),
        ])
    metrics = metric.evaluate(size=7)
    assert metrics == pytest.approx({
        'qa/acc': 500 / 7,
        'qa/acc_what': 50.0,
        'qa/acc_who': 100.0,
        'qa/acc_how': 100.0,
        'qa/acc_when': 100.0,
        'qa/acc_where': 0.0,
        'qa/acc_other': 100.0,
    })
    # known types come first, in the MSRVTT-QA order
    assert list(metrics)[1:6] == [
        'qa/acc_what', 'qa/acc_who', 'qa/acc_how', 'qa/acc_when',
        'qa/acc_where'
    ]


def test_qa_accuracy_explicit_type_and_answer_lists():
    metric = QAAccuracy(prefix='msvd')
    metric.process(
        None,
        [
            # an explicit question_type wins over the question's first word
            dict(question='what is it',
                 question_type='Object',
                 answer='dog',
                 pred_answer='dog'),
            dict(answer=['guitar', 'a guitar'], pred_answer='A guitar'),
            dict(answer='piano', pred_answer='organ'),
        ])
    assert metric.evaluate(size=3) == pytest.approx({
        'msvd/acc': 200 / 3,
        'msvd/acc_object': 100.0
    })


def test_qa_accuracy_without_types_and_errors():
    metric = QAAccuracy()
    metric.process(
        None,
        [dict(answer='a', pred_answer='a'),
         dict(answer='b', pred_answer='a')])
    assert metric.evaluate(size=2) == {'qa/acc': 50.0}
    with pytest.raises(KeyError, match='pred_answer'):
        metric.process(None, [dict(answer='a')])
    with pytest.raises(ValueError, match='no predictions'):
        metric.compute_metrics([])


def test_registry_and_doctests():
    with DefaultScope.overwrite_default_scope('stoavlp'):
        assert isinstance(METRICS.build(dict(type='QAAccuracy')), QAAccuracy)
    import stoavlp.evaluation.metrics.qa as qa
    assert doctest.testmod(
        qa, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
