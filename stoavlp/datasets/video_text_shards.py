"""Pre-training pairs streamed from tar shards (``tools/data/make_shards.py``).

An epoch is a deterministic function of ``(seed, epoch)`` computed from the
shard index alone (:func:`epoch_positions`):

1. the shards are put in a random order (the same on every rank);
2. the concatenated items (one per text of each sample, as the file-based
   datasets give one item per caption) are cut into ``world_size``
   contiguous, equally long ranges, the last padded by wrapping around like
   ``DistributedSampler`` (every item once per epoch when ``world_size``
   divides the count);
3. a rank's range goes through a shuffle buffer (webdataset's: reads stay
   within a window of ``shuffle_buffer`` items, a few shards);
4. dataloader worker ``w`` of ``n`` decodes the batches ``w, w + n, ...``
   of that order, so the batches leave the ``DataLoader`` in the order a
   single process would give, and the number of batches is
   ``ceil(len(dataset) / batch_size)`` on every rank.

Because the order is a pure function, ``ResumableEpochBasedTrainLoop``
resumes mid-epoch exactly as with map-style datasets. Shards are read by
seeking (a local or shared filesystem; not an object store).
"""
import io
import json
import math
import multiprocessing
import os.path as osp
from collections import OrderedDict
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dist import get_dist_info
from mmengine.logging import MMLogger
from torch.utils.data import IterableDataset, get_worker_info

from stoavlp.registry import DATASETS
from . import in_memory_files
from .bad_samples import BadSampleError, GuardedPipeline
from .base import _attach_bad_samples
from .detection_files import DetectionFileError, Detections, _read_npz
from .shard_format import read_index, scan_shard, video_member

# readers whose bytes come from the shard, through in_memory_files
_READERS = ('DecordInit', 'PyAVInit', 'TorchCodecInit')


def shuffle_buffer_order(n: int, size: int,
                         rng: np.random.Generator) -> np.ndarray:
    """The order in which a shuffle buffer of ``size`` emits ``0..n-1``.

    Items enter in order; once the buffer is full, each new item makes a
    uniformly chosen buffered item leave; the rest leave shuffled at the
    end (webdataset's ``shuffle``).
    """
    if size <= 1 or n <= 1:
        return np.arange(n)
    buffer: List[int] = []
    out = np.empty(n, np.int64)
    k = 0
    for i in range(n):
        buffer.append(i)
        if len(buffer) >= size:
            j = int(rng.integers(len(buffer)))
            buffer[j], buffer[-1] = buffer[-1], buffer[j]
            out[k] = buffer.pop()
            k += 1
    rest = np.array(buffer, np.int64)
    rng.shuffle(rest)
    out[k:] = rest
    return out


def epoch_positions(items_per_shard: Sequence[int], epoch: int, seed: int,
                    rank: int, world_size: int, shuffle: bool = True,
                    shuffle_buffer: int = 1000,
                    drop_last: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """``(shard, item in shard)`` of every item rank ``rank`` trains on in
    ``epoch``, in training order (steps 1-3 of the module docstring)."""
    counts = np.asarray(items_per_shard, np.int64)
    total = int(counts.sum())
    order = np.arange(len(counts))
    if shuffle:
        order = np.random.default_rng([seed, epoch]).permutation(len(counts))
    per_rank = total // world_size if drop_last else \
        math.ceil(total / world_size)
    positions = (rank * per_rank + np.arange(per_rank)) % max(total, 1)
    ends = np.cumsum(counts[order])
    k = np.searchsorted(ends, positions, side='right')
    shards = order[k]
    items = positions - (ends[k] - counts[order][k])
    if shuffle:
        rng = np.random.default_rng([seed, epoch, rank, 1])
        perm = shuffle_buffer_order(per_rank, shuffle_buffer, rng)
        shards, items = shards[perm], items[perm]
    return shards, items


def worker_slice(num: int, batch_size: int, worker: int,
                 num_workers: int) -> np.ndarray:
    """Positions of ``0..num-1`` that worker ``worker`` decodes: whole
    batches ``worker, worker + num_workers, ...`` (step 4)."""
    batch = np.arange(num) // batch_size
    return np.flatnonzero(batch % num_workers == worker)


class _ShardReader:
    """Open tar files and their member tables, a few at a time (LRU)."""

    def __init__(self, paths: Sequence[str], max_open: int = 4):
        self.paths = list(paths)
        self.max_open = max_open
        self._open: 'OrderedDict[int, tuple]' = OrderedDict()

    def _shard(self, s: int):
        if s in self._open:
            self._open.move_to_end(s)
            return self._open[s]
        table = scan_shard(self.paths[s])
        entry = (open(self.paths[s], 'rb'), table)
        self._open[s] = entry
        if len(self._open) > self.max_open:
            self._open.popitem(last=False)[1][0].close()
        return entry

    def sample(self, s: int, j: int) -> Tuple[str, Dict[str, bytes]]:
        """Key and ``{extension: bytes}`` of sample ``j`` of shard ``s``."""
        handle, table = self._shard(s)
        key, members = table[j]
        data = {}
        for ext, (offset, size) in members.items():
            handle.seek(offset)
            data[ext] = handle.read(size)
        return key, data

    def close(self):
        for handle, _ in self._open.values():
            handle.close()
        self._open.clear()


@DATASETS.register_module()
class VideoTextShardDataset(IterableDataset):
    """Video-text pairs streamed from tar shards, split over ranks and
    dataloader workers, shuffled with a buffer, resumable.

    Items are those of the file-based dataset the shards were written from
    (one per caption, ``video_id``, ``text``, detections, clip range), plus
    the precomputed noun/verb tags (``text_tags``, used by ``TokenizeText``
    instead of running spaCy). The pipeline is the file-based one: its
    video readers are routed to the in-memory sample bytes.

    ``set_epoch(epoch, batch_size, seed)`` must be called before each epoch
    (``ShardEpochHook`` does it in a Runner; the values reach persistent
    workers through shared memory). The dataloader needs ``sampler=None``.

    Args:
        data_root (str): The shard folder (with ``index.json``).
        pipeline (list[dict]): Transforms, as for the file-based datasets.
        shuffle (bool): Shard order and shuffle buffer. Defaults to True.
        shuffle_buffer (int): Items in the shuffle buffer. Defaults to 1000.
        drop_last (bool): Cut ranks to ``floor(N / world_size)`` items
            instead of padding to ``ceil``. Defaults to False.
        seed (int, optional): Overrides the runner's seed for the order.
        min_frames (int, optional): See :class:`GuardedPipeline`.
        max_refetch (int): Consecutive bad items tolerated (each replaced
            by the worker's next good item; ``num_bad_samples`` counts the
            replaced items). Defaults to 10.
        max_open_shards (int): Tar files a worker keeps open. Defaults to 4.
    """

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence = (),
                 shuffle: bool = True,
                 shuffle_buffer: int = 1000,
                 drop_last: bool = False,
                 seed: Optional[int] = None,
                 min_frames: Optional[int] = None,
                 max_refetch: int = 10,
                 max_open_shards: int = 4,
                 test_mode: bool = False) -> None:
        if test_mode:
            raise ValueError(
                'VideoTextShardDataset streams training data; evaluate on '
                'the file-based datasets (a bad sample replaced by another '
                'would falsify a metric)')
        self.data_root = data_root
        self.index = read_index(data_root)
        self.shard_paths = [
            osp.join(data_root, s['name']) for s in self.index['shards']
        ]
        # per shard, the end of each sample's items (cumulative text counts)
        self.sample_ends = [
            np.cumsum(s['texts'], dtype=np.int64).astype(np.int32)
            for s in self.index['shards']
        ]
        self.items_per_shard = np.array(
            [int(e[-1]) if len(e) else 0 for e in self.sample_ends],
            np.int64)
        self.shard_starts = np.concatenate(
            [[0], np.cumsum(self.items_per_shard)[:-1]])
        if self.items_per_shard.sum() == 0:
            raise ValueError(f'{data_root}: the shards hold no samples')
        self.shuffle, self.shuffle_buffer = shuffle, shuffle_buffer
        self.drop_last, self.max_refetch = drop_last, max_refetch
        self.max_open_shards = max_open_shards
        self.pipeline = GuardedPipeline(
            _route_readers(pipeline), min_frames=min_frames)
        self.num_bad_samples = 0
        # epoch, batch size, seed, rank, world size: shared with the
        # (persistent) workers, which are not part of the process group
        self._state = multiprocessing.RawArray('q', [-1, 1, 0, 0, 1])
        self._fixed_seed = seed
        self._told_tags = False

    # -- what the Runner and samplers ask ----------------------------------
    @property
    def metainfo(self) -> dict:
        return dict(shards=len(self.shard_paths),
                    items=int(self.items_per_shard.sum()),
                    pos_tagger=self.index.get('pos_tagger'))

    def full_init(self) -> None:
        """Nothing to load: the index is read at construction."""

    def __len__(self) -> int:
        """Items this rank trains on per epoch."""
        _, world = get_dist_info()
        total = int(self.items_per_shard.sum())
        return total // world if self.drop_last else math.ceil(total / world)

    def set_epoch(self, epoch: int, batch_size: int = 1,
                  seed: Optional[int] = None) -> None:
        """Select the epoch's order; ``batch_size`` is the dataloader's (a
        worker decodes whole batches)."""
        seed = self._fixed_seed if self._fixed_seed is not None else seed
        rank, world = get_dist_info()
        self._state[:] = [int(epoch), int(batch_size), int(seed or 0), rank,
                          world]

    # -- iteration -----------------------------------------------------------
    def positions(self) -> Tuple[np.ndarray, np.ndarray]:
        """``(shard, item)`` pairs this worker yields this epoch, in order."""
        epoch, batch_size, seed, rank, world = list(self._state)
        if epoch < 0:
            raise RuntimeError(
                'VideoTextShardDataset.set_epoch() was not called: add '
                "custom_hooks=[dict(type='ShardEpochHook')] to the config "
                '(or call it before each epoch yourself)')
        shards, items = epoch_positions(
            self.items_per_shard, epoch, seed, rank, world, self.shuffle,
            self.shuffle_buffer, self.drop_last)
        info = get_worker_info()
        if info is not None:
            mine = worker_slice(len(shards), batch_size, info.id,
                                info.num_workers)
            shards, items = shards[mine], items[mine]
        return shards, items

    def __iter__(self) -> Iterator[dict]:
        shards, items = self.positions()
        reader = _ShardReader(self.shard_paths, self.max_open_shards)
        known_bad: Dict[Tuple[int, int], dict] = {}  # (shard, sample)
        try:
            for p in range(len(shards)):
                yield self._load(reader, shards, items, p, known_bad)
        finally:
            reader.close()

    def _load(self, reader, shards, items, p, known_bad) -> dict:
        """Item ``p`` of this worker's order; a bad one is counted, logged
        and replaced by the next good item (the epoch keeps its length, so
        ranks keep the same number of batches). A video that failed is not
        decoded again in this epoch."""
        skipped, bad_videos = [], set()
        for attempt in range(len(shards)):
            q = (p + attempt) % len(shards)
            s, i = int(shards[q]), int(items[q])
            sample = self._sample_of(s, i)[0]
            err, fresh = known_bad.get((s, sample)), False
            if err is None:
                try:
                    data = self.prepare_item(reader, s, i)
                except BadSampleError as e:
                    err = known_bad[(s, sample)] = e.as_dict()
                    fresh = True
                    MMLogger.get_current_instance().warning(
                        f'Skipping bad sample {e}')
            if err is None:
                if skipped:
                    _attach_bad_samples(data, skipped)
                return data
            if attempt == 0 or fresh:  # a replaced item, or a new failure
                self.num_bad_samples += 1
                skipped.append(err)
            bad_videos.add(err['path'])
            if len(bad_videos) > self.max_refetch:
                raise RuntimeError(
                    f'{len(bad_videos)} consecutive bad videos in '
                    f'{self.data_root}; last: {err["path"]} '
                    f'({err["reason"]})')
        raise RuntimeError(f'{self.data_root}: every sample is bad')

    def _sample_of(self, s: int, i: int) -> Tuple[int, int]:
        """(sample, text index) of item ``i`` of shard ``s``."""
        ends = self.sample_ends[s]
        sample = int(np.searchsorted(ends, i, side='right'))
        return sample, i - (int(ends[sample - 1]) if sample else 0)

    def item(self, reader: _ShardReader, s: int,
             i: int) -> Tuple[dict, bytes]:
        """The data item ``i`` of shard ``s`` and its video bytes."""
        sample, text_idx = self._sample_of(s, i)
        key, data = reader.sample(s, sample)
        where = f'{self.shard_paths[s]}/{key}'
        if 'json' not in data:
            raise BadSampleError(where, 'no .json member')
        meta = json.loads(data['json'])
        ext = video_member(data)
        if ext is None:
            raise BadSampleError(where, 'no video member')
        item = dict(
            video_id=meta['video_id'],
            filename=f'{where}.{ext}',
            objects_path=f'{where}.det.npz',
            text=meta['texts'][text_idx],
            sample_idx=int(self.shard_starts[s]) + i,
            start_index=0,
            modality='RGB')
        if meta.get('text_tags') is not None:
            item['text_tags'] = meta['text_tags'][text_idx]
            self._tell_tags_once()
        for key_name in ('clip_start', 'clip_end'):
            if meta.get(key_name) is not None:
                item[key_name] = meta[key_name]
        npz = data.get('det.npz')
        item['detections'] = None if npz is None else \
            _npz_detections(npz, item['objects_path'])
        return item, data[ext]

    def prepare_item(self, reader: _ShardReader, s: int, i: int) -> dict:
        item, video = self.item(reader, s, i)
        with in_memory_files.hold(item['filename'], video):
            return self.pipeline(item)

    def _tell_tags_once(self) -> None:
        if not self._told_tags:
            self._told_tags = True
            MMLogger.get_current_instance().info(
                f'{self.data_root}: noun/verb tags come from the shards '
                f'(spaCy model {self.index.get("pos_tagger")!r}, written by '
                "make_shards.py); the pipeline's tagger is not run")


def _npz_detections(data: bytes, name: str) -> Detections:
    try:
        return _read_npz(io.BytesIO(data))
    except DetectionFileError as e:
        raise BadSampleError(name, e.reason) from e


def _route_readers(pipeline: Sequence) -> List:
    """The pipeline with its video readers reading in-memory bytes."""
    routed = []
    for step in pipeline:
        if not isinstance(step, dict):
            raise TypeError(
                'VideoTextShardDataset needs its pipeline as config dicts '
                f'(to route the video readers to memory), got {step!r}')
        step = dict(step)
        if step.get('type') in _READERS:
            step['io_backend'] = in_memory_files.BACKEND
        routed.append(step)
    if not any(step.get('type') in _READERS for step in routed):
        raise ValueError(
            f'The pipeline has none of the readers {_READERS} that can read '
            'a sample from memory')
    return routed
