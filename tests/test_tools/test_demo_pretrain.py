"""The main job's pre-training: the tiny CLIP (stage 0), then STOA-VLP from
it with mechanism validation, then the loss plot, end to end on real mp4
files (short runs)."""
import importlib.util
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                  'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py')
CLIP_CONFIG = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                       'clip_tiny-u4-res112_1xb32-6e_demo-contrastive.py')


def load_tool(*path):
    spec = importlib.util.spec_from_file_location(
        path[-1][:-3], osp.join(ROOT, 'tools', *path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _loader_options(prefix, demo_root, datasets=None):
    """cfg-options pointing a dataloader (or each of its concatenated
    datasets) at the test's small demo data, in one process."""
    out = [f'{prefix}.batch_size=8', f'{prefix}.num_workers=0',
           f'{prefix}.persistent_workers=False']
    keys = [f'{prefix}.dataset'] if datasets is None else [
        f'{prefix}.dataset.datasets.{i}' for i in range(datasets)]
    return out + [f'{key}.data_root={demo_root}' for key in keys]


@pytest.mark.slow
def test_main_job_chain_tiny_clip_then_stoa_with_mechanism(demo_root,
                                                           tmp_path, capsys):
    """Stage 0 exports a tiny CLIP; STOA pre-training loads it through
    ``pretrained=``, validates the mechanism each epoch and draws it."""
    clip_dir = str(tmp_path / 'clip')
    load_tool('train.py').main([
        CLIP_CONFIG, '--work-dir', clip_dir, '--cfg-options',
        'train_cfg.max_epochs=2', 'train_dataloader.dataset.indices=32',
        *_loader_options('train_dataloader', demo_root)])
    clip = osp.join(clip_dir, 'clip.pth')
    assert osp.isfile(clip)
    work_dir = str(tmp_path / 'work')
    load_tool('train.py').main([
        CONFIG, '--work-dir', work_dir, '--cfg-options',
        f'model.video_encoder.backbone.pretrained={clip}',
        f'model.text_encoder.pretrained={clip}',
        f'model.vtc_loss.pretrained={clip}',
        'train_dataloader.dataset.indices=24', 'train_cfg.max_epochs=2',
        f'val_evaluator.meta_file={osp.join(demo_root, "meta.json")}',
        *_loader_options('train_dataloader', demo_root),
        *_loader_options('val_dataloader', demo_root, datasets=2),
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1'
    ])
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    capsys.readouterr()
    scalars = open(_latest(work_dir, 'vis_data', 'scalars.json')).read()
    for key in ('ota/acc', 'ota/chance', 'vtm/acc_random', 'vtm/acc_edit',
                'mc/acc_vtm'):
        assert f'"{key}"' in scalars, key
    assert osp.getsize(osp.join(work_dir, 'mechanism.png')) > 10_000
    out = str(tmp_path / 'losses.png')
    load_tool('analysis_tools', 'plot_losses.py').main([work_dir, '--out',
                                                        out])
    printed = capsys.readouterr().out
    for name in ('loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_plm', 'loss_ota',
                 'loss_asp'):
        assert name in printed
    assert osp.getsize(out) > 10_000


def _latest(work_dir, *path):
    import glob
    return sorted(glob.glob(osp.join(work_dir, '*', *path)))[-1]
