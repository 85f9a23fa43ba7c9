"""Every dataset class on the demo data (real mp4 decoding), bad data."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config

from stoavlp.datasets import (AnnotationError, BadSampleError,
                              LSMDCRetrievalDataset, MSRVTTCaptionDataset,
                              MSRVTTRetrievalDataset, WebVidDataset)
from stoavlp.registry import DATASETS

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs')

# A small, fast pipeline for tests (the paper's is u12_224.py).
PIPELINE = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=6, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='LoadObjectDetections', max_objects=4),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='ProjectObjectBoxes'),
    dict(type='TokenizeText'),
    dict(type='PackVideoTextInputs'),
]


def _demo_cfg(name, demo_root, phase):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, '_base_', 'datasets', 'demo',
                                   name))
    ds = cfg[f'{phase}_dataloader']['dataset']
    ds.data_root = ds.data_root.replace('data/demo', demo_root)
    ds.pipeline = PIPELINE
    return ds


@pytest.mark.parametrize('name,phase', [
    ('msrvtt_retrieval.py', 'train'), ('msrvtt_retrieval.py', 'val'),
    ('msrvtt_caption.py', 'train'), ('msrvtt_caption.py', 'test'),
    ('msrvtt_qa.py', 'train'), ('msrvtt_qa.py', 'test'),
    ('msrvtt_mc.py', 'test'), ('msvd_caption.py', 'train'),
    ('msvd_caption.py', 'test'), ('msvd_qa.py', 'val'),
    ('lsmdc_retrieval.py', 'train'), ('lsmdc_retrieval.py', 'val'),
    ('didemo_retrieval.py', 'train'), ('didemo_retrieval.py', 'val'),
    ('webvid_pretrain.py', 'train')
])
def test_demo_configs_load_every_format(name, phase, demo_root, demo_meta):
    dataset = DATASETS.build(_demo_cfg(name, demo_root, phase))
    assert len(dataset) > 0
    clips = {c['video_id']: c for c in demo_meta['clips']}
    for idx in (0, len(dataset) - 1):
        data = dataset[idx]
        sample = data['data_samples']
        video_id = sample.metainfo['video_id']
        assert video_id in clips, video_id
        assert osp.isfile(sample.metainfo['filename'])
        assert data['inputs'].shape == (6, 3, 64, 64)
        assert data['inputs'].dtype == torch.uint8
        # objects: the demo's shapes, inside the 64x64 frame
        mask = sample.obj_mask
        assert mask.any(), f'no boxes for {video_id}'
        boxes = sample.obj_boxes[mask]
        assert (boxes >= 0).all() and (boxes <= 64).all()
        assert set(sample.metainfo['obj_classes']) <= set(
            demo_meta['shapes'])
        true_shapes = {o['shape'] for o in clips[video_id]['objects']}
        assert sample.metainfo['obj_classes'][0] in true_shapes
        # text: CLIP tokens with noun/verb masks
        ids = sample.token_ids
        assert ids.shape[-1] == 32 and (ids[..., 0] == 49406).all()
        assert sample.noun_mask.shape == ids.shape
        if 'question' not in sample.metainfo:
            assert sample.noun_mask.any() and sample.verb_mask.any()


def test_retrieval_train_pairs_and_test_groups(demo_root, demo_meta):
    train = MSRVTTRetrievalDataset(
        ann_file='MSRVTT_train.9k.csv', caption_file='MSRVTT_data.json',
        data_root=demo_root, data_prefix=dict(video='videos',
                                               objects='objects'))
    train_videos = {c['video_id'] for c in demo_meta['clips']
                    if c['split'] in ('train', 'validate')}
    n_captions = sum(len(c['captions']) for c in demo_meta['clips']
                     if c['video_id'] in train_videos)
    assert len(train) == n_captions  # one item per (video, caption)
    item = train.get_data_info(0)
    assert isinstance(item['text'], str)
    assert item['filename'] == osp.join(demo_root, 'videos',
                                        item['video_id'] + '.mp4')
    assert item['objects_path'] == osp.join(demo_root, 'objects',
                                            item['video_id'] + '.json')

    test = MSRVTTCaptionDataset(
        ann_file='MSRVTT_data.json', split='test', data_root=demo_root,
        data_prefix=dict(video='videos'), test_mode=True)
    test_clips = [c for c in demo_meta['clips'] if c['split'] == 'test']
    assert len(test) == len(test_clips)  # one item per video
    item = test.get_data_info(0)
    clip = next(c for c in test_clips if c['video_id'] == item['video_id'])
    assert item['gt_captions'] == clip['captions'] == item['text']


def test_every_config_builds_its_datasets(demo_root, demo_shards):
    """Every config under configs/ builds its datasets (on the demo data)."""
    roots = {'data/msrvtt': demo_root, 'data/demo': demo_root,
             'data/msvd': osp.join(demo_root, 'msvd'),
             'data/lsmdc': osp.join(demo_root, 'lsmdc'),
             'data/didemo': osp.join(demo_root, 'didemo'),
             'data/webvid': demo_root}
    built = 0
    for folder, _, files in os.walk(CONFIG_DIR):
        for file in sorted(files):
            if not file.endswith('.py'):
                continue
            cfg = Config.fromfile(osp.join(folder, file))
            for phase in ('train', 'val', 'test'):
                loader = cfg.get(f'{phase}_dataloader')
                if not loader:
                    continue
                ds = loader['dataset']
                if 'type' not in ds:  # a template (video_text_loaders.py)
                    continue
                parts = ds.datasets if ds.type == 'ConcatDataset' else [ds]
                for part in parts:
                    if part.type == 'VideoTextShardDataset':
                        part.data_root = demo_shards
                    elif part.data_root in roots and 'demo' not in folder:
                        _point_real_config_at_demo(part, roots)
                    else:
                        part.data_root = part.data_root.replace(
                            'data/demo', demo_root)
                    answers = _fit_answer_vocab(part)
                dataset = DATASETS.build(ds)
                assert len(dataset) > 0, (file, phase)
                if answers is not None:  # QA: the classes name themselves
                    assert len(dataset.metainfo['answers']) == answers
                built += 1
    assert built >= 30


def _fit_answer_vocab(ds):
    """A QA dataset's answer vocabulary cut to what the demo data holds
    (its answer file has fewer distinct answers than a config's classes,
    and a larger ``size`` is an error); returns that size, or None."""
    if not ds.get('answer_vocab'):
        return None
    from stoavlp.datasets.answer_vocab import build_answer_vocab
    path = ds.answer_vocab.ann_file
    path = path if osp.isabs(path) else osp.join(ds.data_root, path)
    distinct = len(build_answer_vocab(path, 10**6))
    ds.answer_vocab.size = min(ds.answer_vocab.size, distinct)
    return ds.answer_vocab.size


def _point_real_config_at_demo(ds, roots):
    ds.data_root = roots[ds.data_root]
    if ds.data_root != roots['data/msrvtt']:
        ds.data_prefix = dict(video='../videos', objects='../objects')
    ds.video_ext = '.mp4'
    if ds.type == 'WebVidDataset':
        ds.ann_file = 'webvid/demo_train.csv'
        ds.data_prefix = dict(video='videos', objects='objects')
    if ds.type == 'LSMDCRetrievalDataset':
        ds.nested_by_movie = False


def test_pyav_backend_matches_decord(demo_root):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, '_base_', 'datasets',
                                   'pipelines', 'u12_224_pyav.py'))
    assert cfg.val_pipeline[0]['type'] == 'PyAVInit'
    kwargs = dict(ann_file='MSRVTT_JSFUSION_test.csv', data_root=demo_root,
                  data_prefix=dict(video='videos', objects='objects'),
                  test_mode=True)
    pyav = MSRVTTRetrievalDataset(pipeline=cfg.val_pipeline, **kwargs)
    decord_cfg = Config.fromfile(osp.join(CONFIG_DIR, '_base_', 'datasets',
                                          'pipelines', 'u12_224.py'))
    decord = MSRVTTRetrievalDataset(pipeline=decord_cfg.val_pipeline,
                                    **kwargs)
    a, b = pyav[0], decord[0]
    assert a['inputs'].shape == b['inputs'].shape == (12, 3, 224, 224)
    diff = (a['inputs'].float() - b['inputs'].float()).abs().mean()
    assert diff < 2.0
    torch.testing.assert_close(a['data_samples'].obj_boxes,
                               b['data_samples'].obj_boxes)


def test_corrupt_videos_are_logged_counted_and_replaced(corrupt_demo):
    root, bad = corrupt_demo
    dataset = WebVidDataset(
        ann_file='webvid/demo_train.csv', data_root=root,
        data_prefix=dict(video='videos', objects='objects'), pipeline=PIPELINE)
    seen_bad = []
    for idx in range(len(dataset)):
        sample = dataset[idx]['data_samples']
        assert sample.metainfo['video_id'] not in bad
        seen_bad += [s['path'] for s in sample.metainfo.get('bad_samples',
                                                            [])]
    captions_per_bad = sum(1 for i in range(len(dataset))
                           if dataset.get_data_info(i)['video_id'] in bad)
    assert dataset.num_bad_samples == len(seen_bad) >= captions_per_bad
    assert {osp.basename(p)[:-4] for p in seen_bad} == set(bad)


def test_bad_video_in_test_mode_is_an_error(corrupt_demo):
    root, bad = corrupt_demo
    dataset = WebVidDataset(
        ann_file='webvid/demo_train.csv', data_root=root, test_mode=True,
        data_prefix=dict(video='videos', objects='objects'), pipeline=PIPELINE)
    idx = next(i for i in range(len(dataset))
               if dataset.get_data_info(i)['video_id'] == bad[1])
    with pytest.raises(BadSampleError, match=bad[1] + '.mp4'):
        dataset[idx]


def test_too_short_videos_exhaust_retries_with_clear_error(demo_root):
    dataset = WebVidDataset(
        ann_file='webvid/demo_train.csv', data_root=demo_root,
        data_prefix=dict(video='videos', objects='objects'), pipeline=PIPELINE,
        min_frames=10_000, max_refetch=3)
    with pytest.raises(RuntimeError, match='4 consecutive bad samples.*'
                       'fewer than the 10000 required'):
        dataset[0]


def test_video_shorter_than_the_sampler_is_bad_by_default(demo_root,
                                                          tmp_path):
    """A 3-frame video under a 6-frame sampler would train on repeated
    frames: a bad sample unless ``min_frames=1`` accepts padded clips."""
    from stoavlp.datasets.demo.video import write_mp4
    root = str(tmp_path / 'demo')
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns('*.png'))
    dataset = WebVidDataset(
        ann_file='webvid/demo_train.csv', data_root=root,
        data_prefix=dict(video='videos', objects='objects'),
        pipeline=PIPELINE, max_refetch=0)
    assert dataset.pipeline.min_frames == 6  # the sampler's clip_len
    video = dataset.get_data_info(0)['filename']
    write_mp4(video, np.zeros((3, 64, 64, 3), np.uint8), fps=10)
    with pytest.raises(RuntimeError, match='video has 3 frames, fewer than '
                       'the 6 required'):
        dataset[0]
    padded = WebVidDataset(
        ann_file='webvid/demo_train.csv', data_root=root,
        data_prefix=dict(video='videos', objects='objects'),
        pipeline=PIPELINE, min_frames=1)
    frames = padded[0]['data_samples'].frame_inds
    assert len(frames) == 6 and len(set(frames.tolist())) == 3  # repeats


def test_missing_detection_file_modes(demo_root, tmp_path):
    root = str(tmp_path / 'demo')
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns('*.png'))
    dataset = MSRVTTRetrievalDataset(
        ann_file='MSRVTT_JSFUSION_test.csv', data_root=root,
        data_prefix=dict(video='videos', objects='objects'), test_mode=True,
        pipeline=PIPELINE)
    os.remove(dataset.get_data_info(0)['objects_path'])
    with pytest.raises(FileNotFoundError, match='Detection file not found'):
        dataset[0]
    empty = [dict(t, on_missing='empty') if t['type'] ==
             'LoadObjectDetections' else t for t in PIPELINE]
    dataset = MSRVTTRetrievalDataset(
        ann_file='MSRVTT_JSFUSION_test.csv', data_root=root,
        data_prefix=dict(video='videos', objects='objects'), test_mode=True,
        pipeline=empty)
    sample = dataset[0]['data_samples']
    assert not sample.obj_mask.any() and sample.obj_class_conf.numel() == 0


def test_malformed_annotations_fail_at_build_naming_file_and_line(tmp_path):
    csv_file = tmp_path / 'train.csv'
    csv_file.write_text('videoid,name,page_dir\nv1,a dog runs,p\n'
                        'v2,a cat,p,extra\n')
    with pytest.raises(AnnotationError, match=r'train.csv, line 3: 4 fields'):
        WebVidDataset(ann_file=str(csv_file))
    csv_file.write_text('videoid,caption\nv1,a dog\n')
    with pytest.raises(AnnotationError, match=r"missing column\(s\) "
                       r"\['name', 'page_dir'\]"):
        WebVidDataset(ann_file=str(csv_file))
    tsv = tmp_path / 'lsmdc.csv'
    tsv.write_text('c1\t0\t1\t0\t1\tsomeone walks\nc2\t0\t1\tsomeone\n')
    with pytest.raises(AnnotationError, match='lsmdc.csv, line 2'):
        LSMDCRetrievalDataset(ann_file=str(tsv))
    data = tmp_path / 'MSRVTT_data.json'
    data.write_text(json.dumps({'videos': [{'video_id': 'video0',
                                            'split': 'test'}],
                                'sentences': [{'video_id': 'video0'}]}))
    with pytest.raises(AnnotationError, match=r"sentences\[0\]: missing "
                       r"key\(s\) \['caption'\]"):
        MSRVTTCaptionDataset(ann_file=str(data), split='test')
    data.write_text('{"videos": [')
    with pytest.raises(AnnotationError, match='MSRVTT_data.json, line 1'):
        MSRVTTCaptionDataset(ann_file=str(data), split='test')


def test_caption_without_noun_or_verb_is_valid(demo_root, tmp_path):
    csv_file = tmp_path / 'test.csv'
    csv_file.write_text('key,vid_key,video_id,sentence\n'
                        'ret0,msr0,video0,hello there\n')
    dataset = MSRVTTRetrievalDataset(
        ann_file=str(csv_file), data_root=demo_root,
        data_prefix=dict(video='videos', objects='objects'), test_mode=True,
        pipeline=PIPELINE)
    sample = dataset[0]['data_samples']
    assert not sample.noun_mask.any() and not sample.verb_mask.any()
    assert sample.attention_mask.sum() == 4  # sot hello there eot
