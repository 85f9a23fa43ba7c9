"""model-index.yml, the metafiles and mim-style packaging."""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from mmengine.config import Config

from stoavlp.testing import DEMO_PRETRAIN_OFFLINE

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAPER_CONFIG_DIRS = ('configs/stoavlp', 'configs/retrieval', 'configs/caption',
                     'configs/qa')
# metafile metric name -> the word the configs' header comments use
COMMENT_NAMES = {'Accuracy': 'accuracy'}


def _models():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    models = []
    for metafile in index['Import']:
        path = osp.join(ROOT, metafile)
        assert osp.isfile(path), f'model-index.yml imports missing {metafile}'
        with open(path) as f:
            models += yaml.safe_load(f)['Models']
    return models


def test_every_paper_config_is_indexed_once_and_loads():
    models = _models()
    names = [m['Name'] for m in models]
    assert len(names) == len(set(names))
    indexed = [m['Config'] for m in models]
    assert len(indexed) == len(set(indexed))
    on_disk = {
        osp.relpath(p, ROOT)
        for d in PAPER_CONFIG_DIRS
        for p in glob.glob(osp.join(ROOT, d, '**', '*.py'), recursive=True)
        if '/demo/' not in p
    }
    assert set(indexed) == on_disk
    for m in models:
        assert m['In Collection'] == 'STOA-VLP'
        Config.fromfile(osp.join(ROOT, m['Config']))  # every config builds


def test_results_are_the_numbers_the_configs_cite():
    """Each fine-tuning config's first line cites its paper row; the
    metafile must report the same numbers."""
    checked = 0
    for m in _models():
        with open(osp.join(ROOT, m['Config'])) as f:
            header = f.readline()
        cited = re.search(r'^# Table \d.*\(paper: ([^)]*)\)', header)
        if not cited:  # pre-training and ablation configs cite no metric
            continue
        numbers = dict(
            (k, float(v)) for k, v in re.findall(r'([\w@-]+) ([\d.]+)',
                                                 cited[1]))
        (result, ) = m['Results']
        for metric, value in result['Metrics'].items():
            assert numbers[COMMENT_NAMES.get(metric, metric)] == value, (
                m['Name'], metric)
        checked += 1
    assert checked == 8  # Tables 1-3: 2 captioning, 3 retrieval, 3 QA/MC


def test_table4_rows_match_the_paper_order():
    """Table 4's last row is the full model: the same run as Tables 1 and 3,
    so its numbers must equal those of the fine-tuning configs."""
    by_name = {m['Name']: m for m in _models()}
    full = by_name['stoavlp_ablation_table4_full']['Results']
    main = by_name['stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain']
    assert full == main['Results']
    for i, name in enumerate(('8xb4-5e_msrvtt-caption', '8xb6-10e_msvd-caption',
                              '8xb8-5e_msvd-qa')):
        task = by_name[f'stoavlp_vit-b16-u12-res224_{name}']['Results'][0]
        assert full[i]['Metrics'] == task['Metrics'], name


def test_mim_finds_tools_configs_and_the_model_index():
    import stoavlp
    mim_root = osp.join(osp.dirname(stoavlp.__file__), '.mim')
    for name in ('tools/train.py', 'tools/test.py', 'model-index.yml',
                 'configs/qa/metafile.yml'):
        path = osp.join(mim_root, name)
        assert osp.exists(path), f'{path} missing: reinstall with ' \
            '`pip install -e .`'
        assert osp.samefile(path, osp.join(ROOT, name))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which('mim', path=osp.dirname(sys.executable))
                    is None, reason='openmim not installed')
def test_mim_train_runs_a_config_by_name(demo_root, tmp_path):
    """After a regular (wheel) install, `mim train stoavlp CONFIG_NAME` finds
    the config and tools/train.py in the package's .mim copy and trains
    (one epoch on 4 demo clips, CPU). mim cannot locate packages installed
    in PEP 660 editable mode (it looks for site-packages/<pkg>), whatever
    the codebase; docs/get_started.md says so."""
    src, site = tmp_path / 'src', tmp_path / 'site'
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        '.venv', '.git', 'data', 'work_dirs', '.mim', '__pycache__',
        '*.egg-info', 'build', 'projects', 'tests'))
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', '--target', str(site), str(src)],
                   check=True, capture_output=True, timeout=600)
    mim_copy = site / 'stoavlp' / '.mim'
    assert (mim_copy / 'tools' / 'train.py').is_file()
    assert not (mim_copy / 'tools').is_symlink()  # a copy, not a link
    assert (mim_copy / 'model-index.yml').is_file()

    work_dir = tmp_path / 'run'
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run(
        [osp.join(osp.dirname(sys.executable), 'mim'), 'train', 'stoavlp',
         'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py', '--work-dir',
         str(work_dir), '--cfg-options', *DEMO_PRETRAIN_OFFLINE,
         'train_cfg.max_epochs=1',
         f'train_dataloader.dataset.data_root={demo_root}',
         'train_dataloader.dataset.indices=4',
         'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False'],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'we find the config file in codebase stoavlp' in proc.stdout
    assert str(site) in proc.stdout  # the installed copy, not the checkout
    assert (work_dir / 'epoch_1.pth').is_file()
