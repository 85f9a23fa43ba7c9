"""Objects at inference from an mmdet detector run in-process: the boxes
``tools/data/extract_objects.py`` writes for the same video.

Needs full mmcv (skipped without it, except where
``STOAVLP_REQUIRE_MMCV_FULL=1``: CI).
"""
import importlib
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch

from stoavlp.apis import VideoCaptionInferencer, init_model
from stoavlp.testing.detector import (MMCV_FULL_SKIP_REASON,
                                      mmcv_full_missing)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CAPTION = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                   'stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py')
CLASSES = ('circle', 'square', 'triangle', 'star', 'person')


needs_mmcv_full = pytest.mark.skipif(mmcv_full_missing(),
                                     reason=MMCV_FULL_SKIP_REASON)


def paths_of(folder, names):
    return [str(folder / n) for n in names]


class FrameStatsDetector:
    """A stand-in detector without mmdet: boxes from each frame's content
    (its brightest pixel), so a wrong frame or a wrong order shows."""
    classes = list(CLASSES)

    def __call__(self, frames, topk, score_thr):
        out = []
        for frame in frames:
            gray = frame.astype(np.float32).mean(-1)
            y, x = np.unravel_index(gray.argmax(), gray.shape)
            boxes = np.array([[x - 8, y - 8, x + 8, y + 8],
                              [0, 0, x + 1, y + 1]], np.float32)
            scores = np.array([gray.max() / 255, 0.5], np.float32)
            out.append((boxes, scores, np.array([1, 3], np.int64)))
        return out


def num_frames(video):
    """Every frame: the file then holds a detection for each frame the
    model may sample (mmaction2's test-mode ``UniformSample`` and the
    tool's segment centres pick different frames of a 16-frame clip)."""
    import decord
    return len(decord.VideoReader(video))


def test_in_process_detections_equal_the_written_files(demo_root, tmp_path):
    """``DetectObjects`` and ``extract_objects.py`` share one detection path
    (``stoavlp.datasets.detector``): the same detector on the same frames
    gives the same filtered, aligned boxes (runs without full mmcv)."""
    from stoavlp.datasets.detection_files import write_detections
    from stoavlp.datasets.detector import detect_video
    detector = FrameStatsDetector()
    videos = [osp.join(demo_root, 'videos', f'video{i}.mp4') for i in (0, 1)]
    objects = tmp_path / 'objects'
    objects.mkdir()
    for video in videos:
        stem = osp.splitext(osp.basename(video))[0]
        write_detections(str(objects / f'{stem}.npz'), detect_video(
            detector, video, num_frames=num_frames(video)))
    torch.manual_seed(0)
    model = init_model(CAPTION)
    from_files = VideoCaptionInferencer(
        model, objects_dir=str(objects), show_progress=False)(
            videos, return_datasamples=True)['predictions']
    in_process = VideoCaptionInferencer(
        model, detector=detector, show_progress=False)(
            videos, return_datasamples=True)['predictions']
    for a, b in zip(from_files, in_process):
        assert a.obj_mask.sum() > 0
        for key in ('obj_boxes', 'obj_scores', 'obj_labels', 'obj_mask'):
            torch.testing.assert_close(a.get(key), b.get(key), rtol=0,
                                       atol=1e-5)
        assert a.obj_classes == b.obj_classes == ['square', 'star']
        assert a.pred_caption == b.pred_caption


@needs_mmcv_full
def test_detector_path_gives_the_boxes_of_extract_objects(demo_root,
                                                          tmp_path):
    from stoavlp.testing.detector import write_tiny_detector
    det_config, det_ckpt = write_tiny_detector(str(tmp_path / 'det'),
                                               CLASSES)
    videos = tmp_path / 'videos'
    videos.mkdir()
    names = ['video0.mp4', 'video1.mp4']
    for name in names:
        os.symlink(osp.join(demo_root, 'videos', name), videos / name)
    sys.path.insert(0, osp.join(ROOT, 'tools', 'data'))
    tool = importlib.import_module('extract_objects')
    counts = tool.main([det_config, det_ckpt, '--videos', str(videos),
                        '--out', str(tmp_path / 'objects'), '--num-frames',
                        str(num_frames(paths_of(videos, names)[0])),
                        '--topk', '10', '--batch-size', '1'])
    assert counts['done'] == 2
    torch.manual_seed(0)
    model = init_model(CAPTION)
    paths = paths_of(videos, names)
    from_files = VideoCaptionInferencer(
        model, objects_dir=str(tmp_path / 'objects'), show_progress=False)(
            paths, return_datasamples=True)['predictions']
    in_process = VideoCaptionInferencer(
        # one frame a forward on both sides: the same computation per frame
        model, detector=dict(config=det_config, checkpoint=det_ckpt,
                             batch_size=1),
        show_progress=False)(paths, return_datasamples=True)['predictions']
    for a, b in zip(from_files, in_process):
        assert a.obj_mask.any()  # a random detector still finds boxes
        np.testing.assert_array_equal(a.frame_inds, b.frame_inds)
        for key in ('obj_boxes', 'obj_scores', 'obj_labels', 'obj_mask'):
            torch.testing.assert_close(a.get(key), b.get(key), rtol=1e-5,
                                       atol=1e-4)
        assert a.obj_classes == b.obj_classes
        assert a.pred_caption == b.pred_caption
