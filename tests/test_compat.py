"""The third-party fixes applied by ``import stoavlp``."""
import pickle
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from stoavlp.compat import load_external_checkpoint


def test_mmaction_models_import_in_fresh_interpreter():
    code = ('import stoavlp, mmaction.models; '
            'from mmaction.registry import MODELS; '
            'assert MODELS.get("Recognizer3D") is not None; '
            'from mmaction.models.localizers.drn.drn import DRN; print("ok")')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('ok')


class _TinyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=self.linear(torch.stack(inputs)).pow(2).mean())


class _Data(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.full((2, ), float(i)))


def _runner(work_dir, max_epochs, **kwargs):
    return Runner(
        model=_TinyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_Data(),
            batch_size=4,
            sampler=dict(type='DefaultSampler', shuffle=False)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1)),
        default_scope='stoavlp',
        **kwargs)


def test_mmengine_checkpoint_resume_and_load(tmp_path):
    from stoavlp.compat import trusted_checkpoints
    first = _runner(tmp_path, max_epochs=1)
    first.train()
    trained = first.model.linear.weight.detach().clone()
    # resume (optimizer, message hub with HistoryBuffer, RNG state): the
    # project's own training state, as tools/train.py loads it
    with trusted_checkpoints():
        resumed = _runner(tmp_path, max_epochs=2, resume=True)
        resumed.train()
    assert resumed.epoch == 2
    # load_from restores the same weights into a fresh model
    loaded = _runner(tmp_path / 'other', max_epochs=1,
                     load_from=str(tmp_path / 'epoch_1.pth'))
    with trusted_checkpoints():
        loaded.load_or_resume()
    torch.testing.assert_close(loaded.model.linear.weight, trained)


class _Payload:
    """An arbitrary object: a weights-only load must refuse it."""


def test_external_weights_load_weights_only(tmp_path):
    good = tmp_path / 'good.pt'
    torch.save({'w': torch.ones(2)}, good)
    assert load_external_checkpoint(str(good))['w'].sum() == 2
    bad = tmp_path / 'bad.pt'
    torch.save({'w': torch.ones(2), 'x': _Payload()}, bad)
    with pytest.raises(pickle.UnpicklingError):
        load_external_checkpoint(str(bad))
    with pytest.raises(FileNotFoundError, match='missing.pt'):
        load_external_checkpoint(str(tmp_path / 'missing.pt'))


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    import os

    from mmengine.fileio.backends.local_backend import LocalBackend
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'old complete checkpoint')

    def killed(src, dst):  # the process dies right before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', killed)
    with pytest.raises(KeyboardInterrupt):
        LocalBackend().put(b'new checkpoint', str(target))
    assert target.read_bytes() == b'old complete checkpoint'
    monkeypatch.undo()
    LocalBackend().put(b'new checkpoint', str(target))
    assert target.read_bytes() == b'new checkpoint'


def test_resume_auto_survives_a_broken_last_checkpoint_pointer(tmp_path):
    import os
    import time

    import mmengine.runner.runner as runner_module
    find = runner_module.find_latest_checkpoint
    (tmp_path / 'iter_2.pth').write_bytes(b'x')
    time.sleep(0.01)
    (tmp_path / 'iter_4.pth').write_bytes(b'x')
    os.utime(tmp_path / 'iter_2.pth', (1, 1))
    (tmp_path / 'last_checkpoint').write_text('')  # killed while writing
    assert find(str(tmp_path)) == str(tmp_path / 'iter_4.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_6.pth'))
    assert find(str(tmp_path)) == str(tmp_path / 'iter_4.pth')  # stale
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert find(str(tmp_path)) == str(tmp_path / 'iter_2.pth')


def test_resume_auto_falls_back_only_to_the_runners_own_checkpoints(
        tmp_path):
    import os

    import mmengine.runner.runner as runner_module
    find = runner_module.find_latest_checkpoint
    (tmp_path / 'epoch_3.pth').write_bytes(b'x')
    os.utime(tmp_path / 'epoch_3.pth', (1, 1))
    # newer, but not a training state this run wrote
    for name in ('best_t2v_R1_epoch_3.pth', 'converted.pth', 'clip.pth'):
        (tmp_path / name).write_bytes(b'x')
    assert find(str(tmp_path)) == str(tmp_path / 'epoch_3.pth')
    (tmp_path / 'epoch_3.pth').unlink()
    assert find(str(tmp_path)) is None  # nothing to resume: a fresh start


def test_failed_and_killed_saves_leave_no_temporary_files(tmp_path,
                                                          monkeypatch):
    import os
    import subprocess
    import sys

    import mmengine.runner.runner as runner_module
    from mmengine.fileio.backends.local_backend import LocalBackend
    target = tmp_path / 'epoch_1.pth'

    def disk_full(*args):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', disk_full)
    with pytest.raises(OSError, match='No space'):
        LocalBackend().put(b'checkpoint', str(target))
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []
    # a save killed mid-write (SIGKILL: no handler runs) leaves its file;
    # resuming removes it, keeps a live process's one
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    (tmp_path / f'epoch_2.pth.tmp{dead.pid}').write_bytes(b'half')
    (tmp_path / f'epoch_2.pth.tmp{os.getpid()}').write_bytes(b'writing')
    (tmp_path / 'epoch_1.pth').write_bytes(b'x')
    assert runner_module.find_latest_checkpoint(str(tmp_path)) == str(
        tmp_path / 'epoch_1.pth')
    assert sorted(os.listdir(tmp_path)) == [
        'epoch_1.pth', f'epoch_2.pth.tmp{os.getpid()}']


@pytest.mark.parametrize('require_full', ['0', '1'])
def test_mmcv_lite_warning_silenced_unless_full_mmcv_is_required(
        require_full):
    """The warning mmcv-lite's ``mmcv.cnn.bricks.transformer`` gives on
    import (its exact text), raised after ``import stoavlp``."""
    import os
    code = ('import stoavlp, warnings; warnings.warn("Fail to import '
            '``MultiScaleDeformableAttention`` from ``mmcv.ops.multi_scale_'
            'deform_attn``, You should install ``mmcv`` rather than '
            '``mmcv-lite`` if you need this module. ")')
    env = dict(os.environ, STOAVLP_REQUIRE_MMCV_FULL=require_full)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    said = 'MultiScaleDeformableAttention' in out.stderr
    assert said == (require_full == '1'), out.stderr[-2000:]
    # other warnings still show
    out = subprocess.run(
        [sys.executable, '-c', 'import stoavlp, warnings; '
         'warnings.warn("Fail to import something else")'],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, STOAVLP_REQUIRE_MMCV_FULL='0'))
    assert 'something else' in out.stderr


class _SideEffect:
    """Unpickling this runs code (writes a file): what an attacker's
    checkpoint would do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_crafted_pickle_is_refused_by_default_and_said_how(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    from stoavlp.compat import trusted_checkpoints
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': {'w': torch.ones(1)},
                'meta': {'x': _SideEffect(str(marker))}}, evil)
    with pytest.raises(pickle.UnpicklingError,
                       match=r'epoch_1\.pth holds more than weights.*'
                       r'trusted_checkpoints.*publish_model'):
        _load_checkpoint(str(evil), map_location='cpu')
    assert not marker.exists()  # nothing ran
    # the project's own tools enter the trusted context: full unpickling
    with trusted_checkpoints():
        _load_checkpoint(str(evil), map_location='cpu')
    assert marker.exists()
    # and leave it: refused again
    marker.unlink()
    with pytest.raises(pickle.UnpicklingError):
        _load_checkpoint(str(evil), map_location='cpu')
    assert not marker.exists()


def test_training_checkpoint_needs_trust_published_one_does_not(tmp_path):
    import importlib.util
    import os.path as osp

    from mmengine.runner.checkpoint import _load_checkpoint

    from stoavlp.compat import trusted_checkpoints
    first = _runner(tmp_path, max_epochs=1)
    first.train()
    checkpoint = str(tmp_path / 'epoch_1.pth')
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        _load_checkpoint(checkpoint, map_location='cpu')
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(
        'publish_model',
        osp.join(root, 'tools', 'model_converters', 'publish_model.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tool.publish(checkpoint, str(tmp_path / 'pub' / 'tiny.pth'))
    assert osp.basename(out).startswith('tiny-') and out.endswith('.pth')
    published = torch.load(out, weights_only=True)
    with trusted_checkpoints():
        full = _load_checkpoint(checkpoint, map_location='cpu')
    assert published['state_dict'].keys() == full['state_dict'].keys()
    for key, value in full['state_dict'].items():
        torch.testing.assert_close(published['state_dict'][key], value)
    assert published['meta']['epoch'] == 1
    # the default loader reads it (e.g. an mmaction2 project's load_from)
    assert _load_checkpoint(out, map_location='cpu')['meta']['epoch'] == 1
