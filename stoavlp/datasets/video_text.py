"""VideoTextDataset: a video-caption corpus of any size from one table.

The table is a csv/tsv, jsonl (one object per line) or parquet file whose
column names are configurable. Its rows are kept compactly, never as one
Python dict per item: each string column is one utf-8 byte buffer with end
offsets, clip times are float64 arrays (:mod:`.caption_table`), and an item
dict is built on demand by :meth:`VideoTextDataset.get_data_info`.
Rows are streamed into those buffers while reading, so loading 10M rows
never holds 10M dicts either (docs/data_preparation.md has the figures).
"""
import json
import math
import os.path as osp
from string import Formatter
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from tqdm import tqdm

from stoavlp.registry import DATASETS
from .base import (VIDEO_EXTS, AnnotationError, BaseVideoTextDataset,
                   read_csv, require_keys)
from .caption_table import CaptionTable

DEFAULT_COLUMNS = dict(video='video', caption='caption', video_id=None,
                       start=None, end=None, objects=None)
FORMATS = {'.csv': 'csv', '.tsv': 'tsv', '.jsonl': 'jsonl',
           '.parquet': 'parquet'}


def parse_seconds(value, path: str, where: str, column: str
                  ) -> float:
    """Seconds from a number, ``'12.5'`` or ``'[H:]M:S[.f]'``; NaN if empty.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    try:
        if isinstance(value, str) and ':' in value:
            secs = 0.0
            for part in value.strip().split(':'):
                secs = secs * 60 + float(part)
            return secs
        return float(value)
    except ValueError:
        raise AnnotationError(path, where, f'column {column!r}: {value!r} is '
                              'not a time in seconds or [H:]M:S') from None


def read_rows(path: str, columns: Sequence[str], fmt: str,
              delimiter: Optional[str] = None
              ) -> Iterator[Tuple[str, Dict]]:
    """Yield ``(where, row)`` with the ``columns`` of every row of a table.

    ``where`` is ``'line N'`` (csv/tsv/jsonl, the file's line) or
    ``'row N'`` (parquet, first data row = 1). A missing column is an
    :class:`AnnotationError` naming the file, the row and the column.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file not found: {path}')
    if fmt in ('csv', 'tsv'):
        delimiter = delimiter or (',' if fmt == 'csv' else '\t')
        for lineno, row in read_csv(path, columns, delimiter=delimiter):
            yield f'line {lineno}', row
    elif fmt == 'jsonl':
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError as e:
                    raise AnnotationError(path, f'line {lineno}',
                                          e.msg) from e
                require_keys(entry, columns, path, f'line {lineno}')
                yield f'line {lineno}', entry
    elif fmt == 'parquet':
        import pyarrow as pa
        import pyarrow.parquet as pq
        table = pq.ParquetFile(path)
        missing = [c for c in columns if c not in table.schema_arrow.names]
        if missing:
            raise AnnotationError(path, 'schema',
                                  f'missing column(s) {missing}')
        row = 0
        # small single-threaded batches: few Python values alive at once
        for batch in table.iter_batches(
                batch_size=4096, use_threads=False,
                columns=list(dict.fromkeys(columns))):
            values = batch.to_pydict()  # one batch of Python values at a time
            for j in range(batch.num_rows):
                row += 1
                yield f'row {row}', {c: values[c][j] for c in columns}
        # arrow's allocator keeps freed batches for reuse otherwise
        pa.default_memory_pool().release_unused()
    else:
        raise ValueError(f'Unknown annotation format {fmt!r} for {path}; '
                         f'choose from {sorted(set(FORMATS.values()))}')


@DATASETS.register_module()
class VideoTextDataset(BaseVideoTextDataset):
    """A video-caption corpus from a csv/tsv, jsonl or parquet table.

    Each row names a video (a path column, or ``video_template`` filled from
    columns), one caption or several (a list in jsonl/parquet, or a csv
    field split by ``caption_sep``) and optionally a clip of it (``start``,
    ``end`` seconds; see :class:`~stoavlp.datasets.transforms.ClipRange`)
    and a detection file. Training (``test_mode=False``) gives one item per
    (row, caption); evaluation gives one item per video (or clip) whose
    ``text`` and ``gt_captions`` list the captions of all its rows.

    Items are those of :meth:`BaseVideoTextDataset.make_item` plus
    ``clip_start``/``clip_end`` for clips (``clip_end`` None: to the end).
    ``video_id`` is the ``video_id`` column, else the video name without its
    extension (with ``#t=start,end`` for clips).

    Args:
        ann_file (str): The table (relative to ``data_root``).
        columns (dict): Column names: ``video`` (path relative to the video
            folder), ``caption``, and optional ``video_id``, ``start``,
            ``end`` (seconds or ``[H:]M:S``), ``objects`` (detection file
            relative to the objects folder; by default it mirrors the
            video). Given keys override ``DEFAULT_COLUMNS``.
        video_template (str, optional): The video name from columns, e.g.
            WebVid's ``'{page_dir}/{videoid}'``; replaces ``columns.video``.
        file_format (str, optional): ``'csv'``, ``'tsv'``, ``'jsonl'`` or
            ``'parquet'``; by default from the extension.
        caption_sep (str, optional): Splits a csv caption field into
            several captions (e.g. ``'|'``). Defaults to None (one).
        delimiter (str, optional): csv field delimiter. Defaults to ``,``
            (``\\t`` for tsv).
        **kwargs: See :class:`BaseVideoTextDataset`; ``indices``,
            ``test_mode`` and ``get_subset`` work as in MMEngine. The rows
            are always stored compactly (``serialize_data`` has no effect;
            ``filter_cfg`` is not supported).
    """

    def __init__(self, ann_file: str, columns: Optional[dict] = None,
                 video_template: Optional[str] = None,
                 file_format: Optional[str] = None,
                 caption_sep: Optional[str] = None,
                 delimiter: Optional[str] = None, **kwargs) -> None:
        self.columns = dict(DEFAULT_COLUMNS, **(columns or {}))
        self.video_template = video_template
        self.file_format = file_format
        self.caption_sep = caption_sep
        self.delimiter = delimiter
        self._table = None
        super().__init__(ann_file=ann_file, **kwargs)

    # -- loading -----------------------------------------------------------
    def _needed_columns(self) -> List[str]:
        col = self.columns
        if self.video_template is not None:
            fields = [f for _, f, _, _ in Formatter().parse(
                self.video_template) if f]
        elif col['video']:
            fields = [col['video']]
        else:
            raise ValueError('VideoTextDataset needs columns["video"] or '
                             'video_template')
        names = [col['video_id']] + [col['caption']] + fields + \
            [col['start'], col['end'], col['objects']]
        return list(dict.fromkeys(n for n in names if n))

    def _video_name(self, row: Dict) -> str:
        if self.video_template is None:
            return str(row[self.columns['video']])
        name = self.video_template.format(**row)
        # an empty leading field ('{page_dir}/...') leaves a stray '/'
        return name if self.video_template.startswith('/') \
            else name.lstrip('/')

    def _captions(self, value, where: str) -> List[str]:
        if isinstance(value, (list, tuple)):
            captions = [str(c) for c in value]
        elif value is None:
            captions = []
        elif self.caption_sep is not None:
            captions = [c.strip() for c in str(value).split(self.caption_sep)
                        if c.strip()]
        else:
            captions = [str(value)]
        if not captions:
            raise AnnotationError(self.ann_file, where,
                                  f'no caption in column '
                                  f'{self.columns["caption"]!r}')
        return captions

    def load_data_list(self) -> List[dict]:
        """Unused: the rows go into compact columns (:meth:`full_init`)."""
        return []

    def full_init(self) -> None:
        """Stream the table into compact columns, then apply ``indices``."""
        if self._fully_initialized:
            return
        self._table = self._load_table()
        if self._indices is not None:
            self._table = self._table.subset(self._indices)
        self._fully_initialized = True

    def _load_table(self) -> 'CaptionTable':
        fmt = self.file_format or FORMATS.get(
            osp.splitext(self.ann_file)[1].lower(), 'csv')
        col = self.columns
        table = CaptionTable(col, self.test_mode)
        rows = read_rows(self.ann_file, self._needed_columns(), fmt,
                         self.delimiter)
        desc = f'Reading {osp.basename(self.ann_file)}'
        for where, row in tqdm(rows, desc=desc, unit=' rows',
                               mininterval=5, disable=None):
            times = [parse_seconds(row[col[k]], self.ann_file, where, col[k])
                     if col[k] else math.nan for k in ('start', 'end')]
            if times[0] >= times[1]:  # False with a NaN
                raise AnnotationError(self.ann_file, where,
                                      f'clip end {times[1]} s is not after '
                                      f'its start {times[0]} s')
            table.add(self._video_name(row),
                      str(row[col['video_id']]) if col['video_id'] else None,
                      str(row[col['objects']]) if col['objects'] else None,
                      times, self._captions(row[col['caption']], where))
        return table.freeze()

    # -- items -------------------------------------------------------------
    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self._table)

    def get_data_info(self, idx: int) -> dict:
        """The ``idx``-th item, built from the compact columns."""
        if not self._fully_initialized:
            self.full_init()
        n = len(self._table)
        if not -n <= idx < n:
            raise IndexError(f'index {idx} out of range for {n} items')
        idx = int(idx) % n
        t = self._table
        r, captions = t.item(idx)
        name = t.videos[r]
        start, end = (t.start[r], t.end[r]) if t.start is not None \
            else (math.nan, math.nan)
        clip = not (math.isnan(start) and math.isnan(end))
        if t.video_ids is not None:
            video_id = t.video_ids[r]
        else:
            stem = osp.splitext(name)[0] if osp.splitext(name)[1].lower() \
                in VIDEO_EXTS else name
            video_id = f'{stem}#t={_fmt(start)},{_fmt(end)}' if clip \
                else stem
        targets = dict(gt_captions=list(captions)) if self.test_mode else {}
        if clip:
            targets.update(clip_start=0.0 if math.isnan(start) else
                           float(start),
                           clip_end=None if math.isnan(end) else float(end))
        item = self.make_item(video_id, list(captions) if self.test_mode
                              else captions[0], name, **targets)
        objects = t.objects[r] if t.objects is not None else ''
        if objects:  # else the file mirroring the video
            item['objects_path'] = osp.join(self.data_prefix['objects'],
                                            objects)
        item['sample_idx'] = idx
        return item

    def get_subset_(self, indices: Union[Sequence[int], int]) -> None:
        if not self._fully_initialized:
            self.full_init()
        self._table = self._table.subset(indices)

    def get_subset(self, indices: Union[Sequence[int], int]
                   ) -> 'VideoTextDataset':
        if not self._fully_initialized:
            self.full_init()
        sub = self._copy_without_annotation()
        sub._table = self._table.subset(indices)
        return sub

    def _copy_without_annotation(self, memo=None) -> 'VideoTextDataset':
        table, self._table = self._table, None
        try:
            return super()._copy_without_annotation(memo or {})
        finally:
            self._table = table


def _fmt(seconds: float) -> str:
    return '' if math.isnan(seconds) else f'{seconds:g}'
