"""Shared base of every stoavlp video-text dataset.

What it owns: paths (videos and detection files under ``data_prefix``),
annotation reading that fails with the file and line, and the bad-sample
policy (see :mod:`stoavlp.datasets.bad_samples`).

Every data item is a dict with at least ``video_id`` (str), ``filename``
(video path), ``objects_path`` (detection file path) and ``text`` (str, or a
list of str for items with several texts) plus the task's targets.
"""
import csv
import json
import os.path as osp
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from .bad_samples import BadSampleError, GuardedPipeline

# the video containers stoavlp finds in folders and strips from names
VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v')


class AnnotationError(ValueError):
    """A malformed annotation file; names the file and line (or entry)."""

    def __init__(self, path: str, where: Any, reason: str):
        self.path, self.where, self.reason = path, where, reason
        super().__init__(f'{path}, {where}: {reason}')


def read_json(path: str) -> Any:
    """Load a JSON annotation file, naming it in any error."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise AnnotationError(path, f'line {e.lineno}', e.msg) from e


def read_csv(path: str,
             columns: Sequence[str],
             delimiter: str = ',',
             header: bool = True) -> Iterator[Tuple[int, Dict[str, str]]]:
    """Yield ``(line number, row)`` of a csv file with ``columns``.

    With ``header=True`` the named columns must be present in the header
    (others are ignored); without, every line must have exactly
    ``len(columns)`` fields. Blank lines are skipped.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file not found: {path}')
    with open(path, encoding='utf-8', newline='') as f:
        reader = csv.reader(f, delimiter=delimiter, quotechar='"' if
                            delimiter == ',' else None)
        if header:
            head = next(reader, None)
            missing = [c for c in columns if head is None or c not in head]
            if missing:
                raise AnnotationError(path, 'line 1',
                                      f'missing column(s) {missing}')
            index = [head.index(c) for c in columns]
            width = len(head)
        for row in reader:
            lineno = reader.line_num
            if not row or not any(field.strip() for field in row):
                continue
            if header:
                if len(row) != width:
                    raise AnnotationError(
                        path, f'line {lineno}',
                        f'{len(row)} fields, header has {width}')
                yield lineno, {c: row[i] for c, i in zip(columns, index)}
            else:
                if len(row) != len(columns):
                    raise AnnotationError(
                        path, f'line {lineno}', f'{len(row)} fields, '
                        f'expected {len(columns)} ({", ".join(columns)})')
                yield lineno, dict(zip(columns, row))


def read_lines(path: str) -> List[str]:
    """Non-empty stripped lines of a text file (e.g. split lists)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Annotation file not found: {path}')
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def require_keys(entry: Any, keys: Sequence[str], path: str,
                 where: Any) -> None:
    """Check that a JSON entry is a dict holding ``keys``."""
    if not isinstance(entry, dict):
        raise AnnotationError(path, where,
                              f'expected an object, got {str(entry)[:80]}')
    missing = [k for k in keys if k not in entry]
    if missing:
        raise AnnotationError(path, where, f'missing key(s) {missing}')


class BaseVideoTextDataset(BaseDataset):
    """Base class of the video-text datasets.

    Subclasses implement :meth:`load_data_list` and build items with
    :meth:`make_item`.

    Args:
        ann_file (str): Main annotation file (relative to ``data_root``).
        pipeline (list[dict | callable]): Transforms.
        data_root (str): Root of annotation files, videos and detections.
        data_prefix (dict): ``video`` and ``objects`` folders (relative to
            ``data_root``). Defaults to ``dict(video='', objects='')``.
        video_ext (str): Appended to video names that have none.
            Defaults to ``'.mp4'``.
        objects_ext (str): Detection file suffix, e.g. ``'.json'`` or
            ``'.npz'``; detection files mirror the video paths.
            Defaults to ``'.json'``.
        min_frames (int, optional): Shorter videos are bad samples. By
            default the pipeline sampler's ``clip_len`` (fewer frames would
            repeat frames; see :class:`GuardedPipeline`); 1 accepts them.
        max_refetch (int): Consecutive bad samples tolerated before giving
            up with an error. Defaults to 10.
        test_mode (bool): Evaluation items; a bad sample is then an error
            (a replaced test video would falsify the metric).
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence = (),
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 video_ext: str = '.mp4',
                 objects_ext: str = '.json',
                 min_frames: Optional[int] = None,
                 max_refetch: int = 10,
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.video_ext = video_ext
        self.objects_ext = objects_ext
        self.num_bad_samples = 0  # in this process; see BadSampleHook
        prefix = dict(video='', objects='')
        prefix.update(data_prefix or {})
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=prefix,
            pipeline=[],
            test_mode=test_mode,
            max_refetch=max_refetch,
            **kwargs)
        self.pipeline = GuardedPipeline(pipeline, min_frames=min_frames)

    # -- paths -------------------------------------------------------------
    def resolve(self, path: str) -> str:
        """An extra annotation file's path, relative to ``data_root``."""
        return path if osp.isabs(path) else osp.join(self.data_root, path)

    def video_path(self, name: str) -> str:
        """Path of a video given its name relative to the video folder."""
        if not osp.splitext(name)[1]:
            name = name + self.video_ext
        return osp.join(self.data_prefix['video'], name)

    def objects_path(self, name: str) -> str:
        """Detection file mirroring the video ``name`` (extension dropped)."""
        stem = osp.splitext(name)[0] if osp.splitext(name)[1] in \
            VIDEO_EXTS else name
        return osp.join(self.data_prefix['objects'], stem + self.objects_ext)

    def make_item(self, video_id: str, text: Any, video_name: str = None,
                  **targets) -> Dict[str, Any]:
        """One data item: ids, paths, text(s) and task targets."""
        video_name = video_name or video_id
        return dict(
            video_id=video_id,
            filename=self.video_path(video_name),
            objects_path=self.objects_path(video_name),
            text=text,
            # what mmaction2's samplers and geometric transforms expect
            start_index=0,
            modality='RGB',
            **targets)

    # -- bad samples -------------------------------------------------------
    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        skipped = []
        for _ in range(self.max_refetch + 1):
            try:
                data = self.prepare_data(idx)
            except BadSampleError as err:
                if self.test_mode:
                    raise
                self.num_bad_samples += 1
                skipped.append(err.as_dict())
                MMLogger.get_current_instance().warning(
                    f'Skipping bad sample {idx} ({err}); '
                    f'{self.num_bad_samples} skipped so far in this process')
                idx = self._rand_another()
                continue
            if skipped:
                _attach_bad_samples(data, skipped)
            return data
        raise RuntimeError(
            f'{len(skipped)} consecutive bad samples in {self.ann_file}; '
            f'last: {skipped[-1]["path"]} ({skipped[-1]["reason"]}). Check '
            'the video and detection folders in data_prefix.')


def _attach_bad_samples(data: dict, skipped: List[dict]) -> None:
    samples = data.get('data_samples') if isinstance(data, dict) else None
    if samples is not None and hasattr(samples, 'set_metainfo'):
        samples.set_metainfo({'bad_samples': skipped})
    else:
        data['bad_samples'] = skipped


def caption_items(dataset: BaseVideoTextDataset,
                  records: Sequence[Tuple[str, str, List[str]]]) -> List[dict]:
    """Items of a dataset whose videos have one or more captions.

    Training (``test_mode=False``) gives one item per (video, caption) pair;
    evaluation gives one item per video whose ``text`` and ``gt_captions``
    list all its captions (a multi-caption video is one gallery entry).

    Args:
        dataset (BaseVideoTextDataset): Supplies paths and the mode.
        records (Sequence[tuple]): ``(video_id, video_name, captions)``.
    """
    items = []
    for video_id, video_name, captions in records:
        if dataset.test_mode:
            items.append(
                dataset.make_item(
                    video_id, list(captions), video_name,
                    gt_captions=list(captions)))
        else:
            items.extend(
                dataset.make_item(video_id, caption, video_name)
                for caption in captions)
    return items
