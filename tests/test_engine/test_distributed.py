"""Two CPU processes (gloo) through tools/dist_train.sh equal one process
with the whole batch: losses (VTC with gathered negatives, VTM with the
global hard-negative pool, MLM/PLM/OTA/ASP) and the parameters after one
step."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from stoavlp.testing import DEMO_PRETRAIN_OFFLINE

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                  'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def options(demo_root, work_dir, batch, indices):
    return [
        '--work-dir', work_dir, '--cfg-options', *DEMO_PRETRAIN_OFFLINE,
        f'train_dataloader.dataset.data_root={demo_root}',
        f'train_dataloader.dataset.indices={indices}',
        f'train_dataloader.batch_size={batch}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'train_dataloader.sampler.shuffle=False',
        # fixed frames and no dropout: the only randomness left is what the
        # model draws for the global batch (masks, splits, negatives)
        'train_dataloader.dataset.pipeline.2.test_mode=True',
        'model.vtm_head.dropout=0.0', 'model.lm_head.dropout=0.0',
        'train_cfg.max_epochs=1', 'param_scheduler=None',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1',
        'env_cfg.dist_cfg.backend=gloo'
    ]


def logged_losses(work_dir):
    [run] = [d for d in os.listdir(work_dir)
             if osp.isdir(osp.join(work_dir, d, 'vis_data'))]
    with open(osp.join(work_dir, run, 'vis_data', 'scalars.json')) as f:
        record = json.loads(f.readline())
    return {k: v for k, v in record.items() if k.startswith('loss')}


@pytest.mark.slow
def test_two_ranks_equal_one_process_with_the_global_batch(demo_root,
                                                            tmp_path):
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PATH=osp.dirname(sys.executable) + os.pathsep +
               os.environ['PATH'])
    ddp_dir, single_dir = str(tmp_path / 'ddp'), str(tmp_path / 'single')
    # DistributedSampler (no shuffle) gives rank r the items r, r+2, ...;
    # gathered, the global batch is [0, 2, 4, 6, 1, 3, 5, 7]: the single
    # process reads its batch in that order.
    ddp = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), CONFIG, '2'] +
        options(demo_root, ddp_dir, 4, '[0,1,2,3,4,5,6,7]'),
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    single = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG] +
        options(demo_root, single_dir, 8, '[0,2,4,6,1,3,5,7]'),
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert single.returncode == 0, single.stderr[-3000:]

    ddp_losses, single_losses = logged_losses(ddp_dir), logged_losses(
        single_dir)
    assert set(ddp_losses) >= {'loss_vtc', 'loss_vtm', 'loss_mlm',
                               'loss_plm', 'loss_ota', 'loss_asp'}
    for name, value in single_losses.items():
        # 1e-6, relative for the total (~28, float32 sums of six losses)
        assert ddp_losses[name] == pytest.approx(value, abs=1e-6,
                                                 rel=1e-6), name

    ddp_state = torch.load(osp.join(ddp_dir, 'epoch_1.pth'),
                           weights_only=False)['state_dict']
    single_state = torch.load(osp.join(single_dir, 'epoch_1.pth'),
                              weights_only=False)['state_dict']
    assert ddp_state.keys() == single_state.keys()
    for key, value in single_state.items():
        torch.testing.assert_close(ddp_state[key], value, atol=1e-6,
                                   rtol=1e-5, msg=key)
