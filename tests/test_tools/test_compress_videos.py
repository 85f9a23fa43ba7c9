"""tools/data/compress_videos.py: size, fps, keyframes, resuming, bad
inputs, and detection boxes that stay on their objects after compression."""
import importlib
import json
import os
import os.path as osp
import shutil
import sys

import av
import numpy as np
import pytest
from mmcv.transforms import Compose

from stoavlp.datasets.demo.video import write_mp4
from stoavlp.datasets.detection_files import (read_detections,
                                              rescale_frame_inds,
                                              write_detections)
from stoavlp.datasets.transforms.objects import box_iou

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_tool():
    # importable by name, so that --workers' processes can unpickle _job
    tools_data = osp.join(ROOT, 'tools', 'data')
    if tools_data not in sys.path:
        sys.path.insert(0, tools_data)
    return importlib.import_module('compress_videos')


tool = _load_tool()


def _probe(path):
    """``(w, h, fps, per-packet keyframe flags, frames (T, H, W, 3))``."""
    with av.open(path) as c:
        s = c.streams.video[0]
        keys = [p.is_keyframe for p in c.demux(s) if p.size]
    with av.open(path) as c:
        s = c.streams.video[0]
        frames = np.stack([f.to_ndarray(format='rgb24')
                           for f in c.decode(s)])
        return (s.codec_context.width, s.codec_context.height,
                float(s.average_rate), keys, frames)


def _counter_clip(path, n=30, fps=30, size=(96, 64)):
    """Frame ``i`` is flat grey ``8 * i``: decoded frames name their
    source frame (a reference independent of the tool's own arithmetic)."""
    w, h = size
    frames = np.repeat((8 * np.arange(n, dtype=np.uint8))[:, None, None,
                                                          None],
                       h * w * 3).reshape(n, h, w, 3)
    write_mp4(path, frames, fps, crf=0)


def test_size_fps_frames_and_keyframes(tmp_path):
    src = tmp_path / 'src'
    os.makedirs(src / 'sub')
    _counter_clip(str(src / 'sub' / 'a.mp4'))
    tool.main([str(src), str(tmp_path / 'dst'), '--short-side', '32',
               '--max-fps', '10', '--gop', '4', '--crf', '0'])
    w, h, fps, keys, frames = _probe(str(tmp_path / 'dst' / 'sub' / 'a.mp4'))
    assert (w, h, fps) == (48, 32, 10.0)  # 96x64 -> short side 32
    assert len(frames) == 10  # 1 s at 30 fps capped to 10 fps
    assert keys == [i % 4 == 0 for i in range(10)]
    # output frame j is input frame 3j (first frame at or after j / 10 s) ...
    src_of = np.round(frames[:, h // 2, w // 2, 0] / 8).astype(int)
    np.testing.assert_array_equal(src_of, 3 * np.arange(10))
    # ... which is where detections of that input frame are mapped
    np.testing.assert_array_equal(rescale_frame_inds(src_of, 30, 10),
                                  np.arange(10))
    # every input frame maps to the output frame covering its time
    np.testing.assert_array_equal(rescale_frame_inds(np.arange(30), 30, 10),
                                  np.arange(30) // 3)


def test_no_upscale_and_fps_kept_without_cap(tmp_path):
    _counter_clip(str(tmp_path / 'a.mp4'), n=12, fps=12, size=(40, 30))
    (tmp_path / 'list.txt').write_text('a.mp4\n')
    tool.main([str(tmp_path / 'list.txt'), str(tmp_path / 'dst')])
    w, h, fps, _, frames = _probe(str(tmp_path / 'dst' / 'a.mp4'))
    assert (w, h, fps, len(frames)) == (40, 30, 12.0, 12)


def test_resume_and_bad_inputs(demo_root, tmp_path):
    src = tmp_path / 'src'
    os.makedirs(src)
    names = sorted(os.listdir(osp.join(demo_root, 'videos')))[:4]
    for n in names:
        shutil.copy(osp.join(demo_root, 'videos', n), src / n)
    (src / 'broken.mp4').write_bytes(b'\x00not a video' * 50)
    dst = tmp_path / 'dst'
    os.makedirs(dst)
    # a killed run's temporary output is not a finished file
    (dst / (names[0] + tool.TMP_TAG + '123.mp4')).write_bytes(b'partial')
    args = [str(src), str(dst), '--short-side', '60', '--max-fps', '5',
            '--workers', '2']
    first = tool.main(args)
    assert first == dict(done=4, skipped=0, failed=1)
    failed = (dst / 'failed.txt').read_text().splitlines()
    assert len(failed) == 1 and failed[0].startswith(str(src / 'broken.mp4'))
    assert 'InvalidDataError' in failed[0]
    for n in names:
        assert _probe(str(dst / n))[:2] == (80, 60)
    mtime = os.stat(dst / names[1]).st_mtime_ns
    os.remove(dst / names[0])  # lost since: redone, the others skipped
    second = tool.main(args)
    assert second == dict(done=1, skipped=3, failed=1)
    assert os.stat(dst / names[1]).st_mtime_ns == mtime


def _pipeline(size):
    return Compose([
        dict(type='DecordInit'),
        dict(type='UniformSample', clip_len=4, test_mode=True),
        dict(type='DecordDecode'),
        # confidence >= 0.5: the demo's simulated false positives go
        dict(type='LoadObjectDetections', max_objects=5, min_score=0.5),
        dict(type='Resize', scale=(-1, size)),
        dict(type='CenterCrop', crop_size=size),
        dict(type='ProjectObjectBoxes'),
    ])


def _matched_objects(results, gt, gt_frames, size):
    """``{(t, class): (gt object, IoU)}`` for every projected box, against
    the true boxes at raw frames ``gt_frames (T,)`` projected by hand."""
    gw, gh = gt['image_size']
    # Resize(-1, size) then CenterCrop(size), in raw-frame pixels
    scale = size / min(gw, gh)
    off = np.array([(gw * scale - size) / 2, (gh * scale - size) / 2] * 2)
    true = np.array([o['boxes'] for o in gt['objects']], np.float64)
    out = {}
    for t, f in enumerate(gt_frames):
        ref = np.clip(true[:, f] * scale - off, 0, size)  # (O, 4)
        for k in np.flatnonzero(results['obj_mask'][t]):
            box = results['obj_boxes'][t, k][None].astype(np.float64)
            iou = box_iou(box, ref)[0]
            name = results['obj_classes'][results['obj_labels'][t, k]]
            out[(t, name)] = (int(iou.argmax()), float(iou.max()))
    return out


def test_boxes_land_on_the_same_objects_after_compression(demo_root,
                                                          tmp_path):
    meta = json.load(open(osp.join(demo_root, 'meta.json')))
    clip = next(c for c in meta['clips']
                if any(o['action'].startswith('move') for o in c['objects']))
    raw = osp.join(demo_root, clip['video'])
    gt = json.load(open(osp.join(demo_root, clip['gt_boxes'])))
    # the detection file as extract_objects.py writes it: with the frame
    # count of the video the detector saw
    dets = read_detections(osp.join(demo_root, clip['detections']))
    total = len(gt['frame_inds'])
    dets.video_frames = total
    det_path = str(tmp_path / 'dets.npz')
    write_detections(det_path, dets)
    small = str(tmp_path / 'small.mp4')
    src_fps = meta['params']['fps']
    # 160x120 at 10 fps -> 80x60 at 5 fps: half the size, half the frames
    tool.compress_video(raw, small, short_side=60, max_fps=src_fps / 2)
    assert _probe(small)[:2] == (80, 60)

    size = 56
    out_raw = _pipeline(size)(dict(filename=raw, objects_path=det_path,
                                   start_index=0))
    out_small = _pipeline(size)(dict(filename=small, objects_path=det_path,
                                     start_index=0))
    assert out_small['total_frames'] * 2 == out_raw['total_frames'] == total
    # compressed frame j is raw frame 2j (the fps cap keeps the first frame
    # at or after each output tick; checked in the first test)
    raw_match = _matched_objects(out_raw, gt, out_raw['frame_inds'], size)
    small_match = _matched_objects(out_small, gt,
                                   2 * out_small['frame_inds'], size)
    assert len(raw_match) >= 4 and raw_match.keys() == small_match.keys()
    for key, (obj, iou) in small_match.items():
        # the same object; +-1 px detector jitter on >= 20 px boxes keeps
        # IoU above ~0.8, a frame off on a moving object drops below 0.7
        assert obj == raw_match[key][0], key
        assert iou >= 0.7 and raw_match[key][1] >= 0.7, (key, iou)

    # control: without the frame count the compressed clip's frames are
    # read as raw frames, and moving objects' boxes miss
    dets.video_frames = None
    write_detections(det_path, dets)
    wrong = _matched_objects(
        _pipeline(size)(dict(filename=small, objects_path=det_path,
                             start_index=0)), gt,
        2 * out_small['frame_inds'], size)
    assert min(iou for _, iou in wrong.values()) < 0.7


def test_detection_files_keep_video_frames(tmp_path):
    from stoavlp.datasets.detection_files import (DetectionFileError,
                                                  Detections)
    dets = Detections.from_frames(
        [[dict({'class': 'dog', 'rect': [1, 2, 3, 4], 'conf': 0.9})]] * 3,
        frame_inds=[0, 30, 60], image_size=(640, 360), video_frames=90)
    for ext in ('json', 'npz'):
        path = str(tmp_path / f'd.{ext}')
        write_detections(path, dets)
        back = read_detections(path)
        assert back.video_frames == 90
        # the 90-frame video's frames 0, 30, 60 in a 30-frame copy (1/3 fps)
        np.testing.assert_array_equal(back.video_frame_inds(30), [0, 10, 20])
        np.testing.assert_array_equal(back.video_frame_inds(90), [0, 30, 60])
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(dict(frames=[], video_frames=0)))
    with pytest.raises(DetectionFileError, match='bad.json.*video_frames'):
        read_detections(str(path))
