"""A run killed with SIGKILL in the middle of an epoch resumes with
``--resume`` (auto) and, in deterministic mode, repeats the uninterrupted
run's losses, reading files or tar shards; checkpoints are never left
half-written."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest

from stoavlp.testing import DEMO_PRETRAIN_OFFLINE

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                  'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')


SHARDS_CONFIG = CONFIG.replace('-pretrain.py', '-pretrain-shards.py')


def train_cmd(data, work_dir, *extra):
    """Files: 48 training items, 8 a batch; shards: the demo's 96, 16 a
    batch. Either way 6 iterations an epoch."""
    config, root = data
    items = (['train_dataloader.dataset.indices=48',
              'train_dataloader.batch_size=8'] if config == CONFIG else
             ['train_dataloader.batch_size=16'])
    return [
        sys.executable, osp.join(ROOT, 'tools', 'train.py'), config,
        '--work-dir', work_dir, '--seed', '0', '--deterministic', *extra,
        '--cfg-options', *DEMO_PRETRAIN_OFFLINE,
        f'train_dataloader.dataset.data_root={root}', *items,
        # workers re-seeded identically every epoch (non-persistent)
        'train_dataloader.num_workers=1',
        'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=2',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.checkpoint.max_keep_ckpts=-1'
    ]


def losses_by_step(work_dir):
    """``{step: {loss name: value}}`` over every run in ``work_dir``
    (later runs win)."""
    steps = {}
    for run in sorted(os.listdir(work_dir)):
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                for line in f:
                    record = json.loads(line)
                    steps[record['step']] = {
                        k: v for k, v in record.items()
                        if k.startswith('loss')
                    }
    return steps


@pytest.mark.slow
@pytest.mark.parametrize('source', ['files', 'shards'])
def test_sigkill_mid_epoch_then_resume_repeats_the_losses(
        source, demo_root, demo_shards, tmp_path):
    data = (CONFIG, demo_root) if source == 'files' else (SHARDS_CONFIG,
                                                          demo_shards)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    full_dir, killed_dir = str(tmp_path / 'full'), str(tmp_path / 'killed')
    subprocess.run(train_cmd(data, full_dir), cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=900)
    full = losses_by_step(full_dir)
    assert sorted(full) == list(range(1, 13))  # 2 epochs x 6 iterations

    # kill -9 in epoch 2, after the iteration-8 checkpoint
    proc = subprocess.Popen(train_cmd(data, killed_dir), cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if osp.isdir(killed_dir) and max(losses_by_step(killed_dir),
                                         default=0) >= 9:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 9 <= max(losses_by_step(killed_dir)) < 12, 'killed too late'
    saved = sorted(f for f in os.listdir(killed_dir) if f.endswith('.pth'))
    assert 'iter_8.pth' in saved
    assert not [f for f in os.listdir(killed_dir) if '.tmp' in f]

    subprocess.run(train_cmd(data, killed_dir, '--resume'), cwd=ROOT,
                   env=env, check=True, capture_output=True, timeout=900)
    resumed = losses_by_step(killed_dir)
    assert sorted(resumed) == list(range(1, 13))
    for step in range(1, 13):  # before the kill and after the resume
        for name, value in full[step].items():
            assert resumed[step][name] == pytest.approx(value, abs=1e-6), \
                (step, name)
