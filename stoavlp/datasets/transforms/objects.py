"""Object detections in the data pipeline.

Two transforms bracket mmaction2's geometric transforms::

    DecordInit -> UniformSample -> DecordDecode
    -> LoadObjectDetections      # read, filter (official rules), align frames
    -> Resize -> CenterCrop -> Flip  (mmaction2, frames only)
    -> ProjectObjectBoxes        # boxes follow the frames exactly

Letters: T sampled frames, K boxes kept per frame, C classes in the clip.
"""
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional

import logging

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from stoavlp.registry import TRANSFORMS
from ..bad_samples import BadSampleError
from ..detection_files import (DetectionFileError, Detections,
                               read_detections)


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Areas of ``(..., 4)`` x1y1x2y2 boxes (zero for degenerate boxes)."""
    wh = np.clip(boxes[..., 2:] - boxes[..., :2], 0, None)
    return wh[..., 0] * wh[..., 1]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix ``(n, m)`` of x1y1x2y2 boxes ``a (n, 4)`` and ``b (m, 4)``.

    Uses the continuous-coordinate area ``(x2 - x1) * (y2 - y1)``, like the
    official ``get_iou``.
    """
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)  # (n, m)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def select_frame_objects(boxes: np.ndarray,
                         scores: np.ndarray,
                         labels: np.ndarray,
                         max_objects: int = 10,
                         same_class_iou: float = 0.2,
                         any_class_iou: float = 0.5,
                         distinct_classes: bool = True,
                         sort_by_score: bool = True) -> np.ndarray:
    """Pick the boxes of one frame the way the official release does.

    Candidates are visited in descending confidence (stable; with
    ``sort_by_score=False`` in file order, as the official loop does). A
    candidate is dropped when it overlaps an already kept box of its class
    with IoU >= ``same_class_iou`` or any kept box with IoU >=
    ``any_class_iou``. With ``distinct_classes=True`` (the official
    behaviour, "top-K distinct objects" in the paper) a class keeps only its
    first box, so a trajectory has at most one box per frame. Visiting stops
    after ``2 * max_objects`` kept boxes; of those the ``max_objects`` largest
    (stable on ties) are returned.

    Args:
        boxes (np.ndarray): ``(n, 4)`` x1y1x2y2.
        scores (np.ndarray): ``(n,)`` confidences.
        labels (np.ndarray): ``(n,)`` class ids.
        max_objects (int): K. Defaults to 10.
        same_class_iou (float): Defaults to 0.2.
        any_class_iou (float): Defaults to 0.5.
        distinct_classes (bool): Defaults to True.
        sort_by_score (bool): Defaults to True.

    Returns:
        np.ndarray: Indices into the inputs, largest box first, at most K.
    """
    n = len(boxes)
    if n == 0 or max_objects <= 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-scores, kind='stable') if sort_by_score \
        else np.arange(n)
    iou = box_iou(boxes, boxes)
    kept = []
    for i in order:
        same = [k for k in kept if labels[k] == labels[i]]
        if distinct_classes and same:
            continue
        if any(iou[i, k] >= same_class_iou for k in same):
            continue
        if any(iou[i, k] >= any_class_iou for k in kept):
            continue
        kept.append(i)
        if len(kept) == 2 * max_objects:
            break
    kept = np.asarray(kept, dtype=np.int64)
    # Stable sort by confidence, then stable sort by area: equal areas stay
    # in confidence order, exactly as the official pair of list.sort calls.
    kept = kept[np.argsort(-scores[kept], kind='stable')]
    by_area = np.argsort(-box_area(boxes[kept]), kind='stable')
    return kept[by_area[:max_objects]]


def nearest_detection_frames(sampled: np.ndarray,
                             detected: np.ndarray) -> np.ndarray:
    """For each sampled video frame, the detection frame closest in time.

    Args:
        sampled (np.ndarray): ``(T,)`` sampled video frame indices.
        detected (np.ndarray): ``(D,)`` video frame index of each detection
            frame (any order).

    Returns:
        np.ndarray: ``(T,)`` indices into ``detected`` (earlier on ties).
    """
    dist = np.abs(sampled[:, None].astype(np.int64) - detected[None, :])
    # argmin returns the first minimum; make "first" mean "earliest frame".
    by_time = np.argsort(detected, kind='stable')
    return by_time[np.argmin(dist[:, by_time], axis=1)]


_warned_uniform = False


def _warn_uniform_once(path: str, num_entries: int, total_frames: int):
    """Say once per process that detection frames are being placed by
    assumption (official list without frame indices, counts differ)."""
    global _warned_uniform
    if _warned_uniform:
        return
    _warned_uniform = True
    print_log(
        f'{path}: {num_entries} detection entries for a {total_frames}-frame '
        'video and no frame indices; assuming the official layout (entries '
        'uniformly spread over the video). If the detector ran on other '
        'frames (e.g. every 4th from the start), write each entry\'s frame '
        '("frame" key) or use the dict/npz formats with "frame_inds". '
        'Said once per process.', logger='current', level=logging.WARNING)


@TRANSFORMS.register_module()
class LoadObjectDetections(BaseTransform):
    """Read a video's detection file, filter it and align it to the frames.

    Each sampled frame takes the detection frame nearest in time (see
    :mod:`stoavlp.datasets.detection_files` for how detection frames map to
    video frames), filtered by :func:`select_frame_objects`. Boxes are
    rescaled from the detector's ``image_size`` to the decoded frames, and
    frame indices from the detector's ``video_frames`` to ``total_frames``
    (a copy re-encoded at another fps after extraction: mapped by time).

    Required Keys:

        - objects_path (str)
        - detections (Detections | None, optional): instead of reading
          ``objects_path`` (None: that file is missing)
        - frame_inds (np.ndarray): ``(T,)`` sampled frames.
        - total_frames (int)
        - original_shape (tuple): ``(h, w)`` of the decoded frames.

    Added Keys:

        - obj_boxes (np.ndarray): ``(T, K, 4)`` float32 x1y1x2y2 in pixels of
          the decoded frames; padding is 0.
        - obj_scores (np.ndarray): ``(T, K)`` float32.
        - obj_labels (np.ndarray): ``(T, K)`` int64 index into
          ``obj_classes``; padding is -1.
        - obj_mask (np.ndarray): ``(T, K)`` bool, True for a real box.
        - obj_classes (list[str]): class names of this clip.

    Args:
        max_objects (int): K, boxes per frame. Defaults to 10.
        same_class_iou (float): Defaults to 0.2.
        any_class_iou (float): Defaults to 0.5.
        distinct_classes (bool): One box per class per frame (official).
            Defaults to True.
        min_score (float): Ignore detections below this confidence.
            Defaults to 0.
        on_missing (str): A missing file is ``'error'`` (raise, naming the
            file), ``'empty'`` (no objects) or ``'skip'`` (a bad sample:
            logged, counted, replaced). Defaults to ``'error'``.
        on_malformed (str): ``'skip'`` or ``'error'``. Defaults to
            ``'skip'``.
        cache_size (int): Parsed detection files kept per worker (a video
            with many captions, e.g. MSR-VTT's 20, is read once per worker
            and epoch instead of once per caption); 0 disables. Defaults to
            128.
    """

    def __init__(self,
                 max_objects: int = 10,
                 same_class_iou: float = 0.2,
                 any_class_iou: float = 0.5,
                 distinct_classes: bool = True,
                 min_score: float = 0.0,
                 on_missing: str = 'error',
                 on_malformed: str = 'skip',
                 cache_size: int = 128) -> None:
        if on_missing not in ('error', 'empty', 'skip'):
            raise ValueError(f'on_missing must be "error", "empty" or '
                             f'"skip", got {on_missing!r}')
        if on_malformed not in ('error', 'skip'):
            raise ValueError(f'on_malformed must be "error" or "skip", got '
                             f'{on_malformed!r}')
        self.max_objects = max_objects
        self.same_class_iou = same_class_iou
        self.any_class_iou = any_class_iou
        self.distinct_classes = distinct_classes
        self.min_score = min_score
        self.on_missing = on_missing
        self.on_malformed = on_malformed
        self.cache_size = cache_size
        self._cache = OrderedDict()  # (path, mtime) -> Detections, LRU

    def _read(self, path: str) -> Optional[Detections]:
        if not osp.isfile(path):
            if self.on_missing == 'empty':
                return None
            if self.on_missing == 'skip':
                raise BadSampleError(path, 'detection file not found')
            raise FileNotFoundError(
                f'Detection file not found: {path} (set '
                'LoadObjectDetections(on_missing="empty") to train without '
                'objects for such videos, or "skip" to skip them)')
        key = (path, os.stat(path).st_mtime_ns)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            dets = read_detections(path)
        except DetectionFileError as e:
            if self.on_malformed == 'skip':
                raise BadSampleError(path, e.reason) from e
            raise
        if self.cache_size > 0:
            self._cache[key] = dets
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return dets

    def _detections(self, results: Dict) -> Optional[Detections]:
        """The clip's detections (None: no objects). Datasets that hold
        them in memory (tar shards) pass them as ``detections``; ``None``
        there is a missing file."""
        if 'detections' not in results:
            return self._read(results['objects_path'])
        if results['detections'] is not None:
            return results['detections']
        return self._read(results['objects_path'])  # missing: the policy

    def transform(self, results: Dict) -> Dict:
        frame_inds = np.asarray(results['frame_inds']).reshape(-1)
        num_frames, k = len(frame_inds), self.max_objects
        boxes = np.zeros((num_frames, k, 4), np.float32)
        scores = np.zeros((num_frames, k), np.float32)
        labels = np.full((num_frames, k), -1, np.int64)
        classes = []

        dets = self._detections(results)
        if dets is not None and dets.num_frames > 0:
            if dets.image_size is not None:
                h, w = results['original_shape']
                scale = np.array([w / dets.image_size[0],
                                  h / dets.image_size[1]] * 2, np.float32)
            else:
                scale = np.ones(4, np.float32)
            # the whole video's frame count: ClipRange narrows total_frames
            # to a clip, while frame_inds and detections stay absolute
            total = results.get('video_total_frames', results['total_frames'])
            if dets.frame_inds is None and dets.num_frames != total:
                _warn_uniform_once(results['objects_path'], dets.num_frames,
                                   total)
            det_frames = nearest_detection_frames(
                frame_inds, dets.video_frame_inds(total))
            # rows of each detection frame: one sort instead of a scan of
            # every box per sampled frame
            order = np.argsort(dets.frames, kind='stable')
            bounds = np.searchsorted(dets.frames[order],
                                     np.arange(dets.num_frames + 1))
            selected = {}  # detection frame -> chosen rows (reused)
            local_ids = {}
            for t, d in enumerate(det_frames):
                if d not in selected:
                    rows = order[bounds[d]:bounds[d + 1]]
                    rows = rows[dets.scores[rows] >= self.min_score]
                    pick = select_frame_objects(
                        dets.boxes[rows], dets.scores[rows],
                        dets.labels[rows], k, self.same_class_iou,
                        self.any_class_iou, self.distinct_classes)
                    selected[d] = rows[pick]
                rows = selected[d]
                n = len(rows)
                boxes[t, :n] = dets.boxes[rows] * scale
                scores[t, :n] = dets.scores[rows]
                for j, label in enumerate(dets.labels[rows]):
                    if label not in local_ids:
                        local_ids[label] = len(classes)
                        classes.append(dets.classes[label])
                    labels[t, j] = local_ids[label]

        results['obj_boxes'] = boxes
        results['obj_scores'] = scores
        results['obj_labels'] = labels
        results['obj_mask'] = labels >= 0
        results['obj_classes'] = classes
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_objects={self.max_objects}, '
                f'same_class_iou={self.same_class_iou}, '
                f'any_class_iou={self.any_class_iou}, '
                f'distinct_classes={self.distinct_classes}, '
                f'min_score={self.min_score}, on_missing={self.on_missing!r}'
                f', on_malformed={self.on_malformed!r}, '
                f'cache_size={self.cache_size})')


@TRANSFORMS.register_module()
class ProjectObjectBoxes(BaseTransform):
    """Move boxes from the decoded frames onto the transformed frames.

    mmaction2's ``Resize``/``CenterCrop``/``RandomCrop``/``RandomResizedCrop``
    /``MultiScaleCrop`` record the crop as ``crop_quadruple`` (normalised
    ``x, y, w, h`` of the decoded frame) and ``Flip`` records ``flip`` and
    ``flip_direction``; resizes keep normalised coordinates. So any chain of
    those, with ``Flip`` last (mmaction2's own rule for lazy mode, checked
    when the dataset is built), maps a box exactly like the frame pixels:
    ``x' = (x / w0 - cx) / cw * W``, then clipped to the frame and mirrored.

    Boxes left with width or height below ``min_size`` pixels (e.g. cropped
    away) are dropped. Finally the clip's classes are renumbered by summed
    confidence over the remaining boxes, so the top-N trajectory classes are
    simply labels ``0..N-1``.

    Required Keys:

        - obj_boxes, obj_scores, obj_labels, obj_mask, obj_classes
        - original_shape, img_shape
        - crop_quadruple (optional), flip (optional), flip_direction
          (optional)

    Modified Keys:

        - obj_boxes (np.ndarray): ``(T, K, 4)`` in pixels of the final frames.
        - obj_labels, obj_mask, obj_scores, obj_classes (classes sorted by
          summed confidence, descending; ties by first appearance)

    Added Keys:

        - obj_class_conf (np.ndarray): ``(C,)`` float32 summed confidence of
          each class over the clip, descending.

    Args:
        min_size (float): Minimum visible width and height in pixels.
            Defaults to 1.
    """

    def __init__(self, min_size: float = 1.0) -> None:
        self.min_size = min_size

    def transform(self, results: Dict) -> Dict:
        boxes = results['obj_boxes'].astype(np.float64)
        mask = results['obj_mask'].copy()
        h0, w0 = results['original_shape']
        h, w = results['img_shape']
        cx, cy, cw, ch = results.get('crop_quadruple', (0., 0., 1., 1.))
        x = (boxes[..., 0::2] / w0 - cx) / cw * w
        y = (boxes[..., 1::2] / h0 - cy) / ch * h
        x, y = np.clip(x, 0, w), np.clip(y, 0, h)
        if results.get('flip', False):
            if results.get('flip_direction', 'horizontal') == 'horizontal':
                x = w - x[..., ::-1]
            else:
                y = h - y[..., ::-1]
        boxes = np.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], -1)
        mask &= ((boxes[..., 2] - boxes[..., 0]) >= self.min_size) & \
            ((boxes[..., 3] - boxes[..., 1]) >= self.min_size)

        labels = np.where(mask, results['obj_labels'], -1)
        scores = np.where(mask, results['obj_scores'], 0).astype(np.float32)
        num_classes = len(results['obj_classes'])
        conf = np.bincount(labels[mask], weights=scores[mask],
                           minlength=num_classes)
        # Classes sorted by summed confidence; classes with no box left go.
        order = np.argsort(-conf, kind='stable')
        order = order[conf[order] > 0] if mask.any() else order[:0]
        new_id = np.full(num_classes + 1, -1, np.int64)
        new_id[order] = np.arange(len(order))
        results['obj_boxes'] = np.where(mask[..., None], boxes,
                                        0).astype(np.float32)
        results['obj_labels'] = new_id[labels]  # -1 maps to new_id[-1] = -1
        results['obj_mask'] = mask
        results['obj_scores'] = scores
        results['obj_classes'] = [results['obj_classes'][i] for i in order]
        results['obj_class_conf'] = conf[order].astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(min_size={self.min_size})'
