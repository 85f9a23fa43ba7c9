"""Compact storage of a video-caption table (no Python object per row).

:class:`PackedStrings` holds a string column as one utf-8 buffer and end
offsets; :class:`CaptionTable` holds the rows of
:class:`~stoavlp.datasets.VideoTextDataset` in such columns and maps items
(captions when training, videos in test mode) to them.
"""
from array import array
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np


class PackedStrings:
    """Strings as one ``uint8`` utf-8 buffer plus ``(N,)`` end offsets.

    Appended to while loading (a ``bytearray`` and an ``array``: 8 bytes of
    bookkeeping per string, no Python object), then frozen into numpy arrays
    that dataloader workers share with the main process copy-on-write.
    """

    def __init__(self, data: Optional[np.ndarray] = None,
                 ends: Optional[np.ndarray] = None):
        self._buf, self._ends = bytearray(), array('q')
        self.data, self.ends = data, ends

    def append(self, text: str) -> None:
        self._buf += text.encode('utf-8')
        self._ends.append(len(self._buf))

    def freeze(self) -> 'PackedStrings':
        if self.data is None:
            # a view: the array keeps the bytearray, no second copy
            self.data = np.frombuffer(self._buf, np.uint8) if self._buf \
                else np.zeros(0, np.uint8)
            # 4-byte offsets while the buffer is under 4 GiB
            dtype = np.uint32 if len(self.data) < 2**32 else np.int64
            self.ends = np.array(self._ends, dtype)
            self._buf, self._ends = None, None
        return self

    def __len__(self) -> int:
        return len(self._ends) if self.ends is None else len(self.ends)

    def __getitem__(self, i: int) -> str:
        start = int(self.ends[i - 1]) if i > 0 else 0
        return self.data[start:int(self.ends[i])].tobytes().decode('utf-8')

    def take(self, indices: np.ndarray) -> 'PackedStrings':
        """The strings at ``indices`` (any order, repeats allowed)."""
        ends = self.ends.astype(np.int64)
        starts = np.concatenate([[0], ends[:-1]])[indices]
        lengths = ends[indices] - starts
        new_ends = np.cumsum(lengths)
        total = int(new_ends[-1]) if len(new_ends) else 0
        # byte j of the new buffer comes from starts[k] + (j - new start k)
        pos = np.repeat(starts - (new_ends - lengths), lengths) + \
            np.arange(total)
        out = PackedStrings(self.data[pos], new_ends)
        out.ends = new_ends.astype(np.uint32 if total < 2**32 else np.int64)
        return out


class CaptionTable:
    """The rows: per-record columns (video, id, objects, start, end) and
    the captions. Training items are captions (``caption_record[i]`` is
    the record of caption ``i``; None: the identity); test items are
    records, whose captions are ``captions[cap_ends[r-1]:cap_ends[r]]``
    (rows of the same video and clip are merged into one record)."""

    def __init__(self, columns: dict, test_mode: bool):
        self.test_mode = test_mode
        self.videos = PackedStrings()
        self.video_ids = PackedStrings() if columns['video_id'] else None
        self.objects = PackedStrings() if columns['objects'] else None
        clips = columns['start'] or columns['end']
        self.start = array('d') if clips else None
        self.end = array('d') if clips else None
        self.captions = PackedStrings()
        self.caption_record = array('q')
        self.cap_ends = None
        self._identity = True
        self._keys = {} if test_mode else None  # test sets are small

    def add(self, video: str, video_id: Optional[str],
            objects: Optional[str], times: List[float],
            captions: List[str]) -> None:
        key = (video, video_id, *times)
        record = self._keys.get(key) if self._keys is not None else None
        if record is None:
            record = len(self.videos)
            if self._keys is not None:
                self._keys[key] = record
            self.videos.append(video)
            for column, value in ((self.video_ids, video_id),
                                  (self.objects, objects)):
                if column is not None:
                    column.append(value)
            if self.start is not None:
                self.start.append(times[0])
                self.end.append(times[1])
        self._identity &= len(captions) == 1  # train: record == row
        for caption in captions:
            self.captions.append(caption)
            self.caption_record.append(record)

    def freeze(self) -> 'CaptionTable':
        for column in (self.videos, self.video_ids, self.objects,
                       self.captions):
            if column is not None:
                column.freeze()
        if self.start is not None:
            self.start = np.array(self.start, np.float64)
            self.end = np.array(self.end, np.float64)
        records = np.array(self.caption_record, np.int64)
        if self.test_mode:  # group each record's captions, file order
            order = np.argsort(records, kind='stable')
            self.captions = self.captions.take(order)
            self.cap_ends = np.cumsum(np.bincount(
                records, minlength=len(self.videos)))
            self.caption_record = None
        else:
            self.caption_record = None if self._identity else \
                records.astype(np.int32 if len(self.videos) < 2**31
                               else np.int64)
        self._keys = None
        return self

    def __len__(self) -> int:
        return len(self.videos) if self.test_mode else len(self.captions)

    def item(self, i: int) -> Tuple[int, List[str]]:
        """``(record, captions)`` of item ``i``."""
        if self.test_mode:
            lo = int(self.cap_ends[i - 1]) if i > 0 else 0
            return i, [self.captions[c] for c in range(lo,
                                                       int(self.cap_ends[i]))]
        record = i if self.caption_record is None else \
            int(self.caption_record[i])
        return record, [self.captions[i]]

    def subset(self, indices: Union[Sequence[int], int]) -> 'CaptionTable':
        """The items at ``indices`` (an int: the first/last N, MMEngine's
        convention)."""
        n = len(self)
        if isinstance(indices, int):
            sel = np.arange(n)[:indices] if indices >= 0 \
                else np.arange(n)[indices:]
        else:
            sel = np.asarray(indices, np.int64).reshape(-1) % max(n, 1)
        out = CaptionTable.__new__(CaptionTable)
        out.__dict__.update(self.__dict__)
        if self.test_mode:
            records = sel
            ends = self.cap_ends
            starts = np.concatenate([[0], ends[:-1]])[sel]
            counts = ends[sel] - starts
            out.cap_ends = np.cumsum(counts)
            out.captions = self.captions.take(
                np.repeat(starts - (out.cap_ends - counts), counts) +
                np.arange(int(counts.sum())))
        else:
            owner = sel if self.caption_record is None else \
                self.caption_record[sel]
            records, inverse = np.unique(owner, return_inverse=True)
            out.captions = self.captions.take(sel)
            out.caption_record = None if np.array_equal(
                inverse, np.arange(len(sel))) else inverse.astype(np.int32)
        for name in ('videos', 'video_ids', 'objects'):
            if getattr(self, name) is not None:
                setattr(out, name, getattr(self, name).take(records))
        if self.start is not None:
            out.start, out.end = self.start[records], self.end[records]
        return out
