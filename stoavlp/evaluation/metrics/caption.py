"""Video captioning metrics (BLEU-1..4, METEOR, ROUGE-L, CIDEr).

Scores come from pycocoevalcap, exactly as ``COCOEvalCap`` computes them:
predictions and all references of each video are tokenised by its
``PTBTokenizer`` (Stanford CoreNLP, Java), then scored by ``Bleu(4)``,
``Meteor`` (a Java process), ``Rouge`` and ``Cider``.
"""
import contextlib
import io
import json
import os
import os.path as osp
import re
import shutil
import tempfile
import unicodedata
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from stoavlp.registry import METRICS

try:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
except ImportError:  # checked with a clear message in CaptionMetric
    Bleu = Cider = Meteor = Rouge = PTBTokenizer = None

METRIC_KEYS = {
    'bleu': ('BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4'),
    'meteor': ('METEOR', ),
    'rouge': ('ROUGE-L', ),
    'cider': ('CIDEr', ),
}

JAVA_HINT = (
    'CaptionMetric needs a Java runtime (JRE >= 8) on PATH: pycocoevalcap '
    'tokenises every caption with the Stanford PTB tokenizer and computes '
    'METEOR with meteor-1.5.jar, both in Java (skipping METEOR with '
    "`metrics=('bleu', 'rouge', 'cider')` does not remove the tokenizer). "
    'Install one, e.g. `apt-get install default-jre-headless` or '
    '`conda install -c conda-forge openjdk`, then check `java -version`.')

_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


def sanitize_caption(text: str) -> str:
    """Make a caption safe for the PTB tokenizer and METEOR's line protocol.

    - Accents are folded (``café`` -> ``cafe``, NFKD then combining marks
      dropped) and any other non-ASCII character becomes a space: the JVM
      may read and write another charset than Python's UTF-8.
    - ``|`` becomes a space: ``|||`` separates fields in METEOR's protocol.
    - Control characters (``\\n``, ``\\r``, ``\\t``, ...) become spaces: the
      tokenizer splits lines on ``\\r`` and Unicode line separators too, which
      shifts every later caption onto the wrong video, and METEOR answers a
      broken line with an error that fails to parse as a score.
    - Runs of whitespace collapse to one space; ends are stripped.

    Plain ASCII text without ``|`` or control characters is returned
    unchanged, so scores equal those of pycocoevalcap called directly.

    Args:
        text (str): A caption.

    Returns:
        str: The sanitised caption (possibly empty).
    """
    chars = []
    for char in unicodedata.normalize('NFKD', str(text)):
        if ord(char) < 128:
            chars.append(char)
        elif not unicodedata.combining(char):
            chars.append(' ')
    text = _CONTROL.sub(' ', ''.join(chars).replace('|', ' '))
    return ' '.join(text.split())


def _field(sample: Any, key: str) -> Any:
    """``sample[key]`` for a dict or a BaseDataElement, with a clear error."""
    value = sample.get(key, None)
    if value is None:
        raise KeyError(f'CaptionMetric: a data sample has no "{key}" '
                       '(expected pred_caption, gt_captions and video_id)')
    return value


def _atomic_dump(obj: Any, path: str) -> None:
    """Write json to ``path`` via a temporary file and ``os.replace``."""
    path = osp.abspath(path)
    os.makedirs(osp.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path),
                               prefix=f'.{osp.basename(path)}.',
                               suffix='.tmp')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise


@METRICS.register_module()
class CaptionMetric(BaseMetric):
    """BLEU-1..4, METEOR, ROUGE-L and CIDEr of generated video captions.

    Every prediction is scored against all references of its video. Scores
    are multiplied by 100, as papers report them. Video duplicates (the
    distributed sampler pads the last batch) are dropped by ``video_id``,
    keeping the first. Captions pass through :func:`sanitize_caption` before
    tokenisation so odd characters cannot crash or misalign the Java tools.

    Java is checked when the metric is built, not after a whole evaluation:
    the PTB tokenizer always needs it.

    Args:
        metrics (Sequence[str]): Any of ``'bleu'``, ``'meteor'``,
            ``'rouge'``, ``'cider'``. Leaving out ``'meteor'`` saves the
            5-11 s start of its JVM (and its 2 GB heap).
            Defaults to ``('bleu', 'meteor', 'rouge', 'cider')``.
        dump_file (str, optional): If set, the predictions are written there
            (atomically, before scoring) as json
            ``[{"video_id": ..., "caption": ...}]`` with the raw captions.
            Defaults to None.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to None, which means
            ``default_prefix`` (``'caption'``): ``caption/CIDEr``.

    Examples:
        Use in code (needs Java):

        >>> from stoavlp.evaluation import CaptionMetric
        >>> metric = CaptionMetric(metrics=('bleu', 'cider'))
        >>> metric.process(None, [
        ...     dict(video_id='video1', pred_caption='a man is cooking',
        ...          gt_captions=['a man is cooking', 'a chef cooks food']),
        ...     dict(video_id='video2', pred_caption='a dog runs',
        ...          gt_captions=['a dog is running on grass'])])
        >>> sorted(metric.evaluate(size=2))  # doctest: +NORMALIZE_WHITESPACE
        ['caption/BLEU-1', 'caption/BLEU-2', 'caption/BLEU-3',
         'caption/BLEU-4', 'caption/CIDEr']

        Use in a config:

        .. code:: python

            val_evaluator = dict(type='CaptionMetric')
            test_evaluator = dict(
                type='CaptionMetric', dump_file='work_dirs/captions.json')
    """

    default_prefix: Optional[str] = 'caption'

    def __init__(self,
                 metrics: Sequence[str] = ('bleu', 'meteor', 'rouge', 'cider'),
                 dump_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = (metrics, ) if isinstance(metrics, str) else tuple(metrics)
        unknown = [m for m in metrics if m not in METRIC_KEYS]
        if not metrics or unknown:
            raise ValueError(f'metrics must be a non-empty subset of '
                             f'{tuple(METRIC_KEYS)}, got {metrics!r}')
        if PTBTokenizer is None:
            raise ImportError('CaptionMetric needs pycocoevalcap: '
                              '`pip install pycocoevalcap`')
        if shutil.which('java') is None:
            raise RuntimeError(JAVA_HINT)
        self.metrics = metrics
        self.dump_file = dump_file

    def process(self, data_batch: Optional[dict],
                data_samples: Sequence[Any]) -> None:
        """Collect the prediction and references of each video.

        Args:
            data_batch (dict, optional): Unused.
            data_samples (Sequence[dict | BaseDataElement]): Each holds
                ``pred_caption`` (str), ``gt_captions`` (list[str]) and
                ``video_id``.
        """
        for sample in data_samples:
            refs = _field(sample, 'gt_captions')
            video_id = _field(sample, 'video_id')
            if hasattr(video_id, 'item'):  # tensor / numpy scalar
                video_id = video_id.item()
            self.results.append(
                dict(video_id=video_id,
                     pred_caption=str(_field(sample, 'pred_caption')),
                     gt_captions=[refs]
                     if isinstance(refs, str) else [str(r) for r in refs]))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Tokenise and score all videos (duplicates removed).

        Args:
            results (list[dict]): Collected ``process`` outputs.

        Returns:
            dict[str, float]: ``BLEU-1``..``BLEU-4``, ``METEOR``,
            ``ROUGE-L``, ``CIDEr`` (x100) for the requested metrics.
        """
        logger = MMLogger.get_current_instance()
        videos = {}
        for result in results:  # dict: O(n) dedup, first occurrence kept
            videos.setdefault(result['video_id'], result)
        if not videos:
            raise ValueError('CaptionMetric received no predictions')
        if len(videos) < len(results):
            logger.info(f'CaptionMetric: dropped {len(results) - len(videos)}'
                        ' duplicate predictions (sampler padding)')
        empty = [v for v, r in videos.items() if not r['gt_captions']]
        if empty:
            raise ValueError(f'videos without references: {empty[:5]}')
        if self.dump_file is not None:
            _atomic_dump([
                dict(video_id=v, caption=r['pred_caption'])
                for v, r in videos.items()
            ], self.dump_file)
            logger.info(f'Captions of {len(videos)} videos written to '
                        f'{self.dump_file}')

        tokenizer = PTBTokenizer()
        gts = tokenizer.tokenize({
            v: [dict(caption=sanitize_caption(c)) for c in r['gt_captions']]
            for v, r in videos.items()
        })
        res = tokenizer.tokenize({
            v: [dict(caption=sanitize_caption(r['pred_caption']))]
            for v, r in videos.items()
        })
        return self._score(gts, res)

    def _score(self, gts: Dict[Any, List[str]],
               res: Dict[Any, List[str]]) -> Dict[str, float]:
        """Run the requested scorers on tokenised captions (x100)."""
        logger = MMLogger.get_current_instance()
        metrics = {}
        if 'bleu' in self.metrics:
            # BleuScorer prints its length statistics: keep them in the log.
            stdout = io.StringIO()
            with contextlib.redirect_stdout(stdout):
                bleu, _ = Bleu(4).compute_score(gts, res)
            logger.debug(f'BLEU statistics: {stdout.getvalue().strip()}')
            for key, value in zip(METRIC_KEYS['bleu'], bleu):
                metrics[key] = float(value) * 100
        if 'meteor' in self.metrics:
            metrics['METEOR'] = self._meteor(gts, res) * 100
        if 'rouge' in self.metrics:
            metrics['ROUGE-L'] = float(Rouge().compute_score(gts,
                                                             res)[0]) * 100
        if 'cider' in self.metrics:
            metrics['CIDEr'] = float(Cider().compute_score(gts, res)[0]) * 100
        return metrics

    @staticmethod
    def _meteor(gts: Dict[Any, List[str]], res: Dict[Any, List[str]]) -> float:
        """METEOR in a fresh JVM that is shut down right after."""
        scorer = Meteor()
        try:
            score, _ = scorer.compute_score(gts, res)
        except ValueError as e:
            # The jar answers a line it cannot parse (or dies, e.g. without
            # memory for -Xmx2G) with text that is not a float.
            raise RuntimeError(f'METEOR failed: {e}') from e
        finally:
            # Do not leave a 2 GB JVM behind until garbage collection.
            with contextlib.suppress(OSError):
                scorer.meteor_p.stdin.close()
            scorer.meteor_p.kill()
            scorer.meteor_p.wait()
            # compute_score keeps its lock when it raises; Meteor.__del__
            # would then block forever on it.
            if scorer.lock.locked():
                scorer.lock.release()
        return float(score)
