"""Configs without copies (docs/configs.md): each pipeline is written once,
its variants differ from it in the one value they change, every run's
loaders use one of them, and the retrieval protocol comes from one file.

A copied pipeline that drifts, or a loader that rebuilds one, fails here.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs')
DATASETS = osp.join(CONFIGS, '_base_', 'datasets')
PIPELINES = osp.join(DATASETS, 'pipelines')
TINY = osp.join(CONFIGS, '_base_', 'models', 'stoavlp_tiny.py')
ACTION = osp.join(ROOT, 'projects', 'stoa_action_recognition', 'configs',
                  'stoa-tiny_u8-112px_1xb8-20e_demo-action.py')
RUNS = sorted(p for p in glob.glob(osp.join(CONFIGS, '**', '*.py'),
                                   recursive=True) if '_base_' not in p)
IDS = [osp.relpath(p, CONFIGS) for p in RUNS]


def load(path):
    return Config.fromfile(path).to_dict()


def differences(a, b):
    """``{(step index, key): (a's value, b's value)}`` of two pipelines with
    the same steps in the same order."""
    assert len(a) == len(b)
    out = {}
    for i, (x, y) in enumerate(zip(a, b)):
        for key in set(x) | set(y):
            if x.get(key) != y.get(key):
                out[(i, key)] = (x.get(key), y.get(key))
    return out


def step(pipeline, type_):
    (index, ), = [[i for i, s in enumerate(pipeline) if s['type'] == type_]]
    return index


@pytest.fixture(scope='module')
def paper():
    return load(osp.join(PIPELINES, 'u12_224.py'))


@pytest.fixture(scope='module')
def demo():
    return load(TINY)


def test_train_differs_from_test_only_in_test_mode(paper, demo):
    pairs = [(paper['train_pipeline'], paper['test_pipeline']),
             (demo['demo_train_pipeline'], demo['demo_test_pipeline'])]
    for train, test in pairs:
        sample = step(test, 'UniformSample')
        assert differences(train, test) == {(sample, 'test_mode'):
                                            (False, True)}
    assert paper['val_pipeline'] == paper['test_pipeline']


def test_pyav_variant_swaps_only_the_decoder(paper):
    pyav = load(osp.join(PIPELINES, 'u12_224_pyav.py'))
    for name in ('train_pipeline', 'val_pipeline', 'test_pipeline'):
        init = step(paper[name], 'DecordInit')
        decode = step(paper[name], 'DecordDecode')
        assert differences(paper[name], pyav[name]) == {
            (init, 'type'): ('DecordInit', 'PyAVInit'),
            (decode, 'type'): ('DecordDecode', 'PyAVDecode'),
            (decode, 'mode'): (None, 'accurate'),
        }


def test_didemo_changes_only_the_text_length(paper):
    didemo = load(osp.join(DATASETS, 'didemo_retrieval.py'))
    for name in ('train_pipeline', 'val_pipeline', 'test_pipeline'):
        text = step(paper[name], 'TokenizeText')
        assert differences(paper[name], didemo[name]) == {
            (text, 'tokenizer'): (dict(type='CLIPTokenizer', max_length=32),
                                  dict(type='CLIPTokenizer', max_length=64))}
    assert didemo['train_dataloader']['dataset']['pipeline'] == \
        didemo['train_pipeline']
    assert didemo['val_dataloader']['dataset']['pipeline'] == \
        didemo['val_pipeline']


def test_demo_pipeline_is_the_paper_pipeline_at_demo_size(paper, demo):
    """Same steps in the same order (the demo adds MatchObjectNouns, for the
    OTA accuracy metric); stage 0's differs from training only in frames."""
    types = [s['type'] for s in demo['demo_test_pipeline']]
    types.remove('MatchObjectNouns')
    assert types == [s['type'] for s in paper['test_pipeline']]
    train, clip = demo['demo_train_pipeline'], demo['demo_clip_pipeline']
    sample = step(train, 'UniformSample')
    assert differences(train, clip) == {(sample, 'clip_len'): (8, 4)}


def test_action_pipelines_share_all_but_sampling_and_crop():
    cfg = load(ACTION)
    train, test = cfg['train_pipeline'], cfg['test_pipeline']
    assert train[:2] == test[:2] and train[3:5] == test[3:5]
    assert train[-3:] == test[-3:]
    assert [train[2]['test_mode'], test[2]['test_mode']] == [False, True]
    assert differences([train[2]], [test[2]]) == {(0, 'test_mode'):
                                                  (False, True)}
    assert cfg['test_dataloader']['dataset'] == dict(
        cfg['val_dataloader']['dataset'],
        ann_file=cfg['val_dataloader']['dataset']['ann_file'].replace(
            'val.txt', 'test.txt'))


def _datasets(loader):
    dataset = loader['dataset']
    return dataset.get('datasets', [dataset])


@pytest.mark.parametrize('path', RUNS, ids=IDS)
def test_every_run_uses_a_pipeline_written_once(path, paper, demo):
    """Each loader's pipeline is one of the definitions above; the run's
    val/test stages are complete or absent (MMEngine's Runner rule)."""
    cfg = load(path)
    didemo = load(osp.join(DATASETS, 'didemo_retrieval.py'))
    known = [paper['train_pipeline'], paper['test_pipeline'],
             didemo['train_pipeline'], didemo['test_pipeline'],
             demo['demo_train_pipeline'], demo['demo_test_pipeline'],
             demo['demo_clip_pipeline']]
    for phase in ('train', 'val', 'test'):
        loader = cfg.get(f'{phase}_dataloader')
        if loader is None:
            continue
        for dataset in _datasets(loader):
            assert dataset['pipeline'] in known, (phase, dataset['type'])
            # evaluation runs every pipeline in test mode, training never
            sample = dataset['pipeline'][step(dataset['pipeline'],
                                              'UniformSample')]
            assert sample['test_mode'] == (phase != 'train'), phase
    for phase in ('val', 'test'):
        parts = [cfg.get(f'{phase}_{key}')
                 for key in ('dataloader', 'cfg', 'evaluator')]
        assert all(p is None for p in parts) or \
            all(p is not None for p in parts), (phase, parts)


@pytest.mark.parametrize('path', RUNS, ids=IDS)
def test_retrieval_runs_share_one_protocol(path):
    cfg = load(path)
    test = cfg.get('test_dataloader')
    if not test or not test['dataset']['type'].endswith('RetrievalDataset'):
        return
    assert cfg['test_cfg'] == dict(type='RetrievalLoop', stage='test')
    assert cfg['test_evaluator'] == dict(type='RetrievalRecall')
    if cfg.get('val_dataloader'):
        assert cfg['val_cfg'] == dict(type='RetrievalLoop', stage='val')
        assert cfg['val_evaluator'] == dict(type='RetrievalRecall')
        # a retrieval dataset tests on its validation split
        assert cfg['val_dataloader'] == test


def test_retrieval_protocol_is_written_once():
    """Only datasets/video_text_retrieval.py names the retrieval loop and
    metric; the schedules name no evaluation loops."""
    files = glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True)
    for name in ('RetrievalLoop', 'RetrievalRecall'):
        naming = [osp.relpath(p, CONFIGS) for p in files
                  if f"type='{name}'" in open(p, encoding='utf-8').read()]
        assert naming == ['_base_/datasets/video_text_retrieval.py'], name
    for path in glob.glob(osp.join(CONFIGS, '_base_', 'schedules', '*.py')):
        cfg = load(path)
        assert 'val_cfg' not in cfg and 'test_cfg' not in cfg, path


def test_test_loaders_are_not_copies_of_val_loaders():
    """Datasets evaluated on one split write test = val; the shared loader
    settings are written once (video_text_loaders.py)."""
    loaders = load(osp.join(DATASETS, 'video_text_loaders.py'))
    assert loaders['test_dataloader'] == loaders['val_dataloader']
    train, val = loaders['train_dataloader'], loaders['val_dataloader']
    assert {k: v for k, v in val.items() if k not in ('sampler', 'dataset')} \
        == {k: v for k, v in train.items() if k not in ('sampler', 'dataset')}
    for name in ('msrvtt_retrieval_9k.py', 'msrvtt_retrieval_7k.py',
                 'lsmdc_retrieval.py', 'didemo_retrieval.py',
                 'demo/msrvtt_retrieval.py', 'demo/lsmdc_retrieval.py',
                 'demo/didemo_retrieval.py'):
        cfg = load(osp.join(DATASETS, name))
        assert cfg['test_dataloader'] == cfg['val_dataloader'], name
