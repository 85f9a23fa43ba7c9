"""tools/analysis_tools/ablation_study.py: the rows are Table 4's configs,
each stage's config is what the study says it runs, the table's statistics
and the scheduler of parallel runs (the runs themselves are the study's
hour; the stages are the demo configs the other tests train)."""
import ast
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def study():
    spec = importlib.util.spec_from_file_location(
        'ablation_study',
        osp.join(ROOT, 'tools', 'analysis_tools', 'ablation_study.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dotted(call, prefix=''):
    """The keywords of a ``dict(...)`` call, nested ones as dotted keys
    (``video_encoder=dict(action_encoder=None)`` ->
    ``{'video_encoder.action_encoder': None}``)."""
    out = {}
    for kw in call.keywords:
        value = kw.value
        if isinstance(value, ast.Call) and getattr(value.func, 'id',
                                                   None) == 'dict':
            out.update(_dotted(value, f'{prefix}{kw.arg}.'))
        else:
            out[prefix + kw.arg] = ast.literal_eval(value)
    return out


def _model_overrides(path):
    """The ``model = dict(...)`` keywords of an ablation config, read from
    its source (the file itself, not its merged base), as dotted keys."""
    tree = ast.parse(open(path, encoding='utf-8').read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == 'model':
            return _dotted(node.value)
    return {}


def test_rows_drop_exactly_the_parts_of_the_table4_configs(study):
    for row, parts in study.ROWS.items():
        if parts is None:  # no pre-training at all: not a Table 4 config
            continue
        path = osp.join(ROOT, 'configs', 'stoavlp', 'ablations',
                        f'table4_{row}.py')
        assert osp.isfile(path), row
        assert _model_overrides(path) == parts, row


def test_stage_config_applies_row_seed_frames_iterations_and_start(
        study, demo_root, tmp_path):
    args = study.parse_args(['--data', demo_root, '--clip', 'tiny/clip.pth',
                             '--workers', '0'])
    cfg = study.stage_config('pretrain', args, str(tmp_path), 3,
                             study.ROWS['base'], iters=12)
    for part in ('trajectory_encoder', 'action_encoder'):
        assert cfg.model.video_encoder[part] is None, part
    for part in ('ota_loss', 'asp_loss'):
        assert cfg.model[part] is None, part
    assert cfg.model.vtm_head is not None and cfg.model.vtc_loss is not None
    clip = osp.abspath('tiny/clip.pth')
    assert cfg.model.video_encoder.backbone.pretrained == clip
    assert cfg.model.vtc_loss.pretrained == clip
    assert cfg.load_from is None
    assert cfg.randomness.seed == 3 and cfg.work_dir == str(tmp_path)
    assert cfg.train_dataloader.num_workers == 0
    text = json.dumps(cfg.to_dict(), default=str)
    assert 'data/demo' not in text and demo_root in text
    samplers = [t for t in cfg.train_dataloader.dataset.pipeline
                if t['type'] == 'UniformSample']
    assert samplers and all(t['clip_len'] == 2 for t in samplers)
    # in iterations: half warm-up, then cosine
    warmup, cosine = cfg.param_scheduler
    assert (warmup['type'], warmup['begin'], warmup['end']) == (
        'LinearLR', 0, 6)
    assert (cosine['type'], cosine['begin'], cosine['end'],
            cosine['T_max']) == ('CosineAnnealingLR', 6, 12, 6)
    assert not warmup['by_epoch'] and not cosine['by_epoch']
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == 12
    assert cfg.default_hooks.checkpoint.interval == 12

    # a fine-tuning stage starts from the row's checkpoint, not the CLIP
    cfg = study.stage_config('retrieval', args, str(tmp_path), 0,
                             study.ROWS['full'], load_from='pre/iter_12.pth',
                             iters=6)
    assert cfg.load_from == 'pre/iter_12.pth'
    assert cfg.model.video_encoder.backbone.pretrained is None
    assert cfg.train_cfg.max_iters == 6


def _write_run(work_dir, row, seed, r1, mdr, seconds=60.0):
    out = osp.join(work_dir, row, f'seed_{seed}')
    os.makedirs(out)
    with open(osp.join(out, 'metrics.json'), 'w') as f:
        json.dump({'retrieval': {'t2v/R1': r1, 't2v/MdR': mdr},
                   'qa': {'qa/acc': 40.0}, 'seconds': seconds}, f)


def test_table_mean_std_and_wins_over_base(study, tmp_path):
    work_dir = str(tmp_path)
    base_r1, full_r1 = [30.0, 32.0, 31.0], [33.0, 31.0, 35.0]
    base_mdr, full_mdr = [3.0, 3.0, 3.0], [2.0, 3.0, 2.0]
    for seed in range(3):
        _write_run(work_dir, 'base', seed, base_r1[seed], base_mdr[seed])
        _write_run(work_dir, 'full', seed, full_r1[seed], full_mdr[seed])
    args = study.parse_args(['--work-dir', work_dir, '--seeds', '0', '1',
                             '2', '--rows', 'base', 'full'])
    table = study.collect(work_dir, args.rows, args.seeds)
    assert table['base']['R@1'] == base_r1
    assert table['full']['QA acc'] == [40.0] * 3
    assert 'CIDEr' not in table['full']  # not measured: shown as '-'
    text = study.markdown(table, args.seeds)
    assert (f'| Base | - | {np.mean(base_r1):.1f} ± {np.std(base_r1):.1f} |'
            in text)  # population std, as the caption under it says
    # the second table: differences from Base
    full_line = [line for line in text.splitlines()
                 if line.startswith('| full')][-1]
    cells = [c.strip() for c in full_line.strip('|').split('|')]
    r1_diff = np.subtract(full_r1, base_r1)
    # R@1: higher is better, full wins on seeds 0 and 2
    assert cells[2] == f'{r1_diff.mean():+.1f} (2/3)'
    # MdR: lower is better, full wins where it is 2 (seeds 0 and 2)
    assert cells[4] == f'{np.mean(np.subtract(full_mdr, base_mdr)):+.1f} (2/3)'
    study.bar_chart(table, str(tmp_path / 'ablation.png'))
    assert osp.getsize(tmp_path / 'ablation.png') > 1000


class _FakeProcess:
    """Stands for a run's subprocess: records its command, then exits."""
    launched = []

    def __init__(self, argv, env, fail=False, **kwargs):
        self.argv, self.env = argv, env
        self.returncode = None
        self._exit = 1 if fail else 0
        _FakeProcess.launched.append(self)

    def poll(self):
        self.returncode = self._exit
        return self.returncode

    def terminate(self):
        pass


def test_runs_in_parallel_pretrained_rows_first(study, tmp_path,
                                                monkeypatch):
    _FakeProcess.launched = []
    monkeypatch.setattr(study.subprocess, 'Popen', _FakeProcess)
    monkeypatch.setattr(study.time, 'sleep', lambda s: None)
    args = study.parse_args(['--work-dir', str(tmp_path), '--jobs', '2'])
    todo = [('none', 0), ('base', 0), ('none', 1), ('full', 1)]
    study.run_all(args, todo, start=0.0)
    rows = [p.argv[p.argv.index('--run') + 1] for p in _FakeProcess.launched]
    assert rows == ['base', 'full', 'none', 'none']
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    for proc in _FakeProcess.launched:
        assert proc.env['OMP_NUM_THREADS'] == threads
        assert proc.argv[proc.argv.index('--workers') + 1] == '1'
        # the study's options reach the run
        assert proc.argv[proc.argv.index('--caption-lr') + 1] == str(
            args.caption_lr)

    def failing(argv, env, **kwargs):
        return _FakeProcess(argv, env, fail=True)

    monkeypatch.setattr(study.subprocess, 'Popen', failing)
    with pytest.raises(SystemExit, match=r'base seed 0 failed.*base_seed0'):
        study.run_all(args, [('base', 0)], start=0.0)
