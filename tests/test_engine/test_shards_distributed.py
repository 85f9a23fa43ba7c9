"""Two gloo ranks x two dataloader workers each stream the demo shards:
every training item exactly once per epoch, the same number of batches on
both ranks, and a new order each epoch."""
import collections
import json
import os
import os.path as osp
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRETRAIN = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                    'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')
BATCH, WORKERS, EPOCHS = 4, 2, 2


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _rank(rank, world, port, shards, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                      OMP_NUM_THREADS='1')
    dist.init_process_group('gloo', rank=rank, world_size=world)
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate

    from stoavlp.registry import DATASETS
    from stoavlp.utils import register_all_modules
    register_all_modules()
    dataset = DATASETS.build(dict(
        type='VideoTextShardDataset', data_root=shards, shuffle_buffer=16,
        pipeline=Config.fromfile(PRETRAIN).demo_train_pipeline))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=BATCH, num_workers=WORKERS,
        collate_fn=pseudo_collate, persistent_workers=True)
    epochs = []
    for epoch in range(EPOCHS):
        dataset.set_epoch(epoch, BATCH, 0)
        epochs.append([[s.metainfo['sample_idx'] for s in b['data_samples']]
                       for b in loader])
    gathered = [None] * world
    dist.all_gather_object(gathered, dict(epochs=epochs, len=len(dataset),
                                          batches=len(loader)))
    if rank == 0:
        with open(out, 'w') as f:
            json.dump(gathered, f)
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_ranks_two_workers_see_every_item_once_per_epoch(demo_shards,
                                                             tmp_path):
    from stoavlp.datasets.shard_format import read_index
    total = read_index(demo_shards)['num_items']
    assert total % 2 == 0  # otherwise the last rank pads (tested apart)
    out = str(tmp_path / 'seen.json')
    mp.spawn(_rank, args=(2, free_port(), demo_shards, out), nprocs=2)
    with open(out) as f:
        ranks = json.load(f)
    for r in ranks:
        assert r['len'] == total // 2
        assert len(r['epochs'][0]) == r['batches'] == -(-total // 2 // BATCH)
    orders = []
    for epoch in range(EPOCHS):
        seen = [i for r in ranks for batch in r['epochs'][epoch]
                for i in batch]
        assert collections.Counter(seen) == collections.Counter(
            range(total)), epoch
        orders.append([i for batch in ranks[0]['epochs'][epoch]
                       for i in batch])
    assert orders[0] != orders[1]
    # rank 0's items are not a fixed half: the shard order changes
    assert set(orders[0]) != set(orders[1])
