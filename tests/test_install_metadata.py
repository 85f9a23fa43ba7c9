"""The package metadata pip sees (``setup.py egg_info``): ranges that leave
a user's torch and compiled mmcv alone, a Python floor torch supports, and
no mmcv-lite over a full mmcv."""
import os.path as osp
import re
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='module')
def metadata(tmp_path_factory):
    out = tmp_path_factory.mktemp('egg')
    proc = subprocess.run(
        [sys.executable, 'setup.py', '-q', 'egg_info', '--egg-base',
         str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    info = osp.join(str(out), 'stoavlp.egg-info')
    with open(osp.join(info, 'requires.txt'), encoding='utf-8') as f:
        requires = f.read()
    with open(osp.join(info, 'PKG-INFO'), encoding='utf-8') as f:
        pkg_info = f.read()
    sections, name = {'': []}, ''
    for line in requires.splitlines():
        if line.startswith('['):
            name = line.strip('[]')
            sections[name] = []
        elif line.strip():
            sections[name].append(line.strip())
    return sections, pkg_info


def _name(req):
    return re.split(r'[<>=!~; \[]', req, 1)[0].lower().replace('_', '-')


def test_no_exact_pins_on_torch_or_openmmlab(metadata):
    sections, _ = metadata
    for extra, reqs in sections.items():
        for req in reqs:
            if _name(req).startswith(('torch', 'mm')):
                assert '==' not in req, (extra or 'install_requires', req)


def test_mmcv_lite_is_not_an_extra(metadata):
    sections, _ = metadata
    for extra in ('mim', 'all'):
        names = [_name(r) for r in sections[extra]]
        assert 'mmcv' in names and 'mmcv-lite' not in names, extra


def test_python_floor_is_what_torch_needs(metadata):
    _, pkg_info = metadata
    assert 'Requires-Python: >=3.10' in pkg_info
    with open(osp.join(ROOT, 'docs', 'get_started.md'),
              encoding='utf-8') as f:
        assert 'Python 3.10' in f.read()


def test_constraints_pin_every_ranged_openmmlab_package():
    """tools/setup.sh's reproducible .venv: every torch/mm* requirement has
    an exact version in the constraints."""
    def read(path):
        with open(osp.join(ROOT, path), encoding='utf-8') as f:
            return [line.strip() for line in f
                    if line.strip() and not line.startswith(('#', '-r'))]
    pinned = {_name(r): r for r in read('requirements/constraints.txt')}
    assert all('==' in r for r in pinned.values())
    for path in ('requirements/runtime.txt', 'requirements/mminstall.txt',
                 'requirements.txt'):
        for req in read(path):
            if _name(req).startswith(('torch', 'mm')):
                assert _name(req) in pinned, (path, req)
