"""CaptionMetric against pycocoevalcap called directly.

METEOR starts a JVM that takes seconds, so the full metric and the direct
reference are each computed once per module (two METEOR launches in all).
"""
import json

import pytest
from mmengine.structures import BaseDataElement

from stoavlp.evaluation import CaptionMetric
from stoavlp.evaluation.metrics.caption import sanitize_caption

# Clean videos, plain ASCII: sanitize_caption leaves them unchanged.
CLEAN = {
    'video7010': ('a man is playing a guitar', [
        'a man plays the guitar', 'a person is playing a guitar on stage',
        'someone strums a guitar'
    ]),
    'video7011': ('a woman is cooking in a kitchen', [
        'a woman cooks food', 'a lady is cooking in the kitchen',
        'a woman prepares a meal', 'someone is cooking',
        'a chef makes dinner in a kitchen'
    ]),
    'video7012': ('two dogs are running', [
        'dogs run in a park', 'two dogs are playing outside',
        'a pair of dogs running on grass', 'animals are running'
    ]),
    'video7013': (
        '',
        [  # an empty prediction must not break alignment
            'a car drives down a road', 'a red car on the highway',
            'a vehicle is moving fast'
        ]),
}
# Odd characters that break the Java tools, and their sanitised form.
ODD_RAW = ('A cafè|dog\r\nruns 🐕', [
    'a dog runs\nfast', 'the dog ||| runs', 'naïve dog running\u2028outside'
])
ODD_CLEAN = ('A cafe dog runs',
             ['a dog runs fast', 'the dog runs', 'naive dog running outside'])
KEYS = ['BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4', 'METEOR', 'ROUGE-L', 'CIDEr']


def _samples(videos):
    return [
        dict(video_id=v, pred_caption=pred, gt_captions=list(refs))
        for v, (pred, refs) in videos.items()
    ]


def _pycocoevalcap(videos):
    """The COCOEvalCap recipe: tokenise refs and predictions, then score."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({
        v: [dict(caption=c) for c in refs]
        for v, (_, refs) in videos.items()
    })
    res = tokenizer.tokenize({
        v: [dict(caption=pred)]
        for v, (pred, _) in videos.items()
    })
    bleu, _ = Bleu(4).compute_score(gts, res)
    meteor = Meteor()
    meteor_score, _ = meteor.compute_score(gts, res)
    del meteor  # stops its JVM
    values = list(bleu) + [
        meteor_score,
        Rouge().compute_score(gts, res)[0],
        Cider().compute_score(gts, res)[0]
    ]
    return {k: float(v) * 100 for k, v in zip(KEYS, values)}


@pytest.fixture(scope='module')
def evaluated(tmp_path_factory):
    """One full evaluation (METEOR included) with a duplicate, odd
    characters and a dump file, and the direct pycocoevalcap numbers."""
    dump = tmp_path_factory.mktemp('caption') / 'out' / 'captions.json'
    metric = CaptionMetric(dump_file=str(dump))
    samples = _samples(CLEAN) + _samples({'video7014': ODD_RAW})
    metric.process(None, samples[:2])
    # a BaseDataElement batch, plus a duplicate of video7010 (sampler
    # padding) whose different caption must be ignored
    padded = dict(samples[0], pred_caption='a duplicate')
    metric.process(None,
                   [BaseDataElement(**s) for s in samples[2:]] + [padded])
    metrics = metric.evaluate(size=len(samples) + 1)
    reference = _pycocoevalcap(dict(CLEAN, video7014=ODD_CLEAN))
    return metrics, reference, dump


def test_equals_pycocoevalcap(evaluated):
    metrics, reference, _ = evaluated
    assert list(metrics) == [f'caption/{k}' for k in KEYS]
    for key in KEYS:
        assert metrics[f'caption/{key}'] == pytest.approx(reference[key],
                                                          rel=1e-12,
                                                          abs=1e-12), key
    assert 0 < metrics['caption/CIDEr'] and 0 < metrics['caption/METEOR']


def test_dump_file(evaluated):
    _, _, dump = evaluated
    with open(dump, encoding='utf-8') as f:
        content = json.load(f)
    assert content == [
        dict(video_id=v, caption=pred) for v, (pred, _) in CLEAN.items()
    ] + [dict(video_id='video7014', caption=ODD_RAW[0])]  # raw caption
    assert [p.name for p in dump.parent.iterdir()] == ['captions.json']


def test_sanitize_caption():
    assert sanitize_caption(ODD_RAW[0]) == ODD_CLEAN[0]
    assert [sanitize_caption(c) for c in ODD_RAW[1]] == ODD_CLEAN[1]
    assert sanitize_caption('a\ttab\x0bvt and 日本 em—dash') == \
        'a tab vt and em dash'
    for _, refs in CLEAN.values():
        assert [sanitize_caption(r) for r in refs] == refs


def test_subset_of_metrics_skips_meteor():
    metric = CaptionMetric(metrics=('bleu', 'cider'), prefix='msvd')
    metric.process(None, _samples(CLEAN))
    metrics = metric.evaluate(size=len(CLEAN))
    assert list(metrics) == [
        'msvd/BLEU-1', 'msvd/BLEU-2', 'msvd/BLEU-3', 'msvd/BLEU-4',
        'msvd/CIDEr'
    ]


def test_missing_java_is_one_clear_error(monkeypatch):
    import shutil
    monkeypatch.setattr(shutil, 'which', lambda *args, **kwargs: None)
    for metrics in [('bleu', 'meteor', 'rouge', 'cider'), ('bleu', )]:
        with pytest.raises(RuntimeError, match='needs a Java runtime'):
            CaptionMetric(metrics=metrics)


def test_invalid_arguments_and_samples():
    with pytest.raises(ValueError, match='subset'):
        CaptionMetric(metrics=('bleu', 'spice'))
    with pytest.raises(ValueError, match='subset'):
        CaptionMetric(metrics=())
    metric = CaptionMetric(metrics=('bleu', ))
    with pytest.raises(KeyError, match='gt_captions'):
        metric.process(None, [dict(video_id='v', pred_caption='a')])
    metric.process(None,
                   [dict(video_id='v', pred_caption='a', gt_captions=[])])
    with pytest.raises(ValueError, match='without references'):
        metric.compute_metrics(metric.results)
    with pytest.raises(ValueError, match='no predictions'):
        metric.compute_metrics([])


def test_doctest():
    import doctest

    import stoavlp.evaluation.metrics.caption as module
    assert doctest.testmod(
        module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
