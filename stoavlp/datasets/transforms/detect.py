"""Objects detected in-process, for videos without detection files."""
from typing import Dict, Optional, Union

import numpy as np

from stoavlp.registry import TRANSFORMS
from ..detection_files import Detections
from .objects import LoadObjectDetections


@TRANSFORMS.register_module()
class DetectObjects(LoadObjectDetections):
    """Run an mmdet detector on the decoded sampled frames, then filter and
    align its boxes exactly as :class:`LoadObjectDetections` does with a
    detection file.

    The detector sees the frames the model sees (before any resize), the
    same path as ``tools/data/extract_objects.py``
    (:class:`~stoavlp.datasets.detector.FrameDetector`), so a pipeline with
    this transform gives the boxes of a pipeline reading that tool's files
    for the same frames. Put it where ``LoadObjectDetections`` stands, after
    the decoder.

    Required Keys:

        - imgs (list[np.ndarray]): T decoded frames ``(H, W, 3)`` RGB.
        - frame_inds (np.ndarray): ``(T,)`` their video frame indices.
        - total_frames (int)
        - original_shape (tuple): ``(h, w)``.

    Added Keys: those of :class:`LoadObjectDetections`.

    Args:
        detector (dict | FrameDetector): ``dict(config=..., checkpoint=...,
            device='cpu')`` of an mmdet detector, or a built one.
        topk (int): Boxes kept per frame before filtering. Defaults to 10.
        score_thr (float): Defaults to 0.
        batch_size (int): Frames per detector forward. Defaults to 12.
        **kwargs: :class:`LoadObjectDetections` options (``max_objects``,
            IoU thresholds, ``min_score``, ...).
    """

    def __init__(self, detector: Union[dict, object], topk: int = 10,
                 score_thr: float = 0.0, batch_size: int = 12,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(detector, dict):
            from ..detector import FrameDetector
            unknown = set(detector) - {'config', 'checkpoint', 'device'}
            if unknown or not {'config', 'checkpoint'} <= set(detector):
                raise ValueError(
                    'detector must be dict(config=..., checkpoint=..., '
                    f'device=...), got keys {sorted(detector)}')
            detector = FrameDetector(**detector)
        self.detector = detector
        self.topk, self.score_thr, self.batch_size = topk, score_thr, \
            batch_size

    def _detections(self, results: Dict) -> Optional[Detections]:
        from ..detector import detect_frames
        frames = [np.asarray(f) for f in results['imgs']]
        return detect_frames(self.detector, frames,
                             np.asarray(results['frame_inds']).reshape(-1),
                             self.topk, self.score_thr, self.batch_size)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(topk={self.topk}, '
                f'score_thr={self.score_thr}, '
                f'{super().__repr__().split("(", 1)[1]}')
