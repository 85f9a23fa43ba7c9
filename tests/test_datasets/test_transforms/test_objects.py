"""Detection filtering, frame alignment and box geometry."""
import json

import numpy as np
import pytest
from mmaction.datasets.transforms import (CenterCrop, Flip, RandomResizedCrop,
                                          Resize)

from stoavlp.datasets.bad_samples import BadSampleError, GuardedPipeline
from stoavlp.datasets.detection_files import (Detections, read_detections,
                                              uniform_frame_inds,
                                              write_detections)
from stoavlp.datasets.transforms.objects import (LoadObjectDetections,
                                                 ProjectObjectBoxes,
                                                 nearest_detection_frames,
                                                 select_frame_objects)


def _iou(a, b):
    """The official ``get_iou`` on x1y1x2y2 lists (continuous areas)."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[2], b[2]), min(a[3], b[3])
    if right < left or bottom < top:
        return 0.0
    inter = (right - left) * (bottom - top)
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def official_frame_filter(objects, k, distinct=True):
    """A line-by-line transcription of the official per-frame loop.

    ``objects`` is a list of ``(rect, cls, conf)`` in visiting order.
    Returns the kept positions. With ``distinct=True`` (the official code) a
    second box of an already kept class is never kept.
    """
    object_set, rect_list, kept = {}, [], []
    for i, (rect, cls, conf) in enumerate(objects):
        if cls in object_set:
            if any(_iou(rect, r) >= 0.2 for r in object_set[cls]):
                continue
            if distinct:
                continue
        if any(_iou(rect, r) >= 0.5 for r in rect_list):
            continue
        object_set.setdefault(cls, []).append(rect)
        rect_list.append(rect)
        kept.append(i)
        if len(kept) == k * 2:
            break
    kept.sort(key=lambda i: objects[i][2], reverse=True)
    kept = kept[:k * 2]
    size = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    kept.sort(key=lambda i: size(objects[i][0]), reverse=True)
    return kept[:k]


def _random_frame(rng, n):
    xy = rng.integers(0, 80, size=(n, 2))
    wh = rng.integers(4, 40, size=(n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    labels = rng.integers(0, 5, size=n)
    scores = rng.random(n).astype(np.float32)
    return boxes, scores, labels


@pytest.mark.parametrize('distinct', [True, False])
@pytest.mark.parametrize('k', [3, 10])
def test_select_frame_objects_equals_official_loop(distinct, k):
    rng = np.random.default_rng(0)
    for trial in range(200):
        boxes, scores, labels = _random_frame(rng, int(rng.integers(0, 45)))
        objects = [(b.tolist(), int(c), float(s))
                   for b, c, s in zip(boxes, labels, scores)]
        # file order, as the official loop visits it
        got = select_frame_objects(boxes, scores, labels, k,
                                   distinct_classes=distinct,
                                   sort_by_score=False)
        assert got.tolist() == official_frame_filter(objects, k, distinct)
        # default: visit by confidence = official loop on a sorted file
        order = sorted(range(len(objects)), key=lambda i: -objects[i][2])
        want = [order[i] for i in official_frame_filter(
            [objects[i] for i in order], k, distinct)]
        got = select_frame_objects(boxes, scores, labels, k,
                                   distinct_classes=distinct)
        assert got.tolist() == want
        if distinct:
            assert len(set(labels[got].tolist())) == len(got)


def test_select_frame_objects_hand_case():
    boxes = np.array([[0, 0, 10, 10],    # person .9
                      [1, 1, 10, 10],    # person .8: same class, suppressed
                      [0, 0, 10, 9],     # dog .7: IoU .9 with box 0
                      [50, 50, 90, 90],  # dog .6: kept, largest
                      [20, 20, 25, 25]],  # cat .5: kept, smallest
                     np.float32)
    scores = np.array([.9, .8, .7, .6, .5], np.float32)
    labels = np.array([0, 0, 1, 1, 2])
    assert select_frame_objects(boxes, scores, labels, 10).tolist() == \
        [3, 0, 4]
    assert select_frame_objects(boxes, scores, labels, 2).tolist() == [3, 0]


def test_frame_alignment():
    assert uniform_frame_inds(4, 40).tolist() == [5, 15, 25, 35]
    assert uniform_frame_inds(7, 7).tolist() == list(range(7))
    detected = np.array([35, 5, 15, 25])  # any order
    got = nearest_detection_frames(np.array([0, 14, 20, 39]), detected)
    # 20 is as close to 15 as to 25: the earlier frame wins
    assert detected[got].tolist() == [5, 15, 15, 35]


def _official_file(path, frames):
    with open(path, 'w') as f:
        json.dump([{'objects': objs} for objs in frames], f)


def _obj(cls, rect, conf):
    return {'class': cls, 'rect': rect, 'conf': conf, 'attributes': []}


def test_load_object_detections_official_format(tmp_path):
    path = str(tmp_path / 'v.json')
    _official_file(path, [
        [_obj('dog', [0, 0, 20, 20], .9), _obj('cat', [30, 30, 40, 40], .5)],
        [_obj('cat', [30, 30, 50, 50], .8)],
        [],
        [_obj('person', [10, 10, 60, 60], .7), _obj('dog', [0, 0, 5, 5], .2)],
    ])
    results = dict(objects_path=path, frame_inds=np.array([0, 14, 20, 39]),
                   total_frames=40, original_shape=(64, 80))
    out = LoadObjectDetections(max_objects=3)(results)
    assert out['obj_boxes'].shape == (4, 3, 4)
    assert out['obj_classes'] == ['dog', 'cat', 'person']
    np.testing.assert_array_equal(out['obj_labels'],
                                  [[0, 1, -1], [1, -1, -1], [1, -1, -1],
                                   [2, 0, -1]])
    np.testing.assert_allclose(out['obj_boxes'][3, :2],
                               [[10, 10, 60, 60], [0, 0, 5, 5]])
    np.testing.assert_allclose(out['obj_scores'][0], [.9, .5, 0])
    assert out['obj_mask'].sum() == 6


@pytest.mark.parametrize('key', ['frame', 'frame_idx', 'frame_index'])
def test_per_frame_export_with_frame_keys_is_placed_by_them(tmp_path, key):
    """Detections on frames 0, 4, ..., 36 of a 40-frame clip, one class per
    detected frame: every sampled frame gets the boxes of the detected frame
    nearest it, not of the uniformly spread list position."""
    path = str(tmp_path / 'v.json')
    detected = list(range(0, 40, 4))
    with open(path, 'w') as f:
        json.dump([{key: i, 'objects': [_obj(f'c{i}', [i, 0, i + 8, 8], .9)]}
                   for i in detected], f)
    dets = read_detections(path)
    assert dets.video_frame_inds(40).tolist() == detected
    # the 8 frames the test-mode sampler takes of 40 (segment centres)
    sampled = np.floor((np.arange(8) + 0.5) * 5).astype(int)
    out = LoadObjectDetections()(dict(
        objects_path=path, frame_inds=sampled, total_frames=40,
        original_shape=(64, 64)))
    # brute force: the detected frame nearest each sampled one (earlier on
    # ties: 2 is as far from 0 as from 4)
    nearest = [min(detected, key=lambda i: (abs(i - t), i)) for t in sampled]
    got = [out['obj_classes'][label] for label in out['obj_labels'][:, 0]]
    assert got == [f'c{i}' for i in nearest]
    assert nearest == [0, 8, 12, 16, 20, 28, 32, 36]
    # the frame key ignored (uniform placement), 4 of these 8 frames would
    # take another frame's boxes: the fault this reading removes
    uniform = np.array(detected)[nearest_detection_frames(
        sampled, uniform_frame_inds(len(detected), 40))]
    assert (uniform != np.array(nearest)).sum() == 4


def test_frame_keys_all_or_none_and_valid(tmp_path):
    from stoavlp.datasets.detection_files import DetectionFileError
    cases = {
        'some': [{'frame': 0, 'objects': []}, {'objects': []}],
        'negative': [{'frame': -1, 'objects': []}],
        'text': [{'frame': 'x', 'objects': []}],
        'duplicate': [{'frame': 3, 'objects': []},
                      {'frame': 3, 'objects': []}],
    }
    messages = {'some': 'no frame index', 'negative': 'frame index >= 0',
                'text': 'frame index >= 0', 'duplicate': 'more than one'}
    for name, content in cases.items():
        path = str(tmp_path / f'{name}.json')
        with open(path, 'w') as f:
            json.dump(content, f)
        with pytest.raises(DetectionFileError, match=messages[name]) as e:
            read_detections(path)
        assert path in str(e.value)


def test_uniform_placement_is_said_once(tmp_path, caplog_mm):
    import stoavlp.datasets.transforms.objects as objects
    objects._warned_uniform = False
    path = str(tmp_path / 'v.json')
    _official_file(path, [[_obj('dog', [0, 0, 9, 9], .9)]] * 10)
    results = dict(objects_path=path, frame_inds=np.array([0, 20]),
                   total_frames=40, original_shape=(64, 64))
    load = LoadObjectDetections()
    load(dict(results))
    load(dict(results))
    said = [m for m in caplog_mm() if 'no frame indices' in m]
    assert len(said) == 1 and path in said[0] and '40-frame' in said[0]
    # counts that match need no assumption: nothing said
    objects._warned_uniform = False
    _official_file(path, [[_obj('dog', [0, 0, 9, 9], .9)]] * 40)
    LoadObjectDetections()(dict(results))
    assert len([m for m in caplog_mm() if 'no frame indices' in m]) == 1


def test_load_object_detections_image_size_and_npz(tmp_path):
    dets = Detections.from_frames(
        [[_obj('dog', [10, 20, 30, 40], .9)], [_obj('cat', [0, 0, 50, 25],
                                                    .8)]],
        frame_inds=[3, 9], image_size=(100, 50))
    results = dict(frame_inds=np.array([2, 8]), total_frames=12,
                   original_shape=(100, 200))  # detector saw frames at 1/2
    outs = []
    for ext in ('json', 'npz'):
        path = str(tmp_path / f'v.{ext}')
        write_detections(path, dets)
        back = read_detections(path)
        np.testing.assert_allclose(back.boxes, dets.boxes)
        assert back.frame_inds.tolist() == [3, 9]
        outs.append(LoadObjectDetections()(dict(results, objects_path=path)))
    for out in outs:
        np.testing.assert_allclose(out['obj_boxes'][0, 0], [20, 40, 60, 80])
        np.testing.assert_allclose(out['obj_boxes'][1, 0], [0, 0, 100, 50])
    assert outs[0]['obj_classes'] == outs[1]['obj_classes'] == ['dog', 'cat']


def test_missing_and_malformed_detection_files(tmp_path):
    base = dict(frame_inds=np.array([0, 1]), total_frames=2,
                original_shape=(8, 8))
    missing = dict(base, objects_path=str(tmp_path / 'none.json'))
    with pytest.raises(FileNotFoundError, match='none.json'):
        LoadObjectDetections()(dict(missing))
    with pytest.raises(BadSampleError, match='none.json'):
        LoadObjectDetections(on_missing='skip')(dict(missing))
    out = LoadObjectDetections(on_missing='empty')(dict(missing))
    assert not out['obj_mask'].any() and out['obj_classes'] == []

    bad = tmp_path / 'bad.json'
    bad.write_text('[{"objects": [{"class": "dog", "rect": [1, 2]}]}]')
    with pytest.raises(BadSampleError, match='bad.json.*frame 0, object 0'):
        LoadObjectDetections()(dict(base, objects_path=str(bad)))
    bad.write_text('[{"objects": [')
    with pytest.raises(BadSampleError, match='not valid JSON'):
        LoadObjectDetections()(dict(base, objects_path=str(bad)))
    with pytest.raises(ValueError, match='on_missing'):
        LoadObjectDetections(on_missing='ignore')


def _mask_frames(boxes, h, w):
    """One white-on-black frame per box (the brute-force reference)."""
    frames = []
    for x1, y1, x2, y2 in boxes:
        img = np.zeros((h, w, 3), np.uint8)
        img[int(y1):int(y2), int(x1):int(x2)] = 255
        frames.append(img)
    return frames


def _bbox_of_mask(img):
    ys, xs = np.nonzero(img[..., 0] > 127)
    if len(xs) == 0:
        return None
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
                    np.float64)


GEOMETRIES = {
    'resize_crop': [Resize(scale=(-1, 24)), CenterCrop(crop_size=20)],
    'resize_crop_flip': [Resize(scale=(-1, 24)), CenterCrop(crop_size=20),
                         Flip(flip_ratio=1.0)],
    'random_resized_crop_flip': [RandomResizedCrop(), Resize(scale=(40, 40),
                                                           keep_ratio=False),
                                 Flip(flip_ratio=1.0)],
    'crop_then_resize': [CenterCrop(crop_size=(40, 30)),
                         Resize(scale=(80, 60), keep_ratio=False)],
}


@pytest.mark.parametrize('name', list(GEOMETRIES))
def test_project_boxes_matches_transformed_pixels(name):
    rng = np.random.default_rng(1)
    h, w = 48, 64
    compared = 0
    for trial in range(10):
        xy = rng.integers(0, 40, size=(6, 2)) // 2 * 2
        wh = rng.integers(2, 12, size=(6, 2)) * 2
        boxes = np.concatenate([xy, np.minimum(xy + wh, [w, h])], 1)
        t = len(boxes)
        results = dict(
            imgs=_mask_frames(boxes, h, w), original_shape=(h, w),
            img_shape=(h, w), modality='RGB',
            obj_boxes=boxes.reshape(t, 1, 4).astype(np.float32),
            obj_scores=np.full((t, 1), .5, np.float32),
            obj_labels=np.arange(t).reshape(t, 1),
            obj_mask=np.ones((t, 1), bool),
            obj_classes=[f'c{i}' for i in range(t)])
        for transform in GEOMETRIES[name]:
            results = transform(results)
        labels_before = results['obj_labels'].copy()
        out = ProjectObjectBoxes(min_size=1.5)(results)
        # each frame's own box is its only box
        for i in range(t):
            want = _bbox_of_mask(out['imgs'][i])
            if want is None or min(want[2:] - want[:2]) < 2:
                continue  # cropped away (nothing reliable to compare)
            assert out['obj_mask'][i, 0], (name, i, want)
            np.testing.assert_allclose(
                out['obj_boxes'][i, 0], want, atol=1.0,
                err_msg=f'{name}: box {boxes[i]} frame {i}')
            compared += 1
        assert labels_before.shape == out['obj_labels'].shape
    assert compared >= 20  # the check above really ran


def test_project_boxes_exact_for_aligned_geometry():
    boxes = np.array([[[8, 4, 40, 20]], [[60, 40, 64, 48]]], np.float32)
    results = dict(imgs=[np.zeros((48, 64, 3), np.uint8)] * 2,
                   original_shape=(48, 64), img_shape=(48, 64),
                   modality='RGB', obj_boxes=boxes,
                   obj_scores=np.array([[.5], [.9]], np.float32),
                   obj_labels=np.array([[0], [1]]),
                   obj_mask=np.ones((2, 1), bool), obj_classes=['a', 'b'])
    for transform in [Resize(scale=(-1, 24)), CenterCrop(crop_size=20),
                      Flip(flip_ratio=1.0)]:
        results = transform(results)
    out = ProjectObjectBoxes()(results)
    # resize x0.5 -> [4,2,20,10]; crop at (6,2) -> [0,0,14,8] (clipped);
    # flip in a width-20 frame -> [6,0,20,8]. Box b ends outside the crop.
    np.testing.assert_allclose(out['obj_boxes'][0, 0], [6, 0, 20, 8])
    assert out['obj_mask'].tolist() == [[True], [False]]
    assert out['obj_classes'] == ['a'] and out['obj_labels'][1, 0] == -1
    np.testing.assert_allclose(out['obj_class_conf'], [.5])


def test_project_boxes_orders_classes_by_summed_confidence():
    results = dict(
        original_shape=(10, 10), img_shape=(10, 10),
        obj_boxes=np.tile(np.array([0, 0, 5, 5], np.float32), (3, 2, 1)),
        obj_scores=np.array([[.9, .3], [.2, .3], [.1, .3]], np.float32),
        obj_labels=np.array([[0, 1], [0, 1], [2, 1]]),
        obj_mask=np.ones((3, 2), bool), obj_classes=['dog', 'cat', 'emu'])
    out = ProjectObjectBoxes()(results)
    assert out['obj_classes'] == ['dog', 'cat', 'emu']  # 1.1, 0.9, 0.1
    np.testing.assert_allclose(out['obj_class_conf'], [1.1, .9, .1],
                               rtol=1e-6)
    results['obj_scores'][0, 0] = .5  # dog 0.7 < cat 0.9
    out = ProjectObjectBoxes()(results)
    assert out['obj_classes'] == ['cat', 'dog', 'emu']
    np.testing.assert_array_equal(out['obj_labels'],
                                  [[1, 0], [1, 0], [2, 0]])


def test_flip_before_crop_fails_at_build():
    with pytest.raises(ValueError, match='CenterCrop after Flip'):
        GuardedPipeline([
            dict(type='Flip', flip_ratio=0.5),
            dict(type='CenterCrop', crop_size=8),
            dict(type='ProjectObjectBoxes')
        ])


def test_a_clip_aligns_uniform_detections_over_the_whole_video():
    """ClipRange narrows total_frames to the clip; entries of the official
    list format (no frame indices) still spread over the whole video."""
    from stoavlp.datasets.detection_files import (Detections,
                                                  uniform_frame_inds)
    frames = [[dict(rect=[0, 0, 10, 10], conf=0.9, **{'class': f'c{d}'})]
              for d in range(4)]
    dets = Detections.from_frames(frames)
    centres = uniform_frame_inds(4, 40)  # entry d at its segment's centre
    step = LoadObjectDetections(max_objects=2)
    out = step(dict(detections=dets, objects_path='clip.json',
                    frame_inds=np.array([12, 25]), total_frames=10,
                    video_total_frames=40, original_shape=(10, 10)))
    expected = [int(np.argmin(np.abs(centres - f))) for f in (12, 25)]
    got = [out['obj_classes'][label] for label in out['obj_labels'][:, 0]]
    assert got == [f'c{d}' for d in expected]
    assert expected == [1, 2]
