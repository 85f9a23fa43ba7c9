"""MMEngine's ``compile=True`` (torch.compile, inductor) on the demo
pre-training model, on a CPU: it trains, with the eager run's losses."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from stoavlp.testing.demo import offline_demo_pretrain

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                  'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')


class _Losses(Hook):
    def __init__(self):
        self.values = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.values.append({k: float(v) for k, v in outputs.items()
                            if k.startswith('loss')})


def _train(demo_root, work_dir, compile_model):
    cfg = offline_demo_pretrain(Config.fromfile(CONFIG))
    cfg.work_dir = work_dir
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2,
                         val_interval=10)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10)
    cfg.custom_hooks = []
    cfg.log_processor = dict(by_epoch=False)
    loader = cfg.train_dataloader
    loader.batch_size, loader.num_workers = 4, 0
    loader.persistent_workers = False
    loader.dataset.data_root = demo_root
    loader.sampler = dict(type='DefaultSampler', shuffle=False)
    if compile_model:
        cfg.compile = True
    losses = _Losses()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(losses)
    runner.train()
    return losses.values


@pytest.mark.slow
def test_compile_true_trains_with_the_eager_losses(demo_root, tmp_path):
    import torch._inductor.config as inductor_config
    torch._dynamo.reset()
    # compiled random ops (masks, negatives, dropout) draw the eager RNG's
    # numbers, so both runs see the same samples
    inductor_config.fallback_random = True
    eager = _train(demo_root, str(tmp_path / 'eager'), False)
    compiled = _train(demo_root, str(tmp_path / 'compiled'), True)
    assert len(compiled) == len(eager) == 2
    for step, (a, b) in enumerate(zip(eager, compiled)):
        assert a.keys() == b.keys()
        for name in a:
            assert b[name] == pytest.approx(a[name], rel=2e-3, abs=2e-3), \
                (step, name)
