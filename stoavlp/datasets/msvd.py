"""MSVD (YouTube2Text): captioning and MSVD-QA.

Files: ``{train,val,test}_list.txt`` (clip names), captions as JSON
``{clip name: [captions]}`` (convert CLIP4Clip's ``raw-captions.pkl`` with
``tools/data/msvd/convert_raw_captions.py``), ``youtube_mapping.txt``
(``<clip name> vid<k>``) and MSVD-QA ``{train,val,test}_qa.json`` whose
``video_id`` is k. Videos are ``YouTubeClips/<clip name>.avi``.
"""
from typing import Dict, List

from stoavlp.registry import DATASETS
from .base import (AnnotationError, BaseVideoTextDataset, caption_items,
                   read_json, read_lines)
from .msrvtt import MSRVTTQADataset


def read_youtube_mapping(path: str) -> Dict[int, str]:
    """``k -> clip name`` from ``youtube_mapping.txt``."""
    mapping = {}
    for lineno, line in enumerate(read_lines(path), 1):
        fields = line.split()
        if len(fields) != 2 or not fields[1].startswith('vid') \
                or not fields[1][3:].isdigit():
            raise AnnotationError(path, f'line {lineno}',
                                  f'expected "<clip> vid<k>", got {line!r}')
        mapping[int(fields[1][3:])] = fields[0]
    return mapping


@DATASETS.register_module()
class MSVDCaptionDataset(BaseVideoTextDataset):
    """MSVD captioning (~40 references per clip).

    Args:
        ann_file (str): Split list, e.g. ``test_list.txt``.
        caption_file (str): ``{clip name: [captions]}`` JSON; a caption may
            also be a list of words (the pickle's layout).
        **kwargs: See :class:`BaseVideoTextDataset`.
    """

    def __init__(self, ann_file: str, caption_file: str, **kwargs) -> None:
        self.caption_file = caption_file
        kwargs.setdefault('video_ext', '.avi')
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        caption_file = self.resolve(self.caption_file)
        captions = read_json(caption_file)
        if not isinstance(captions, dict):
            raise AnnotationError(caption_file, 'top level',
                                  'expected {clip name: [captions]}')
        records = []
        for lineno, clip in enumerate(read_lines(self.ann_file), 1):
            if clip not in captions:
                raise AnnotationError(self.ann_file, f'line {lineno}',
                                      f'{clip} has no caption in '
                                      f'{caption_file}')
            texts = [c if isinstance(c, str) else ' '.join(c)
                     for c in captions[clip]]
            records.append((clip, clip, texts))
        return caption_items(self, records)


@DATASETS.register_module()
class MSVDQADataset(MSRVTTQADataset):
    """MSVD-QA: MSRVTT-QA layout with ``video_id`` k mapped to a clip name.

    Args:
        ann_file (str): ``*_qa.json``.
        mapping_file (str): ``youtube_mapping.txt``.
        **kwargs: See :class:`BaseVideoTextDataset`.
    """

    def __init__(self, ann_file: str, mapping_file: str, **kwargs) -> None:
        self.mapping_file = mapping_file
        kwargs.setdefault('video_ext', '.avi')
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        self._mapping = read_youtube_mapping(self.resolve(self.mapping_file))
        return super().load_data_list()

    def video_name(self, entry: dict) -> str:
        if 'video' in entry:
            return str(entry['video'])
        k = int(entry['video_id'])
        if k not in self._mapping:
            raise AnnotationError(self.ann_file, f'question {entry.get("id")}',
                                  f'video_id {k} not in {self.mapping_file}')
        return self._mapping[k]
