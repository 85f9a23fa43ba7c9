"""An epoch of 1 000 demo clips of which 5 % have broken videos and some
have missing or malformed detection files: it completes, every bad item is
logged with its path and counted, and the losses stay finite."""
import csv
import json
import math
import os
import os.path as osp
import re
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from stoavlp.testing import offline_demo_pretrain

ROOT = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'stoavlp',
                'demo')
CONFIG = osp.join(ROOT, 'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')


@pytest.fixture(scope='module')
def broken_demo(tmp_path_factory):
    """1 000 clips; 50 broken videos (truncated, garbage, empty, missing),
    10 missing and 10 malformed detection files."""
    from stoavlp.datasets.demo import make_demo_dataset
    root = str(tmp_path_factory.mktemp('broken_demo'))
    make_demo_dataset(root, num_clips=1000, num_frames=16, seed=3,
                      contact_sheet=False, workers=2)
    meta = json.loads(Path(root, 'meta.json').read_text())
    clips = [c['video_id'] for c in meta['clips']]
    with open(osp.join(root, 'all.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['videoid', 'name', 'page_dir'])
        for c in meta['clips']:
            writer.writerow([c['video_id'], c['captions'][0], ''])
    rng = np.random.default_rng(0)
    picked = rng.permutation(len(clips))
    bad_videos = [clips[i] for i in picked[:50]]
    bad_objects = [clips[i] for i in picked[50:70]]
    for k, vid in enumerate(bad_videos):
        path = Path(root, 'videos', vid + '.mp4')
        kind = k % 4
        if kind == 0:
            path.write_bytes(path.read_bytes()[:path.stat().st_size // 3])
        elif kind == 1:
            path.write_bytes(os.urandom(2000))
        elif kind == 2:
            path.write_bytes(b'')
        else:
            path.unlink()
    for k, vid in enumerate(bad_objects):
        path = Path(root, 'objects', vid + '.json')
        if k % 2:
            path.unlink()
        else:
            path.write_text('{"frames": [{"objects": [{"class"')
    return root, set(bad_videos), set(bad_objects)


@pytest.mark.slow
def test_epoch_over_broken_data_completes_logs_and_counts(broken_demo,
                                                          tmp_path):
    root, bad_videos, bad_objects = broken_demo
    cfg = offline_demo_pretrain(Config.fromfile(CONFIG))
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = None
    cfg.default_hooks.logger.interval = 5
    loader = cfg.train_dataloader
    loader.num_workers, loader.persistent_workers = 2, False
    loader.dataset.ann_file = 'all.csv'
    loader.dataset.data_root = root
    # a missing detection file is a bad sample too (skipped, counted)
    step, = [t for t in loader.dataset.pipeline
             if t.type == 'LoadObjectDetections']
    step.on_missing = 'skip'
    runner = Runner.from_cfg(cfg)
    runner.train()

    log = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    found = re.search(r'Epoch 1: skipped (\d+) sample\(s\) from (\d+) '
                      r'distinct bad file\(s\)', log)
    skipped, distinct = int(found[1]), int(found[2])
    broken = len(bad_videos | bad_objects)
    assert broken <= skipped <= 3 * broken  # replacements may be bad too
    # files and skips are told apart; the full list is in the work dir
    assert distinct == broken
    listed = json.loads(Path(tmp_path, 'bad_samples_epoch_1.json').read_text())
    assert len(listed) == broken
    assert sum(entry['skips'] for entry in listed) == skipped
    assert {re.search(r'(video\d+)\.', e['path'])[1] for e in listed} == \
        bad_videos | bad_objects
    logged = set(re.findall(r'Skipping bad sample \d+ \(\S*/(video\d+)\.',
                            log))
    assert logged == bad_videos | bad_objects  # every bad item, by path
    scalars = [json.loads(line) for line in Path(
        runner.log_dir, 'vis_data', 'scalars.json').read_text().splitlines()]
    losses = [v for r in scalars for k, v in r.items()
              if k.startswith('loss')]
    assert losses and all(math.isfinite(v) for v in losses)
