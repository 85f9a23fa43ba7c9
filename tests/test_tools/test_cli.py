"""Command-line tools: help, argument conventions, launch scripts."""
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize('tool', ['tools/train.py', 'tools/test.py'])
def test_help(tool):
    out = subprocess.run([sys.executable, tool, '--help'], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    for flag in ('--work-dir', '--cfg-options', '--launcher'):
        assert flag in out.stdout
    if tool.endswith('train.py'):
        for flag in ('--resume', '--amp', '--auto-scale-lr', '--seed',
                     '--deterministic'):
            assert flag in out.stdout


def _load(tool):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        osp.basename(tool)[:-3] + '_tool', osp.join(ROOT, tool))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('spelling', ['--local-rank', '--local_rank'])
def test_local_rank_spellings(spelling, monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    train = _load('tools/train.py')
    args = train.parse_args(['cfg.py', spelling, '3'])
    assert args.local_rank == 3
    assert __import__('os').environ['LOCAL_RANK'] == '3'


def test_train_merge_args_resume_and_workdir():
    from mmengine.config import Config
    train = _load('tools/train.py')
    cfg = Config(dict(optim_wrapper=dict(optimizer=dict(type='SGD'))))
    args = train.parse_args(['configs/x/my_exp.py', '--resume', '--amp',
                             '--cfg-options', 'a.b=3'])
    cfg = train.merge_args(cfg, args)
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.work_dir == osp.join('./work_dirs', 'my_exp')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    guarded = train.merge_args(
        Config(dict(optim_wrapper=dict(type='GuardedOptimWrapper'))),
        train.parse_args(['c.py', '--amp']))
    assert guarded.optim_wrapper.type == 'GuardedAmpOptimWrapper'
    assert cfg.a.b == 3
    args = train.parse_args(['c.py', '--resume', 'ckpt.pth'])
    cfg = train.merge_args(Config(dict()), args)
    assert cfg.resume is True and cfg.load_from == 'ckpt.pth'


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh',
                                    'slurm_train.sh', 'slurm_test.sh',
                                    'setup.sh', 'run_tests.sh', 'run_demo.sh',
                                    'install_mmcv_full.sh'])
def test_shell_scripts_parse(script):
    out = subprocess.run(['bash', '-n', osp.join(ROOT, 'tools', script)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_dist_train_uses_torchrun_with_pytorch_launcher(tmp_path):
    # A fake torchrun on PATH records its arguments.
    fake = tmp_path / 'torchrun'
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\n')
    fake.chmod(0o755)
    env = dict(__import__('os').environ, PATH=f'{tmp_path}:/usr/bin:/bin',
               NNODES='2', NODE_RANK='1', MASTER_ADDR='10.0.0.1')
    subprocess.run(['bash', 'tools/dist_train.sh', 'cfg.py', '8', '--amp'],
                   cwd=ROOT, env=env, check=True)
    args = (tmp_path / 'args').read_text().split()
    assert '--nproc_per_node=8' in args and '--nnodes=2' in args
    assert '--node_rank=1' in args and '--master_addr=10.0.0.1' in args
    assert args[-4:] == ['cfg.py', '--launcher', 'pytorch', '--amp']


DEMO_RETRIEVAL = osp.join(ROOT, 'configs', 'stoavlp', 'demo',
                          'stoavlp_tiny-u8-res112_1xb16-3e_demo-retrieval.py')


def _no_runner(monkeypatch, tool):
    """Fail the test if the tool starts building a runner."""
    def build(*args, **kwargs):
        raise AssertionError('the runner was built before the check')
    monkeypatch.setattr(tool.Runner, 'from_cfg', build)


def test_test_py_names_a_missing_checkpoint_before_building(monkeypatch):
    test = _load('tools/test.py')
    _no_runner(monkeypatch, test)
    with pytest.raises(FileNotFoundError,
                       match=r'checkpoint not found: no/such/epoch_3\.pth'):
        test.main([DEMO_RETRIEVAL, 'no/such/epoch_3.pth'])


def test_train_py_names_a_missing_resume_or_load_from(monkeypatch):
    train = _load('tools/train.py')
    _no_runner(monkeypatch, train)
    with pytest.raises(FileNotFoundError,
                       match=r'resume checkpoint not found: gone\.pth'):
        train.main([DEMO_RETRIEVAL, '--resume', 'gone.pth'])
    with pytest.raises(FileNotFoundError,
                       match=r'load_from not found: none/pre\.pth'):
        train.main([DEMO_RETRIEVAL, '--cfg-options',
                    'load_from=none/pre.pth'])


def test_preflight_makes_worker_settings_consistent_and_says_so(caplog_mm):
    from mmengine.config import Config

    from stoavlp.utils.preflight import preflight
    cfg = Config(dict(
        train_dataloader=dict(num_workers=0, persistent_workers=True),
        val_dataloader=dict(num_workers=2, persistent_workers=True),
        test_dataloader=None))
    preflight(cfg)
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.val_dataloader.persistent_workers is True
    said = [m for m in caplog_mm() if 'persistent' in m]
    assert len(said) == 1
    assert 'train_dataloader.num_workers=0' in said[0]
    assert 'train_dataloader.persistent_workers' in said[0]


def test_mmcv_build_cache_key_tells_torch_cuda_and_ops_apart():
    """A CPU-ops build (a GPU-less login node) and a CUDA-ops one, or builds
    for torch+cu126 and torch+cu130, never share a cached wheel."""
    import os

    import torch

    def key(**env):
        out = subprocess.run(
            ['bash', 'tools/install_mmcv_full.sh', '--print-key'], cwd=ROOT,
            capture_output=True, text=True, timeout=300,
            env=dict(os.environ, PYTHON=sys.executable, **env))
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout.strip()

    cpu, cuda = key(FORCE_CUDA='0'), key(FORCE_CUDA='1')
    assert cpu.endswith('-ops-cpu') and cuda.endswith('-ops-cuda')
    # the full torch version, CUDA suffix included (+cu130 vs +cu126)
    assert f'torch{torch.__version__}-' in cpu
    assert f'cp{sys.version_info[0]}{sys.version_info[1]}' in cpu
    if not torch.cuda.is_available():  # detected: no GPU, CPU ops
        assert key() == cpu
