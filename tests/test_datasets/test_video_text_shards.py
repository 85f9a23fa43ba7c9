"""Tar shards: make_shards.py writes what the file dataset holds, and
VideoTextShardDataset streams exactly those items, split over ranks and
workers, in a deterministic, resumable order."""
import collections
import importlib.util
import io
import json
import os
import os.path as osp
import tarfile

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from stoavlp.datasets.shard_format import read_index, scan_shard
from stoavlp.datasets.video_text_shards import (epoch_positions,
                                                shuffle_buffer_order,
                                                worker_slice)
from stoavlp.registry import DATASETS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_WEBVID = osp.join(ROOT, 'configs', '_base_', 'datasets', 'demo',
                       'webvid_pretrain.py')
PRETRAIN = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                    'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')


def make_shards_tool():
    spec = importlib.util.spec_from_file_location(
        'make_shards_tool_t', osp.join(ROOT, 'tools', 'data',
                                       'make_shards.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def demo_pipeline(test_mode=False):
    cfg = Config.fromfile(PRETRAIN)
    return cfg.demo_test_pipeline if test_mode else cfg.demo_train_pipeline


def file_dataset(demo_root, **kwargs):
    cfg = Config.fromfile(DEMO_WEBVID).train_dataloader.dataset
    cfg.update(data_root=demo_root, **kwargs)
    dataset = DATASETS.build(cfg)
    dataset.full_init()
    return dataset


def shard_dataset(root, pipeline=None, **kwargs):
    return DATASETS.build(dict(type='VideoTextShardDataset', data_root=root,
                               pipeline=pipeline or demo_pipeline(),
                               **kwargs))


# -- the order, from the index alone ------------------------------------------
@pytest.mark.parametrize('world', [1, 2, 3, 4])
def test_ranks_cover_every_item_once_and_pad_like_distributed_sampler(world):
    counts = [7, 3, 12, 1, 9]  # 32 items
    total = sum(counts)
    per_rank = -(-total // world)
    seen = []
    for rank in range(world):
        shards, items = epoch_positions(counts, epoch=2, seed=5, rank=rank,
                                        world_size=world,
                                        shuffle_buffer=4)
        assert len(shards) == per_rank
        assert all(0 <= i < counts[s] for s, i in zip(shards, items))
        seen += [(int(s), int(i)) for s, i in zip(shards, items)]
    every = collections.Counter((s, i) for s, c in enumerate(counts)
                                for i in range(c))
    got = collections.Counter(seen)
    assert set(got) == set(every)  # every item at least once
    # padding repeats exactly per_rank * world - total items, once each
    assert sum(got.values()) - total == per_rank * world - total
    assert max(got.values()) <= 2


def test_epochs_and_seeds_change_the_order_and_repeat_it():
    counts = [50, 50, 50, 50]
    order = lambda e, s: np.stack(  # noqa: E731
        epoch_positions(counts, e, s, 0, 1, shuffle_buffer=20))
    assert (order(0, 0) == order(0, 0)).all()
    assert not (order(0, 0) == order(1, 0)).all()
    assert not (order(0, 0) == order(0, 1)).all()
    plain = np.stack(epoch_positions(counts, 0, 0, 0, 1, shuffle=False))
    assert (plain[0] == np.repeat(np.arange(4), 50)).all()
    assert (plain[1] == np.tile(np.arange(50), 4)).all()


def test_shuffle_buffer_is_a_permutation_within_its_window():
    rng = np.random.default_rng(0)
    out = shuffle_buffer_order(500, 16, rng)
    assert sorted(out) == list(range(500))
    # the k-th output had entered the buffer by then: index < k + size
    assert (out < np.arange(500) + 16).all()
    assert (out != np.arange(500)).mean() > 0.5  # and it does shuffle
    assert (shuffle_buffer_order(10, 1, rng) == np.arange(10)).all()


def test_workers_take_whole_batches_round_robin():
    parts = [worker_slice(23, 4, w, 3) for w in range(3)]
    assert sorted(np.concatenate(parts)) == list(range(23))
    assert list(parts[0]) == [0, 1, 2, 3, 12, 13, 14, 15]
    assert list(parts[2]) == [8, 9, 10, 11, 20, 21, 22]


# -- make_shards.py -----------------------------------------------------------
def test_shards_hold_the_file_datasets_items(demo_root, demo_shards):
    files = file_dataset(demo_root)
    index = read_index(demo_shards)
    assert index['complete'] and index['num_items'] == len(files)
    items = collections.Counter(
        (files.get_data_info(i)['video_id'], files.get_data_info(i)['text'])
        for i in range(len(files)))
    stored = collections.Counter()
    for shard in index['shards']:
        path = osp.join(demo_shards, shard['name'])
        table = scan_shard(path)
        assert len(table) == shard['num_samples'] <= 5
        with tarfile.open(path) as tar:
            for key, members in table:
                assert set(members) == {'json', 'mp4', 'det.npz'}
                meta = json.load(tar.extractfile(f'{key}.json'))
                stored.update((meta['video_id'], t) for t in meta['texts'])
                video = tar.extractfile(f'{key}.mp4').read()
                with open(meta['source'], 'rb') as f:
                    assert video == f.read()
                assert len(meta['text_tags']) == len(meta['texts'])
    assert stored == items


def test_make_shards_resumes_after_a_crash_with_identical_shards(
        demo_root, demo_shards, tmp_path, monkeypatch):
    tool = make_shards_tool()
    out = str(tmp_path / 'shards')
    args = [DEMO_WEBVID, out, '--samples-per-shard', '5', '--cfg-options',
            f'train_dataloader.dataset.data_root={demo_root}']
    real, calls = tool.sample_members, []

    def crash_at_13(*a, **k):
        calls.append(1)
        if len(calls) == 13:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(tool, 'sample_members', crash_at_13)
    with pytest.raises(KeyboardInterrupt):
        tool.main(args)
    index = read_index(out)
    assert not index['complete'] and len(index['shards']) == 2
    assert index['next_record'] == 10
    monkeypatch.setattr(tool, 'sample_members', real)
    written = []
    monkeypatch.setattr(tool, 'sample_members',
                        lambda *a, **k: written.append(1) or real(*a, **k))
    tool.main(args)
    assert len(written) == read_index(out)['num_samples'] - 10
    for name in sorted(os.listdir(demo_shards)):
        if name.endswith('.tar'):
            assert open(osp.join(out, name), 'rb').read() == open(
                osp.join(demo_shards, name), 'rb').read(), name
    assert not [f for f in os.listdir(out) if '.tmp' in f]


def test_make_shards_lists_unreadable_videos_and_goes_on(
        demo_root, tmp_path):
    tool = make_shards_tool()
    files = file_dataset(demo_root)
    missing = files.get_data_info(0)['filename']
    ann = tmp_path / 'train.csv'
    with open(osp.join(demo_root, 'webvid', 'demo_train.csv')) as f:
        ann.write_text(f.read())
    root = tmp_path / 'data'
    os.symlink(osp.join(demo_root, 'objects'), tmp_path / 'objects')
    os.makedirs(root / 'videos')
    for name in os.listdir(osp.join(demo_root, 'videos')):
        if osp.join(demo_root, 'videos', name) != missing:
            os.symlink(osp.join(demo_root, 'videos', name),
                       root / 'videos' / name)
    out = str(tmp_path / 'shards')
    tool.main([
        DEMO_WEBVID, out, '--no-tags', '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path}',
        f'train_dataloader.dataset.ann_file={ann}',
        'train_dataloader.dataset.data_prefix.video=data/videos'
    ])
    failed = open(osp.join(out, 'failed.txt')).read().splitlines()
    assert len(failed) == 1 and failed[0].startswith(
        str(root / 'videos' / osp.basename(missing)))
    index = read_index(out)
    videos = {files.get_data_info(i)['video_id'] for i in range(len(files))}
    assert index['num_samples'] == len(videos) - 1
    assert index['pos_tagger'] is None


# -- VideoTextShardDataset ---------------------------------------------------
def loader_order(dataset, batch_size, num_workers, epochs=(0, ),
                 persistent=False):
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, num_workers=num_workers,
        collate_fn=pseudo_collate, persistent_workers=persistent)
    orders = []
    for epoch in epochs:
        dataset.set_epoch(epoch, batch_size, 0)
        batches = [[s.metainfo['sample_idx'] for s in b['data_samples']]
                   for b in loader]
        assert len(batches) == len(loader)
        orders.append(batches)
    return orders


def test_workers_give_the_single_process_order(demo_shards):
    dataset = shard_dataset(demo_shards, shuffle_buffer=16)
    one = loader_order(dataset, 4, 0)[0]
    two = loader_order(dataset, 4, 2)[0]
    assert one == two
    flat = sum(one, [])
    assert sorted(flat) == list(range(len(dataset)))
    assert flat != sorted(flat)


def test_persistent_workers_follow_set_epoch(demo_shards):
    dataset = shard_dataset(demo_shards, shuffle_buffer=16)
    persistent = loader_order(dataset, 4, 2, epochs=(0, 1), persistent=True)
    fresh = loader_order(dataset, 4, 0, epochs=(0, 1))
    assert persistent == fresh
    assert persistent[0] != persistent[1]


def test_iterating_before_set_epoch_is_an_error(demo_shards):
    with pytest.raises(RuntimeError, match='ShardEpochHook'):
        next(iter(shard_dataset(demo_shards)))


def test_a_shard_item_is_the_file_item_through_the_same_pipeline(
        demo_root, demo_shards):
    """Deterministic frames (test-mode sampling): the same frames, boxes,
    tokens and noun/verb masks (precomputed tags == spaCy at run time)."""
    pipeline = demo_pipeline(test_mode=True)
    files = file_dataset(demo_root, pipeline=pipeline)
    by_pair = {(files.get_data_info(i)['video_id'],
                files.get_data_info(i)['text']): i
               for i in range(len(files))}
    dataset = shard_dataset(demo_shards, pipeline=pipeline, shuffle=False)
    dataset.set_epoch(0)
    for n, got in enumerate(dataset):
        sample = got['data_samples']
        meta = sample.metainfo
        ref = files[by_pair[(meta['video_id'], meta['text'])]]
        assert torch.equal(got['inputs'], ref['inputs'])
        for key in ('token_ids', 'noun_mask', 'verb_mask', 'obj_boxes',
                    'obj_mask', 'obj_noun_index'):
            assert torch.equal(sample.get(key),
                               ref['data_samples'].get(key)), key
        assert sample.noun_mask.any() and sample.verb_mask.any()
        if n == 7:
            break


def test_a_corrupt_video_in_a_shard_is_replaced_and_reported(
        demo_shards, tmp_path):
    root = str(tmp_path / 'broken')
    os.makedirs(root)
    index = read_index(demo_shards)
    for shard in index['shards']:
        src, dst = (osp.join(d, shard['name']) for d in (demo_shards, root))
        with tarfile.open(src) as tin, tarfile.open(dst, 'w') as tout:
            for member in tin:
                data = tin.extractfile(member).read()
                if member.name == '000000003.mp4':
                    data = b'broken'
                    member.size = len(data)
                tout.addfile(member, io.BytesIO(data))
    with open(osp.join(root, 'index.json'), 'w') as f:
        json.dump(index, f)
    dataset = shard_dataset(root, shuffle=False)
    order = loader_order(dataset, 4, 0)[0]
    texts = index['shards'][0]['texts']
    bad = set(range(sum(texts[:3]), sum(texts[:4])))
    flat = sum(order, [])
    assert len(flat) == len(dataset)  # same number of items per epoch
    assert not bad & set(flat)
    assert dataset.num_bad_samples == len(bad)


def test_shard_epoch_hook_passes_epoch_batch_size_and_seed(demo_shards):
    from types import SimpleNamespace

    from stoavlp.engine.hooks import ShardEpochHook
    dataset = shard_dataset(demo_shards, shuffle_buffer=16)
    loader = SimpleNamespace(dataset=dataset, batch_size=4)
    runner = SimpleNamespace(
        seed=3, train_loop=SimpleNamespace(dataloader=loader, epoch=2))
    ShardEpochHook().before_train_epoch(runner)
    assert list(dataset._state)[:3] == [2, 4, 3]
    shards, items = dataset.positions()
    ref = epoch_positions(dataset.items_per_shard, 2, 3, 0, 1,
                          shuffle_buffer=16)
    assert (shards == ref[0]).all() and (items == ref[1]).all()
    with pytest.raises(TypeError, match='set_epoch'):
        ShardEpochHook().before_train_epoch(SimpleNamespace(
            seed=0, train_loop=SimpleNamespace(dataloader=SimpleNamespace(
                dataset=[], batch_size=1), epoch=0)))
