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

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CAPTION = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                   'stoavlp_tiny-u8-res112_1xb16-3e_demo-caption.py')
CLASSES = ('circle', 'square', 'triangle', 'star', 'person')


def _has_mmcv_ops():
    try:
        import mmcv.ops  # noqa: F401
        return True
    except ImportError:
        return False


pytestmark = pytest.mark.skipif(
    not _has_mmcv_ops() and os.environ.get('STOAVLP_REQUIRE_MMCV_FULL') != '1',
    reason='full mmcv is not installed (bash tools/install_mmcv_full.sh)')


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
    # the frames the demo model samples: 8, the segment centres
    counts = tool.main([det_config, det_ckpt, '--videos', str(videos),
                        '--out', str(tmp_path / 'objects'),
                        '--num-frames', '8', '--topk', '10'])
    assert counts['done'] == 2
    torch.manual_seed(0)
    model = init_model(CAPTION)
    paths = [str(videos / n) for n in names]
    from_files = VideoCaptionInferencer(
        model, objects_dir=str(tmp_path / 'objects'), show_progress=False)(
            paths, return_datasamples=True)['predictions']
    in_process = VideoCaptionInferencer(
        model, detector=dict(config=det_config, checkpoint=det_ckpt),
        show_progress=False)(paths, return_datasamples=True)['predictions']
    for a, b in zip(from_files, in_process):
        assert a.obj_mask.any()  # a random detector still finds boxes
        np.testing.assert_array_equal(a.frame_inds, b.frame_inds)
        for key in ('obj_boxes', 'obj_scores', 'obj_labels', 'obj_mask'):
            torch.testing.assert_close(a.get(key), b.get(key), rtol=1e-5,
                                       atol=1e-4)
        assert a.obj_classes == b.obj_classes
        assert a.pred_caption == b.pred_caption
