"""The main job's pre-training: tools/train.py on the demo config, then the
loss plot, end to end on real mp4 files (a short run)."""
import importlib.util
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                  'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')


def load_tool(*path):
    spec = importlib.util.spec_from_file_location(
        path[-1][:-3], osp.join(ROOT, 'tools', *path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_demo_pretraining_runs_and_plots(demo_root, tmp_path, capsys):
    work_dir = str(tmp_path / 'work')
    load_tool('train.py').main([
        CONFIG, '--work-dir', work_dir, '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_root}',
        'train_dataloader.dataset.indices=24', 'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=2',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1'
    ])
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    out = str(tmp_path / 'losses.png')
    load_tool('analysis_tools', 'plot_losses.py').main([work_dir, '--out',
                                                        out])
    printed = capsys.readouterr().out
    for name in ('loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_plm', 'loss_ota',
                 'loss_asp'):
        assert name in printed
    assert osp.getsize(out) > 10_000
