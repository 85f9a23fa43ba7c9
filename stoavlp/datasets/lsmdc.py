"""LSMDC (movie description) text-video retrieval."""
from collections import OrderedDict
from typing import List

from stoavlp.registry import DATASETS
from .base import BaseVideoTextDataset, caption_items, read_csv

LSMDC_COLUMNS = ('clip_id', 'start_aligned', 'end_aligned', 'start_extracted',
                 'end_extracted', 'sentence')


@DATASETS.register_module()
class LSMDCRetrievalDataset(BaseVideoTextDataset):
    """LSMDC retrieval from the challenge's tab-separated files.

    ``LSMDC16_annos_training.csv`` / ``LSMDC16_annos_val.csv`` /
    ``LSMDC16_challenge_1000_publictect.csv``: no header, six fields
    (:data:`LSMDC_COLUMNS`), one caption per line.

    Args:
        ann_file (str): One of the files above.
        nested_by_movie (bool): Videos live in per-movie folders
            (``<movie>/<clip_id>.avi``, movie = clip id up to its last
            ``_``) as in the released ``avi/`` tree. Defaults to False
            (``<clip_id>.avi``).
        **kwargs: See :class:`BaseVideoTextDataset`.
    """

    def __init__(self, ann_file: str, nested_by_movie: bool = False,
                 **kwargs) -> None:
        self.nested_by_movie = nested_by_movie
        kwargs.setdefault('video_ext', '.avi')
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        records = OrderedDict()
        for _, row in read_csv(self.ann_file, LSMDC_COLUMNS, delimiter='\t',
                               header=False):
            records.setdefault(row['clip_id'], []).append(row['sentence'])
        return caption_items(self, [(clip, self._video_name(clip), captions)
                                    for clip, captions in records.items()])

    def _video_name(self, clip_id: str) -> str:
        if not self.nested_by_movie:
            return clip_id
        return f'{clip_id.rsplit("_", 1)[0]}/{clip_id}'
