"""Clips cut from long videos: restrict frame sampling to a time range.

An item with ``clip_start``/``clip_end`` (seconds, e.g. from
:class:`~stoavlp.datasets.VideoTextDataset`'s ``start``/``end`` columns) is
the part of its video in ``[clip_start, clip_end)``. Placed right after the
reader's Init step, :class:`ClipRange` turns that range into the two keys
every mmaction2 sampler reads: ``total_frames`` (frames of the clip) and
``start_index`` (its first frame), so ``UniformSample``/``SampleFrames``
return absolute ``frame_inds`` inside the clip and the decoder reads only
those frames.
"""
import math
from typing import Dict, Optional

from mmcv.transforms import BaseTransform

from stoavlp.registry import TRANSFORMS
from ..bad_samples import BadSampleError


def reader_fps(results: Dict) -> Optional[float]:
    """The video's frame rate: ``avg_fps`` (DecordInit, TorchCodecInit) or,
    after PyAVInit (which sets none), the PyAV stream's average rate."""
    fps = results.get('avg_fps')
    if fps:
        return float(fps)
    reader = results.get('video_reader')
    streams = getattr(reader, 'streams', None)
    if streams is not None and streams.video and \
            streams.video[0].average_rate:
        return float(streams.video[0].average_rate)
    if hasattr(reader, 'get_avg_fps'):
        return float(reader.get_avg_fps())
    return None


def clip_frame_range(start: Optional[float], end: Optional[float],
                     fps: float, total_frames: int):
    """``[first, stop)`` frame indices whose timestamps ``i / fps`` lie in
    ``[start, end)``, cut to the video (None: from the start / to the end).
    """
    eps = 1e-6  # 1.0 s * 10 fps must be frame 10, not 11 (float rounding)
    first = 0 if start is None else math.ceil(start * fps - eps)
    stop = total_frames if end is None else math.ceil(end * fps - eps)
    return max(first, 0), min(stop, total_frames)


@TRANSFORMS.register_module()
class ClipRange(BaseTransform):
    """Sample frames only from the item's ``[clip_start, clip_end)`` seconds.

    A no-op for items without ``clip_start``/``clip_end`` (whole videos), so
    it sits in every pipeline right after the reader's Init step
    (``DecordInit``, ``PyAVInit``, ``TorchCodecInit``)::

        DecordInit -> ClipRange -> UniformSample -> DecordDecode -> ...

    Frame ``i`` is taken to be shown at ``i / fps`` (constant frame rate).
    ``frame_inds`` stay absolute video frame indices, so
    ``LoadObjectDetections`` aligns detections by the same frames as for a
    whole video. A range holding no frame of the video is a bad sample; a
    clip shorter than the sampler's ``clip_len`` is one too under
    :class:`~stoavlp.datasets.GuardedPipeline`'s ``min_frames`` check (this
    transform counts as a reader there).

    Required Keys:

        - total_frames (int): frames of the video (the Init step's).
        - start_index (int): the video's first frame index (0).
        - avg_fps (float, optional) or video_reader (PyAV container)
        - clip_start (float | None, optional): seconds.
        - clip_end (float | None, optional): seconds.

    Modified Keys:

        - total_frames (int): frames of the clip.
        - start_index (int): absolute index of the clip's first frame.

    Added Keys:

        - video_total_frames (int): frames of the whole video.
        - clip_frame_range (tuple[int, int]): ``(first, stop)`` frames.
    """

    def transform(self, results: Dict) -> Dict:
        start, end = results.get('clip_start'), results.get('clip_end')
        if (start is None and end is None) or 'clip_frame_range' in results:
            return results
        name = results.get('filename', results.get('video_id', '<video>'))
        fps = reader_fps(results)
        if not fps:
            raise BadSampleError(name, 'no frame rate to cut the clip '
                                 f'{start}-{end} s by')
        total = int(results['total_frames'])
        first, stop = clip_frame_range(start, end, fps, total)
        if stop <= first:
            raise BadSampleError(
                name, f'clip {start}-{end} s holds no frame of the '
                f'{total}-frame video ({fps:g} fps)')
        results['video_total_frames'] = total
        results['clip_frame_range'] = (first, stop)
        results['start_index'] = results.get('start_index', 0) + first
        results['total_frames'] = stop - first
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
