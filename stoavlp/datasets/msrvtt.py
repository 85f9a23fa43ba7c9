"""MSR-VTT: retrieval, captioning, open-ended QA and multiple choice.

Files (as distributed by CLIP4Clip, MSRVTT-QA and VindLU/mmaction2):

- ``MSRVTT_data.json``: ``videos: [{video_id, split}]``,
  ``sentences: [{video_id, caption, sen_id}]`` (20 captions per video).
- ``MSRVTT_train.9k.csv`` / ``MSRVTT_train.7k.csv``: column ``video_id``.
- ``MSRVTT_JSFUSION_test.csv``: ``key, vid_key, video_id, sentence`` (1k-A).
- MSRVTT-QA ``{train,val,test}_qa.json``: ``[{question, answer, video_id
  (int N for videoN), id}]``; the VindLU layout ``[{video: "videoN.mp4",
  question, answer, question_id}]`` is read too.
- MSR-VTT MC ``[{video: "videoN.mp4", caption: [5 options], answer: int}]``.
"""
from collections import OrderedDict
from typing import List, Optional, Sequence, Union

from stoavlp.registry import DATASETS
from .answer_vocab import build_answer_vocab, normalize_answer
from .base import (AnnotationError, BaseVideoTextDataset, caption_items,
                   read_csv, read_json, require_keys)

MSRVTT_SPLITS = ('train', 'validate', 'test')


def read_msrvtt_captions(path: str) -> 'OrderedDict[str, List[str]]':
    """``video_id -> captions`` from ``MSRVTT_data.json`` (file order)."""
    content = read_json(path)
    require_keys(content, ['sentences'], path, 'top level')
    captions = OrderedDict()
    for i, sentence in enumerate(content['sentences']):
        require_keys(sentence, ['video_id', 'caption'], path,
                     f'sentences[{i}]')
        captions.setdefault(str(sentence['video_id']),
                            []).append(str(sentence['caption']))
    return captions


@DATASETS.register_module()
class MSRVTTRetrievalDataset(BaseVideoTextDataset):
    """MSR-VTT text-video retrieval (9k/7k train, 1k-A test).

    Training reads a video list (``MSRVTT_train.9k.csv``) and takes every
    caption of those videos from ``caption_file`` (``MSRVTT_data.json``),
    one item per pair. The 1k-A test csv carries its own sentence per video.
    Evaluation items are one per video with ``text`` listing its captions.

    Args:
        ann_file (str): The CLIP4Clip csv.
        caption_file (str, optional): ``MSRVTT_data.json``; required when
            ``ann_file`` has no ``sentence`` column.
        **kwargs: See :class:`BaseVideoTextDataset`.
    """

    def __init__(self, ann_file: str, caption_file: Optional[str] = None,
                 **kwargs) -> None:
        self.caption_file = caption_file
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        if self.caption_file is None:
            records = OrderedDict()
            for _, row in read_csv(self.ann_file, ['video_id', 'sentence']):
                records.setdefault(row['video_id'], []).append(row['sentence'])
        else:
            caption_file = self.resolve(self.caption_file)
            all_captions = read_msrvtt_captions(caption_file)
            records = OrderedDict()
            for lineno, row in read_csv(self.ann_file, ['video_id']):
                if row['video_id'] not in all_captions:
                    raise AnnotationError(
                        self.ann_file, f'line {lineno}',
                        f'video {row["video_id"]} has no caption in '
                        f'{caption_file}')
                records[row['video_id']] = all_captions[row['video_id']]
        return caption_items(self, [(v, v, c) for v, c in records.items()])


@DATASETS.register_module()
class MSRVTTCaptionDataset(BaseVideoTextDataset):
    """MSR-VTT captioning from ``MSRVTT_data.json`` and its ``split`` field.

    The standard split: train = ``train`` (6513 videos, or with
    ``validate`` 7010), test = ``test`` (video7010..video9999, 2990 videos,
    ~20 references each). Training items are (video, caption) pairs;
    evaluation items are videos with all references in ``gt_captions``.

    Args:
        ann_file (str): ``MSRVTT_data.json``.
        split (str | Sequence[str]): Subset(s) of ``train``, ``validate``,
            ``test``.
        **kwargs: See :class:`BaseVideoTextDataset`.
    """

    def __init__(self, ann_file: str,
                 split: Union[str, Sequence[str]] = 'train',
                 **kwargs) -> None:
        self.splits = (split, ) if isinstance(split, str) else tuple(split)
        bad = [s for s in self.splits if s not in MSRVTT_SPLITS]
        if bad:
            raise ValueError(f'Unknown MSR-VTT split(s) {bad}; choose from '
                             f'{MSRVTT_SPLITS}')
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        content = read_json(self.ann_file)
        require_keys(content, ['videos', 'sentences'], self.ann_file,
                     'top level')
        videos = []
        for i, video in enumerate(content['videos']):
            require_keys(video, ['video_id', 'split'], self.ann_file,
                         f'videos[{i}]')
            if video['split'] in self.splits:
                videos.append(str(video['video_id']))
        captions = read_msrvtt_captions(self.ann_file)
        missing = [v for v in videos if v not in captions]
        if missing:
            raise AnnotationError(self.ann_file, 'sentences',
                                  f'no caption for videos {missing[:5]}')
        return caption_items(self, [(v, v, captions[v]) for v in videos])


@DATASETS.register_module()
class MSRVTTQADataset(BaseVideoTextDataset):
    """Open-ended video QA in the MSRVTT-QA layout (MSVD-QA subclasses it).

    Items: ``text`` = the question, targets ``question``, ``answer`` (str)
    and, with ``answer_vocab``, ``answer_label`` (the class index, -1 for
    an answer outside the vocabulary).

    Args:
        ann_file (str): A ``*_qa.json`` list.
        answer_vocab (dict, optional): ``dict(ann_file=..., size=...)`` of
            :func:`~stoavlp.datasets.answer_vocab.build_answer_vocab`: the
            training answers (relative to ``data_root``); ``size`` is the QA
            head's ``num_classes``. The answers are the dataset's
            ``metainfo['answers']``.
        **kwargs: See :class:`BaseVideoTextDataset`.
    """

    def __init__(self, ann_file: str, answer_vocab: Optional[dict] = None,
                 **kwargs) -> None:
        self.answer_vocab = answer_vocab
        super().__init__(ann_file=ann_file, **kwargs)

    def _answer_labels(self) -> dict:
        if not self.answer_vocab:
            return {}
        path = self.resolve(self.answer_vocab['ann_file'])
        size = self.answer_vocab['size']
        answers = build_answer_vocab(path, size)
        if len(answers) < size:
            raise ValueError(
                f'answer_vocab size={size}, but {path} holds only '
                f'{len(answers)} distinct answers: set size={len(answers)} '
                '(and the QA head\'s num_classes to match)')
        # the class names; MMEngine saves them in checkpoints (dataset_meta)
        self._metainfo['answers'] = tuple(answers)
        return {a: i for i, a in enumerate(answers)}

    def video_name(self, entry: dict) -> str:
        """Video name of a QA entry (``video_id`` N -> ``videoN``)."""
        if 'video' in entry:
            return str(entry['video'])
        return f'video{entry["video_id"]}'

    def load_data_list(self) -> List[dict]:
        content = read_json(self.ann_file)
        if not isinstance(content, list):
            raise AnnotationError(self.ann_file, 'top level',
                                  'expected a list of QA entries')
        labels = self._answer_labels()
        items = []
        for i, entry in enumerate(content):
            where = f'entry {i}'
            require_keys(entry, ['question', 'answer'], self.ann_file, where)
            if 'video' not in entry and 'video_id' not in entry:
                raise AnnotationError(self.ann_file, where,
                                      'needs "video_id" or "video"')
            name = self.video_name(entry)
            video_id = name.rsplit('.', 1)[0] if '.' in name else name
            items.append(
                self.make_item(
                    video_id,
                    str(entry['question']),
                    name,
                    question=str(entry['question']),
                    answer=str(entry['answer']),
                    question_id=entry.get('id', entry.get('question_id', i)),
                    **({'answer_label': labels.get(
                        normalize_answer(entry['answer']), -1)}
                       if labels else {})))
        return items


@DATASETS.register_module()
class MSRVTTMCDataset(BaseVideoTextDataset):
    """MSR-VTT multiple choice: pick the true caption among 5.

    Items: ``text`` = the candidate captions (list), target ``mc_label``.
    """

    def load_data_list(self) -> List[dict]:
        content = read_json(self.ann_file)
        if not isinstance(content, list):
            raise AnnotationError(self.ann_file, 'top level',
                                  'expected a list of MC entries')
        items = []
        for i, entry in enumerate(content):
            where = f'entry {i}'
            require_keys(entry, ['video', 'caption', 'answer'], self.ann_file,
                         where)
            options = entry['caption']
            if not isinstance(options, list) or len(options) < 2:
                raise AnnotationError(self.ann_file, where,
                                      '"caption" must list the options')
            answer = entry['answer']
            if not isinstance(answer, int) or not 0 <= answer < len(options):
                raise AnnotationError(
                    self.ann_file, where,
                    f'"answer" {answer!r} is not an option index')
            name = str(entry['video'])
            extra = {}
            if 'kinds' in entry:  # optional: what each option is (demo)
                extra['mc_option_kinds'] = [str(k) for k in entry['kinds']]
            items.append(
                self.make_item(
                    name.rsplit('.', 1)[0], [str(o) for o in options], name,
                    mc_label=answer, **extra))
        return items
