"""Reading and writing per-video object detection files.

Three formats hold the same content, the detections of one video on some of
its frames. ``D`` below is the number of detected frames, ``P`` the total
number of boxes of the video.

1. Official STOA-VLP / VinVL JSON (``.json``, a list)::

       [{"objects": [{"class": "person", "rect": [x1, y1, x2, y2],
                      "conf": 0.93}, ...]},      # detection frame 0
        ...]                                     # detection frame D-1

   Only the list order says which video frame each entry belongs to: the
   ``D`` entries are taken to be uniformly spread over the video (the centre
   of each of ``D`` equal segments; see :func:`uniform_frame_inds`;
   :class:`LoadObjectDetections` warns once when ``D`` differs from the
   video's frame count). Entries that carry their video frame
   (``{"frame": 12, "objects": [...]}``, or another of :data:`FRAME_KEYS`,
   a common per-frame export) are placed by it: all entries or none.
   Extra keys (``attributes``, ``attr_scores``) are ignored.

2. Extended JSON (``.json``, a dict) written by stoavlp's tools::

       {"frame_inds": [0, 5, ...],              # video frame of each entry
        "image_size": [w, h],                   # frames the detector saw
        "video_frames": 320,                    # frames of that video
        "frames": [{"objects": [...]}, ...]}

3. Compact binary (``.npz``, no pickle): ``frame_inds (D,) int``,
   ``offsets (D+1,) int`` (boxes of frame ``d`` are rows
   ``offsets[d]:offsets[d+1]``), ``boxes (P, 4) float32``,
   ``scores (P,) float32``, ``labels (P,) int32`` indexing ``classes (C,) str``
   and optionally ``image_size (2,) int`` and ``video_frames () int``.
   Several times smaller and faster
   to read than JSON (``tools/analysis_tools/benchmark_pipeline.py``).

Boxes are ``[x1, y1, x2, y2]`` in pixels of the frames the detector saw
(``image_size`` when given, else the decoded video frames).

``video_frames`` is the frame count of the video the detector ran on. When
the decoded video has another count (re-encoded with an fps cap, e.g. by
``tools/data/compress_videos.py`` after extraction), ``frame_inds`` count
frames of that other video: :class:`LoadObjectDetections` then maps them by
relative position in time (:func:`rescale_frame_inds`). Without it the
frame indices are taken to be the decoded video's.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np


class DetectionFileError(ValueError):
    """A detection file exists but cannot be parsed; names the file."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f'Malformed detection file {path}: {reason}')


@dataclass
class Detections:
    """All detections of one video, flattened over frames.

    Attributes:
        boxes (np.ndarray): ``(P, 4)`` float32 ``x1, y1, x2, y2`` pixels.
        scores (np.ndarray): ``(P,)`` float32 detector confidences.
        labels (np.ndarray): ``(P,)`` int64 indices into ``classes``.
        frames (np.ndarray): ``(P,)`` int64 detection-frame index in
            ``[0, num_frames)``.
        classes (list[str]): Class names used by this file.
        num_frames (int): ``D``, the number of detected frames.
        frame_inds (np.ndarray | None): ``(D,)`` video frame index of each
            detection frame; None for the official list format.
        image_size (tuple[int, int] | None): ``(w, h)`` of the frames the
            detector saw; None means the decoded video frames.
        video_frames (int | None): Frame count of the video the detector
            ran on (``frame_inds`` index its frames); None: the decoded
            video's.
    """
    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    frames: np.ndarray
    classes: List[str]
    num_frames: int
    frame_inds: Optional[np.ndarray] = None
    image_size: Optional[Tuple[int, int]] = None
    video_frames: Optional[int] = None

    @classmethod
    def from_frames(cls,
                    frames: Sequence[Sequence[dict]],
                    frame_inds: Optional[Sequence[int]] = None,
                    image_size: Optional[Tuple[int, int]] = None,
                    path: str = '<memory>',
                    video_frames: Optional[int] = None) -> 'Detections':
        """Build from per-frame lists of ``{"class", "rect", "conf"}``."""
        classes, class_ids = [], {}
        boxes, scores, labels, frame_of = [], [], [], []
        for d, objects in enumerate(frames):
            if not isinstance(objects, (list, tuple)):
                raise DetectionFileError(
                    path, f'frame {d}: "objects" must be a list, got '
                    f'{type(objects).__name__}')
            for j, obj in enumerate(objects):
                try:
                    name = str(obj['class'])
                    rect = [float(v) for v in obj['rect']]
                    conf = float(obj['conf'])
                except (KeyError, TypeError, ValueError) as e:
                    raise DetectionFileError(
                        path, f'frame {d}, object {j}: needs "class", '
                        f'"rect" [x1,y1,x2,y2] and "conf" ({e!r})') from e
                if len(rect) != 4:
                    raise DetectionFileError(
                        path, f'frame {d}, object {j}: "rect" has '
                        f'{len(rect)} values, expected 4')
                if name not in class_ids:
                    class_ids[name] = len(classes)
                    classes.append(name)
                boxes.append(rect)
                scores.append(conf)
                labels.append(class_ids[name])
                frame_of.append(d)
        if frame_inds is not None:
            frame_inds = np.asarray(frame_inds, dtype=np.int64)
            if frame_inds.shape != (len(frames), ):
                raise DetectionFileError(
                    path, f'"frame_inds" has {frame_inds.size} entries for '
                    f'{len(frames)} frames')
        return cls(
            boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
            scores=np.asarray(scores, np.float32),
            labels=np.asarray(labels, np.int64),
            frames=np.asarray(frame_of, np.int64),
            classes=classes,
            num_frames=len(frames),
            frame_inds=frame_inds,
            image_size=None if image_size is None else
            (int(image_size[0]), int(image_size[1])),
            video_frames=_video_frames(video_frames, path))

    def to_frames(self) -> List[List[dict]]:
        """Per-frame lists of ``{"class", "rect", "conf"}`` dicts."""
        frames = [[] for _ in range(self.num_frames)]
        for box, score, label, d in zip(self.boxes, self.scores, self.labels,
                                        self.frames):
            frames[d].append({
                'class': self.classes[label],
                'rect': [round(float(v), 2) for v in box],
                'conf': round(float(score), 4)
            })
        return frames

    def video_frame_inds(self, total_frames: int) -> np.ndarray:
        """``(D,)`` frame index of every detection frame in a decoded video
        of ``total_frames`` frames (rescaled when the detector's video had
        another frame count, see :func:`rescale_frame_inds`)."""
        if self.frame_inds is None:
            return uniform_frame_inds(self.num_frames, total_frames)
        if self.video_frames is None or self.video_frames == total_frames:
            return self.frame_inds
        return rescale_frame_inds(self.frame_inds, self.video_frames,
                                  total_frames)


def rescale_frame_inds(frame_inds: np.ndarray, src_frames: int,
                       dst_frames: int) -> np.ndarray:
    """Frames of a ``src_frames`` video mapped to a re-encoded copy of the
    same duration with ``dst_frames`` frames (another fps).

    Frame ``i`` covers the time span ``[i, i + 1) / src_frames`` of the
    video; it maps to the copy's frame whose span holds its centre. Exact
    for an fps cap, where the copy keeps the first frame at or after each
    output tick.
    """
    centre = (np.asarray(frame_inds, np.float64) + 0.5) / max(src_frames, 1)
    return np.clip(np.floor(centre * dst_frames), 0,
                   max(dst_frames - 1, 0)).astype(np.int64)


def _video_frames(value, path: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise DetectionFileError(
            path, f'"video_frames" must be a frame count >= 1, got '
            f'{value!r}')
    return int(value)


def uniform_frame_inds(num_det_frames: int, total_frames: int) -> np.ndarray:
    """Video frames of ``D`` detection frames spread uniformly over a video.

    The centre of each of ``D`` equal segments; the identity when
    ``D == total_frames``.
    """
    d = np.arange(num_det_frames, dtype=np.float64)
    inds = np.floor((d + 0.5) * total_frames / max(num_det_frames, 1))
    return np.clip(inds, 0, max(total_frames - 1, 0)).astype(np.int64)


def read_detections(path: str) -> Detections:
    """Read a detection file in any of the three formats (by extension).

    Raises:
        FileNotFoundError: The file does not exist.
        DetectionFileError: The file exists but is malformed (names it).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Detection file not found: {path}')
    if path.endswith('.npz'):
        return _read_npz(path)
    try:
        with open(path, encoding='utf-8') as f:
            content = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DetectionFileError(path, f'not valid JSON ({e})') from e
    if isinstance(content, list):
        frames = [_frame_objects(entry, d, path)
                  for d, entry in enumerate(content)]
        return Detections.from_frames(
            frames, frame_inds=_entry_frame_inds(content, path), path=path)
    if isinstance(content, dict) and 'frames' in content:
        frames = [_frame_objects(entry, d, path)
                  for d, entry in enumerate(content['frames'])]
        frame_inds = content.get('frame_inds')
        if frame_inds is None:
            frame_inds = _entry_frame_inds(content['frames'], path)
        return Detections.from_frames(
            frames,
            frame_inds=frame_inds,
            image_size=content.get('image_size'),
            path=path,
            video_frames=content.get('video_frames'))
    raise DetectionFileError(
        path, 'expected a list of {"objects": [...]} or a dict with '
        '"frames"')


# Per-entry video frame keys of common per-frame exports (ours, VinVL-style
# dumps, mmdet/detectron2 inference scripts, CVAT/MOT-like tracks).
FRAME_KEYS = ('frame', 'frame_idx', 'frame_index', 'frame_id', 'frame_ind',
              'frame_no', 'frame_num', 'frame_number')


def _entry_frame_inds(entries: list, path: str) -> Optional[List[int]]:
    """The video frame of each entry when the entries say it (one of
    :data:`FRAME_KEYS`), else None (the official list: order only)."""
    found = [[k for k in FRAME_KEYS if k in entry] if isinstance(entry, dict)
             else [] for entry in entries]
    if not any(found):
        return None
    missing = [d for d, keys in enumerate(found) if not keys]
    if missing:
        raise DetectionFileError(
            path, f'entries {missing[:5]} have no frame index while others '
            f'have one ({found[[d for d, k in enumerate(found) if k][0]][0]!r}'
            '): every entry needs it, or none')
    inds = []
    for d, (entry, keys) in enumerate(zip(entries, found)):
        value = entry[keys[0]]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or value != int(value) or value < 0:
            raise DetectionFileError(
                path, f'entry {d}: "{keys[0]}" must be a frame index >= 0, '
                f'got {value!r}')
        inds.append(int(value))
    if len(set(inds)) != len(inds):
        dup = sorted({i for i in inds if inds.count(i) > 1})
        raise DetectionFileError(
            path, f'frame indices {dup[:5]} appear in more than one entry')
    return inds


def _frame_objects(entry, d: int, path: str) -> list:
    if not isinstance(entry, dict) or 'objects' not in entry:
        raise DetectionFileError(
            path, f'frame {d}: expected {{"objects": [...]}}, got '
            f'{str(entry)[:60]}')
    return entry['objects']


def _read_npz(path: str) -> Detections:
    try:
        with np.load(path, allow_pickle=False) as data:
            offsets = data['offsets'].astype(np.int64)
            boxes = data['boxes'].astype(np.float32).reshape(-1, 4)
            scores = data['scores'].astype(np.float32)
            labels = data['labels'].astype(np.int64)
            classes = [str(c) for c in data['classes']]
            frame_inds = data['frame_inds'].astype(np.int64) \
                if 'frame_inds' in data else None
            image_size = tuple(int(v) for v in data['image_size']) \
                if 'image_size' in data else None
            video_frames = int(data['video_frames']) \
                if 'video_frames' in data else None
    except (KeyError, ValueError, OSError) as e:
        raise DetectionFileError(path, f'bad npz content ({e})') from e
    num_frames = len(offsets) - 1
    if (num_frames < 0 or offsets[0] != 0 or offsets[-1] != len(boxes)
            or np.any(np.diff(offsets) < 0)):
        raise DetectionFileError(path, 'inconsistent "offsets"')
    if len(scores) != len(boxes) or len(labels) != len(boxes):
        raise DetectionFileError(path, 'boxes/scores/labels lengths differ')
    if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
        raise DetectionFileError(path, 'label index outside "classes"')
    if frame_inds is not None and len(frame_inds) != num_frames:
        raise DetectionFileError(path, '"frame_inds" length != frames')
    frames = np.repeat(np.arange(num_frames), np.diff(offsets))
    if image_size is not None and image_size[0] < 0:
        image_size = None
    return Detections(boxes, scores, labels, frames, classes, num_frames,
                      frame_inds, image_size,
                      _video_frames(video_frames, path))


def write_detections(path: str, detections: Detections) -> None:
    """Write ``detections`` as extended JSON or ``.npz`` (by extension).

    The file is written to a temporary name and renamed, so an interrupted
    write never leaves a truncated file behind.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    if path.endswith('.npz'):
        order = np.argsort(detections.frames, kind='stable')
        counts = np.bincount(
            detections.frames, minlength=detections.num_frames)
        arrays = dict(
            offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            boxes=detections.boxes[order].astype(np.float32),
            scores=detections.scores[order].astype(np.float32),
            labels=detections.labels[order].astype(np.int32),
            classes=np.asarray(detections.classes, dtype=np.str_))
        if detections.frame_inds is not None:
            arrays['frame_inds'] = np.asarray(detections.frame_inds, np.int64)
        if detections.image_size is not None:
            arrays['image_size'] = np.asarray(detections.image_size, np.int64)
        if detections.video_frames is not None:
            arrays['video_frames'] = np.asarray(detections.video_frames,
                                                np.int64)
        with open(tmp, 'wb') as f:
            # uncompressed: a few kB per video, read without decompressing
            np.savez(f, **arrays)
    else:
        content = {'frames': [{'objects': objs}
                              for objs in detections.to_frames()]}
        if detections.frame_inds is not None:
            content['frame_inds'] = [int(v) for v in detections.frame_inds]
        if detections.image_size is not None:
            content['image_size'] = list(detections.image_size)
        if detections.video_frames is not None:
            content['video_frames'] = int(detections.video_frames)
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(content, f, separators=(',', ':'))
    os.replace(tmp, path)
