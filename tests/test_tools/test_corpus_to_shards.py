"""docs/data_preparation.md's "your own corpus" path at demo scale: the
demo written as a custom corpus (jsonl, several captions a video), its
videos compressed, packed into shards, and pre-trained on for one epoch
from the shards, which hold the same items per epoch as the files."""
import collections
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from stoavlp.registry import DATASETS
from stoavlp.testing import DEMO_PRETRAIN_OFFLINE

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CORPUS = osp.join(ROOT, 'configs', '_base_', 'datasets',
                  'video_text_corpus.py')
SHARDS_CONFIG = osp.join(
    ROOT, 'configs', 'stoavlp', 'demo',
    'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain-shards.py')


def tool(*args):
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True,
                   capture_output=True, timeout=900,
                   env=dict(os.environ, OMP_NUM_THREADS='1'))


@pytest.mark.slow
def test_corpus_compressed_sharded_and_pretrained_from_shards(
        demo_root, demo_meta, tmp_path):
    train = [c for c in demo_meta['clips'] if c['split'] == 'train'][:8]
    corpus = tmp_path / 'corpus'
    os.makedirs(corpus / 'raw')
    with open(corpus / 'train.jsonl', 'w') as f:
        for clip in train:
            name = f'{clip["video_id"]}.mp4'
            os.symlink(osp.join(demo_root, 'videos', name),
                       corpus / 'raw' / name)
            f.write(json.dumps(dict(path=name,
                                    captions=clip['captions'])) + '\n')
    # 1. compress: smaller and at half the frame rate
    tool('tools/data/compress_videos.py', str(corpus / 'raw'),
         str(corpus / 'videos'), '--short-side', '96', '--max-fps', '5')
    # 2. (objects: the demo's detection files, made on the raw videos; they
    # record video_frames, so they map onto the 5 fps copies by time)
    config = tmp_path / 'my_corpus.py'
    config.write_text(
        f'_base_ = [{CORPUS!r}]\n'
        'train_dataloader = dict(dataset=dict(\n'
        f'    data_root={str(corpus)!r}, ann_file="train.jsonl",\n'
        '    data_prefix=dict(video="videos", objects='
        f'{osp.join(demo_root, "objects")!r}),\n'
        '    columns=dict(video="path", caption="captions")))\n')
    # 3. shards
    tool('tools/data/make_shards.py', str(config), str(corpus / 'shards'),
         '--samples-per-shard', '3')
    files = DATASETS.build(Config.fromfile(str(config)).train_dataloader
                           .dataset)
    files.full_init()
    n_items = sum(len(c['captions']) for c in train)
    assert len(files) == n_items
    shards = DATASETS.build(dict(
        type='VideoTextShardDataset', data_root=str(corpus / 'shards'),
        pipeline=Config.fromfile(SHARDS_CONFIG).demo_train_pipeline))
    shards.set_epoch(0, 16, 0)
    from stoavlp.datasets.video_text_shards import _ShardReader
    reader = _ShardReader(shards.shard_paths)
    stored = collections.Counter()
    for s, i in zip(*shards.positions()):
        item, video = shards.item(reader, int(s), int(i))
        stored[(item['video_id'], item['text'])] += 1
        assert item['filename'].endswith('.mp4') and len(video) > 0
    assert stored == collections.Counter(
        (files.get_data_info(i)['video_id'], files.get_data_info(i)['text'])
        for i in range(len(files)))
    # 4. one epoch of pre-training from the shards
    work_dir = str(tmp_path / 'work')
    tool('tools/train.py', SHARDS_CONFIG, '--work-dir', work_dir,
         '--cfg-options', *DEMO_PRETRAIN_OFFLINE,
         f'train_dataloader.dataset.data_root={corpus / "shards"}',
         'train_dataloader.batch_size=16', 'train_dataloader.num_workers=1',
         'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1')
    runs = [d for d in os.listdir(work_dir)
            if osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json'))]
    with open(osp.join(work_dir, runs[0], 'vis_data', 'scalars.json')) as f:
        records = [json.loads(line) for line in f]
    steps = [r['step'] for r in records if 'loss' in r]
    assert steps == list(range(1, -(-n_items // 16) + 1))
    assert all(r['loss'] == r['loss'] and r['loss'] > 0 for r in records
               if 'loss' in r)
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
