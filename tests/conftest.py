"""Shared test setup.

Every test runs with stoavlp's modules registered. ``demo_root`` is a small
demo dataset (real mp4 files, every annotation format) made once per test
session.
"""
import json
import os
import os.path as osp
import shutil

import pytest

from stoavlp.utils import register_all_modules

register_all_modules()

DEMO_PARAMS = dict(num_clips=24, seed=0, num_frames=16, size=(160, 120),
                   fps=10)


@pytest.fixture(scope='session')
def demo_root(tmp_path_factory):
    from stoavlp.datasets.demo import make_demo_dataset
    root = str(tmp_path_factory.mktemp('demo_data'))
    make_demo_dataset(root, contact_sheet=False, **DEMO_PARAMS)
    return root


@pytest.fixture(scope='session')
def demo_meta(demo_root):
    with open(osp.join(demo_root, 'meta.json'), encoding='utf-8') as f:
        return json.load(f)


@pytest.fixture
def corrupt_demo(demo_root, tmp_path, demo_meta):
    """A copy of the demo data with 4 kinds of broken training videos."""
    root = str(tmp_path / 'demo')
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns('*.png'))
    train = [c['video_id'] for c in demo_meta['clips']
             if c['split'] == 'train']
    bad = train[:4]
    videos = [tmp_path / 'demo' / 'videos' / f'{v}.mp4' for v in bad]
    data = videos[0].read_bytes()
    videos[0].write_bytes(data[:len(data) // 2])  # truncated
    videos[1].write_bytes(b'not a video' * 20)  # unreadable
    videos[2].write_bytes(b'')  # zero bytes
    os.remove(videos[3])  # missing
    return root, bad


@pytest.fixture
def caplog_mm():
    """Messages logged through MMLogger's current instance during the test;
    call the fixture for the list so far."""
    import logging

    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    yield lambda: [r.getMessage() for r in records]
    logger.removeHandler(handler)


@pytest.fixture(scope='session')
def demo_shards(demo_root, tmp_path_factory):
    """The demo's WebVid-style training pairs as tar shards (5 videos a
    shard, so that a handful of shards exist)."""
    import importlib.util
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(
        'make_shards_tool', osp.join(root, 'tools', 'data', 'make_shards.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = str(tmp_path_factory.mktemp('demo_shards'))
    tool.main([
        osp.join(root, 'configs', '_base_', 'datasets', 'demo',
                 'webvid_pretrain.py'), out, '--samples-per-shard', '5',
        '--cfg-options', f'train_dataloader.dataset.data_root={demo_root}'
    ])
    return out
