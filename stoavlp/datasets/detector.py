"""An mmdet detector over video frames: the one detection path of
``tools/data/extract_objects.py`` (files for training) and of
``DetectObjects`` (in-process at inference).

mmdet detectors need full mmcv (compiled ops); with mmcv-lite
:class:`FrameDetector` says so and points to ``tools/install_mmcv_full.sh``.
The detector checkpoint is external data: it is read with
``weights_only=True``.
"""
import os.path as osp
import warnings
from typing import List, Sequence, Tuple

import numpy as np

from .detection_files import Detections, uniform_frame_inds

MMCV_FULL_HINT = (
    'mmdet detectors need full mmcv with compiled ops, but `import mmcv.ops` '
    'fails here ({error}). This environment probably has mmcv-lite. Install '
    'full mmcv with:\n    bash tools/install_mmcv_full.sh   (about 12 min on '
    '2 cores; see the script)')


class FrameDetector:
    """An mmdet detector over batches of frames.

    Args:
        config (str): mmdet config file.
        checkpoint (str): Its weights, read with ``weights_only=True``.
        device (str): Torch device.
    """

    def __init__(self, config: str, checkpoint: str, device: str = 'cpu'):
        try:
            import mmcv.ops  # noqa: F401
        except ImportError as e:
            raise RuntimeError(MMCV_FULL_HINT.format(error=e)) from e
        from mmengine.registry import DefaultScope

        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'detector checkpoint {checkpoint}: no '
                                    'such file')
        # init_detector switches the process-wide default scope to mmdet;
        # build under a temporary scope so callers keep theirs
        with DefaultScope.overwrite_default_scope('mmdet'):
            self._build(config, checkpoint, device)

    def _build(self, config: str, checkpoint: str, device: str) -> None:
        from mmcv.transforms import Compose
        from mmdet.apis import init_detector
        from mmdet.utils import get_test_pipeline_cfg
        from mmengine.runner import load_state_dict

        from stoavlp.compat import load_external_checkpoint
        with warnings.catch_warnings():  # "no checkpoint": loaded below
            warnings.simplefilter('ignore', UserWarning)
            self.model = init_detector(config, None, device=device)
        ckpt = load_external_checkpoint(checkpoint)
        state = ckpt.get('state_dict', ckpt)
        load_state_dict(self.model, state, strict=True)
        self.classes = self._class_names(ckpt.get('meta') or {}, config)
        self.model.dataset_meta = dict(classes=tuple(self.classes))
        pipeline = get_test_pipeline_cfg(self.model.cfg.copy())
        # frames come as arrays; the prefix resolves the type from any scope
        pipeline[0].type = 'mmdet.LoadImageFromNDArray'
        self.pipeline = Compose(pipeline)

    def _class_names(self, meta: dict, config: str) -> List[str]:
        """The checkpoint's class names, else those of the config's test
        dataset (its ``metainfo`` or the dataset class's default)."""
        import copy

        from mmdet.registry import DATASETS
        classes = (meta.get('dataset_meta') or {}).get('classes') or meta.get(
            'CLASSES')
        if not classes:
            dataset_cfg = copy.deepcopy(self.model.cfg.test_dataloader.dataset)
            dataset_cfg['lazy_init'] = True  # only the metainfo is needed
            classes = DATASETS.build(dataset_cfg).metainfo.get('classes')
        if not classes:
            raise ValueError(f'{config}: the detector names no classes '
                             '(checkpoint meta or test dataset metainfo)')
        head = getattr(getattr(self.model, 'roi_head', self.model),
                       'bbox_head', None)  # one- and two-stage detectors
        num_classes = getattr(head, 'num_classes', len(classes))
        if len(classes) != num_classes:
            raise ValueError(f'{config}: {len(classes)} class names for a '
                             f'detector with {num_classes} classes')
        return [str(c) for c in classes]

    def __call__(self, frames_rgb: Sequence[np.ndarray], topk: int,
                 score_thr: float) -> List[Tuple[np.ndarray, ...]]:
        """Detect on ``F`` frames at once.

        Args:
            frames_rgb: ``F`` arrays ``(H, W, 3)`` uint8 RGB (decord order).

        Returns:
            Per frame ``(boxes (k, 4) float32 xyxy pixels, scores (k,),
            labels (k,) int64)``, the ``k <= topk`` best boxes above
            ``score_thr``, by descending score.
        """
        import torch
        batch = [
            self.pipeline(dict(img=np.ascontiguousarray(f[..., ::-1]),
                               img_id=i))  # mmdet expects BGR like cv2
            for i, f in enumerate(frames_rgb)
        ]
        data = dict(inputs=[b['inputs'] for b in batch],
                    data_samples=[b['data_samples'] for b in batch])
        with torch.no_grad():
            results = self.model.test_step(data)
        out = []
        for res in results:
            inst = res.pred_instances
            scores = inst.scores.cpu().numpy().astype(np.float32)
            keep = np.flatnonzero(scores >= score_thr)
            keep = keep[np.argsort(-scores[keep], kind='stable')][:topk]
            out.append((inst.bboxes.cpu().numpy()[keep].astype(np.float32),
                        scores[keep],
                        inst.labels.cpu().numpy()[keep].astype(np.int64)))
        return out


def decode_frames(path: str, num_frames: int):
    """``(frames (F, H, W, 3) RGB, frame_inds (F,), total_frames)``."""
    from mmaction.datasets.transforms import DecordDecode, DecordInit
    results = DecordInit()(dict(filename=path))
    total = int(results['total_frames'])
    if total < 1:
        raise ValueError('the video has no frames')
    inds = uniform_frame_inds(num_frames, total)
    results.update(frame_inds=inds, clip_len=num_frames, num_clips=1)
    results = DecordDecode()(results)
    return results['imgs'], inds, total


def detect_video(detector: FrameDetector, path: str, num_frames: int = 12,
                 topk: int = 10, score_thr: float = 0.0,
                 batch_size: int = 12) -> Detections:
    """Detect on the centres of ``num_frames`` equal segments of a video
    (what ``tools/data/extract_objects.py`` writes)."""
    frames, inds, _ = decode_frames(path, num_frames)
    return detect_frames(detector, frames, inds, topk, score_thr,
                         batch_size)


def detect_frames(detector: FrameDetector, frames: Sequence[np.ndarray],
                  frame_inds: np.ndarray, topk: int = 10,
                  score_thr: float = 0.0, batch_size: int = 12) -> Detections:
    """Detect on decoded frames ``(F, H, W, 3)`` RGB, the video frames
    ``frame_inds (F,)``; boxes in pixels of these frames."""
    per_frame = []
    for s in range(0, len(frames), batch_size):
        per_frame += detector(frames[s:s + batch_size], topk, score_thr)
    h, w = frames[0].shape[:2]
    return Detections(
        boxes=np.concatenate([p[0] for p in per_frame]).reshape(-1, 4),
        scores=np.concatenate([p[1] for p in per_frame]),
        labels=np.concatenate([p[2] for p in per_frame]),
        frames=np.concatenate(
            [np.full(len(p[1]), d, np.int64) for d, p in enumerate(per_frame)]),
        classes=detector.classes,
        num_frames=len(per_frame),
        frame_inds=np.asarray(frame_inds, np.int64),
        image_size=(w, h))
