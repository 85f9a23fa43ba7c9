"""VideoTextDataset (any corpus as csv/jsonl/parquet) and ClipRange (clips
cut from long videos), checked against brute-force readings and against
frame timestamps PyAV reports."""
import csv
import json
import os.path as osp

import av
import numpy as np
import pytest
from mmengine.dataset import Compose

from stoavlp.datasets import (AnnotationError, BadSampleError, Detections,
                              VideoTextDataset, WebVidDataset,
                              write_detections)
from stoavlp.datasets.demo.video import write_mp4

# (video path, video id, captions, start, end, detection file); '' = none
ROWS = [
    ('a/v1.mp4', 'v1', ['a dog runs', 'a dog is running'], '', '', ''),
    ('a/v2.mp4', 'v2', ['a cat, sleeping'], '1.5', '4', 'dets/v2.npz'),
    ('b/v3.mkv', 'v3', ['a "quoted" caption'], '0:00:02.5', '', ''),
    ('a/v1.mp4', 'v1', ['a third one'], '', '', ''),
]
COLUMNS = dict(video='path', video_id='vid', caption='text', start='t0',
               end='t1', objects='dets')
PREFIX = dict(video='videos', objects='objects')


def _seconds(value):
    if not value:
        return None
    parts = [float(p) for p in value.split(':')]
    return sum(p * 60**(len(parts) - 1 - i) for i, p in enumerate(parts))


def _write(tmp_path, fmt, rows=ROWS):
    path = str(tmp_path / f'corpus.{fmt}')
    header = ['path', 'vid', 'text', 't0', 't1', 'dets']
    if fmt == 'csv':
        with open(path, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(header)
            for r in rows:
                writer.writerow([r[0], r[1], '|'.join(r[2]), *r[3:]])
    elif fmt == 'jsonl':
        with open(path, 'w') as f:
            for r in rows:
                f.write(json.dumps(dict(zip(header, r))) + '\n')
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq
        table = pa.table({
            'path': [r[0] for r in rows], 'vid': [r[1] for r in rows],
            'text': [list(r[2]) for r in rows],
            't0': [_seconds(r[3]) for r in rows],
            't1': [_seconds(r[4]) for r in rows],
            'dets': [r[5] for r in rows]})
        pq.write_table(table, path)
    return path


def _build(path, **kwargs):
    kwargs.setdefault('columns', COLUMNS)
    kwargs.setdefault('caption_sep', '|')
    return VideoTextDataset(ann_file=path, data_root=osp.dirname(path),
                            data_prefix=PREFIX, **kwargs)


def _expected(root, test_mode):
    """Items written out by hand from ROWS (brute force)."""
    items = []
    for path, vid, caps, t0, t1, dets in ROWS:
        base = dict(video_id=vid, filename=osp.join(root, 'videos', path),
                    objects_path=osp.join(
                        root, 'objects',
                        dets or osp.splitext(path)[0] + '.json'),
                    start_index=0, modality='RGB')
        clip = {} if not (t0 or t1) else dict(
            clip_start=_seconds(t0) or 0.0, clip_end=_seconds(t1))
        if test_mode:
            same = [i for i in items if i['video_id'] == vid and
                    i.get('clip_start') == clip.get('clip_start')]
            if same:
                same[0]['text'] += caps
                same[0]['gt_captions'] += caps
                continue
            items.append(dict(base, text=list(caps), gt_captions=list(caps),
                              **clip))
        else:
            items += [dict(base, text=c, **clip) for c in caps]
    return [dict(item, sample_idx=i) for i, item in enumerate(items)]


def _items(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


@pytest.mark.parametrize('test_mode', [False, True])
def test_csv_jsonl_parquet_give_the_same_items(tmp_path, test_mode):
    root = str(tmp_path)
    expected = _expected(root, test_mode)
    for fmt in ('csv', 'jsonl', 'parquet'):
        items = _items(_build(_write(tmp_path, fmt), test_mode=test_mode))
        assert items == expected, fmt
    # list captions: one item per caption / one per video with all of them
    assert len(expected) == (5 if not test_mode else 3)
    if test_mode:
        assert expected[0]['text'] == ['a dog runs', 'a dog is running',
                                       'a third one']


def test_video_template_and_derived_ids(tmp_path):
    path = tmp_path / 'c.jsonl'
    path.write_text('{"dir": "x", "key": "k1", "cap": "one", "s": 3}\n'
                    '{"dir": "", "key": "k2", "cap": "two", "s": null}\n')
    ds = VideoTextDataset(
        ann_file=str(path), data_prefix=PREFIX, video_template='{dir}/{key}',
        columns=dict(video=None, caption='cap', start='s'))
    a, b = _items(ds)
    # no video_id column: the name without extension, '#t=' for a clip
    assert (a['video_id'], a['filename'], a['objects_path']) == (
        'x/k1#t=3,', 'videos/x/k1.mp4', 'objects/x/k1.json')
    assert (a['clip_start'], a['clip_end']) == (3.0, None)
    assert (b['video_id'], b['filename']) == ('k2', 'videos/k2.mp4')
    assert 'clip_start' not in b


def test_errors_name_the_file_row_and_column(tmp_path):
    path = tmp_path / 'bad.csv'
    path.write_text('path,caption\nv1,a\n')
    with pytest.raises(AnnotationError, match=r"bad.csv, line 1: missing "
                       r"column\(s\) \['text'\]"):
        _build(str(path), columns=dict(video='path', caption='text'))
    path.write_text('path,text,t0,t1\nv1,a,1,2\nv2,b,3,2\n')
    with pytest.raises(AnnotationError, match=r'bad.csv, line 3: clip end '
                       r'2.0 s is not after its start 3.0 s'):
        _build(str(path), columns=dict(video='path', caption='text',
                                       start='t0', end='t1'))
    path.write_text('path,text,t0\nv1,a,1\nv2,b,soon\n')
    with pytest.raises(AnnotationError, match=r"line 3: column 't0': "
                       r"'soon' is not a time"):
        _build(str(path), columns=dict(video='path', caption='text',
                                       start='t0'))
    jsonl = tmp_path / 'bad.jsonl'
    jsonl.write_text('{"path": "v1", "text": "a"}\n\n{"path": "v2"}\n')
    with pytest.raises(AnnotationError, match=r"bad.jsonl, line 3: missing "
                       r"key\(s\) \['text'\]"):
        _build(str(jsonl), columns=dict(video='path', caption='text'))
    jsonl.write_text('{"path": "v1", "text": []}\n')
    with pytest.raises(AnnotationError, match=r"line 1: no caption in "
                       r"column 'text'"):
        _build(str(jsonl), columns=dict(video='path', caption='text'))
    parquet = _write(tmp_path, 'parquet')
    with pytest.raises(AnnotationError, match=r"corpus.parquet, schema: "
                       r"missing column\(s\) \['caption'\]"):
        _build(parquet, columns=dict(COLUMNS, caption='caption'))


@pytest.mark.parametrize('test_mode', [False, True])
def test_indices_and_subsets_match_the_full_dataset(tmp_path, test_mode):
    path = _write(tmp_path, 'parquet')
    full = _items(_build(path, test_mode=test_mode))

    def strip(items):
        return [{k: v for k, v in i.items() if k != 'sample_idx'}
                for i in items]
    first = _build(path, test_mode=test_mode, indices=2)
    assert strip(_items(first)) == strip(full[:2])
    ds = _build(path, test_mode=test_mode)
    picked = [2, 0, 2, -1]
    sub = ds.get_subset(picked)
    assert strip(_items(sub)) == strip([full[i] for i in picked])
    assert strip(_items(ds)) == strip(full)  # the original is untouched
    ds.get_subset_(-2)
    assert strip(_items(ds)) == strip(full[-2:])
    with pytest.raises(IndexError):
        ds.get_data_info(2)


def test_webvid_preset_reads_the_demo_csv_like_the_csv_module(demo_root):
    ds = WebVidDataset(ann_file='webvid/demo_train.csv', data_root=demo_root,
                       data_prefix=PREFIX)
    with open(osp.join(demo_root, 'webvid', 'demo_train.csv'),
              newline='') as f:
        rows = list(csv.DictReader(f))
    expected = []
    for i, row in enumerate(rows):
        name = osp.join(row['page_dir'], row['videoid'])
        expected.append(dict(
            video_id=row['videoid'],
            filename=osp.join(demo_root, 'videos', name + '.mp4'),
            objects_path=osp.join(demo_root, 'objects', name + '.json'),
            text=row['name'], start_index=0, modality='RGB', sample_idx=i))
    assert len(rows) > 50 and _items(ds) == expected


# -- clips of a long video ------------------------------------------------
FPS, NUM_FRAMES, STEP = 10, 40, 6  # frame i has brightness STEP * i


@pytest.fixture(scope='module')
def counting_video(tmp_path_factory):
    """A 4 s video whose frame i is uniformly ``STEP * i`` bright, and the
    timestamp PyAV reports for each frame (the reference)."""
    root = tmp_path_factory.mktemp('clip')
    frames = np.repeat(np.arange(NUM_FRAMES, dtype=np.uint8) * STEP,
                       32 * 32 * 3).reshape(NUM_FRAMES, 32, 32, 3)
    path = str(root / 'long.mp4')
    write_mp4(path, frames, fps=FPS)
    with av.open(path) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    assert len(times) == NUM_FRAMES
    return path, np.asarray(times)


def _frame_numbers(imgs):
    return [int(round(float(np.mean(img)) / STEP)) for img in imgs]


@pytest.mark.parametrize('reader', ['decord', 'pyav'])
@pytest.mark.parametrize('test_mode', [True, False])
def test_clip_decodes_exactly_the_frames_in_its_time_range(
        counting_video, reader, test_mode):
    path, times = counting_video
    init, decode = (dict(type='DecordInit'), dict(type='DecordDecode')) \
        if reader == 'decord' else (dict(type='PyAVInit'),
                                    dict(type='PyAVDecode', mode='accurate'))
    pipeline = Compose([init, dict(type='ClipRange'),
                        dict(type='UniformSample', clip_len=4,
                             test_mode=test_mode), decode])
    inside = set(np.flatnonzero((times >= 1.0) & (times < 2.0)).tolist())
    assert inside == set(range(10, 20))
    for seed in range(5):
        np.random.seed(seed)
        out = pipeline(dict(filename=path, start_index=0, modality='RGB',
                            clip_start=1.0, clip_end=2.0))
        inds = out['frame_inds'].tolist()
        assert set(inds) <= inside and len(inds) == 4
        assert _frame_numbers(out['imgs']) == inds  # the frames themselves
        assert out['total_frames'] == 10 and out['start_index'] == 10
        assert out['video_total_frames'] == NUM_FRAMES
    whole = pipeline(dict(filename=path, start_index=0, modality='RGB'))
    assert whole['total_frames'] == NUM_FRAMES  # no clip: a no-op
    assert 'clip_frame_range' not in whole


def test_clip_past_the_video_end_is_a_bad_sample(counting_video):
    path, _ = counting_video
    pipeline = Compose([dict(type='DecordInit'), dict(type='ClipRange')])
    with pytest.raises(BadSampleError, match='clip 5.0-6.0 s holds no '
                       'frame of the 40-frame video'):
        pipeline(dict(filename=path, start_index=0, clip_start=5.0,
                      clip_end=6.0))
    out = pipeline(dict(filename=path, start_index=0, clip_start=3.5,
                        clip_end=None))  # to the end of the video
    assert out['clip_frame_range'] == (35, 40)


def test_detections_of_a_clip_align_by_absolute_frame(counting_video,
                                                      tmp_path):
    """A detection file with explicit frame indices (every frame, box x1 =
    its frame) gives each sampled clip frame its own frame's box."""
    path, _ = counting_video
    frames = [[dict(rect=[i, 0, i + 8, 8], conf=0.9, **{'class': 'dog'})]
              for i in range(NUM_FRAMES)]
    dets = str(tmp_path / 'long.npz')
    write_detections(dets, Detections.from_frames(
        frames, frame_inds=list(range(NUM_FRAMES)), image_size=(32, 32)))
    pipeline = Compose([dict(type='DecordInit'), dict(type='ClipRange'),
                        dict(type='UniformSample', clip_len=4,
                             test_mode=True), dict(type='DecordDecode'),
                        dict(type='LoadObjectDetections', max_objects=2)])
    out = pipeline(dict(filename=path, objects_path=dets, start_index=0,
                        modality='RGB', clip_start=2.0, clip_end=3.0))
    inds = out['frame_inds']
    assert ((inds >= 20) & (inds < 30)).all()
    np.testing.assert_array_equal(out['obj_boxes'][:, 0, 0], inds)


def test_clip_shorter_than_the_sampler_is_a_bad_sample(counting_video,
                                                       tmp_path):
    """The clip, not the video, is held to ``min_frames`` (the sampler's
    ``clip_len``), through the dataset and its guarded pipeline."""
    path, _ = counting_video
    table = tmp_path / 'clips.jsonl'
    table.write_text(json.dumps(dict(video=path, caption='short', start=1.0,
                                     end=1.3)) + '\n' +
                     json.dumps(dict(video=path, caption='long', start=1.0,
                                     end=2.0)) + '\n')
    pipeline = [dict(type='DecordInit'), dict(type='ClipRange'),
                dict(type='UniformSample', clip_len=4, test_mode=True),
                dict(type='DecordDecode')]
    ds = VideoTextDataset(ann_file=str(table), pipeline=pipeline,
                          columns=dict(start='start', end='end'),
                          test_mode=True)
    with pytest.raises(BadSampleError, match='video has 3 frames, fewer '
                       'than the 4 required'):
        ds[0]
    assert _frame_numbers(ds[1]['imgs']) == ds[1]['frame_inds'].tolist()
    assert set(ds[1]['frame_inds'].tolist()) <= set(range(10, 20))
