"""Zero-shot retrieval configs: a pre-trained (not fine-tuned) STOA-VLP
evaluated with ``tools/test.py CONFIG PRETRAIN_CKPT``.

Every config parses, has no train loop, builds its retriever and its test
dataset; the retriever's weights are exactly the pre-trainer's minus its LM
head (so a pre-training checkpoint fills all of them). On the demo data a
real ``tools/test.py`` run on a saved demo pre-training checkpoint ranks the
test set as the same weights loaded by hand do.
"""
import glob
import importlib.util
import json
import os.path as osp
import pickle

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from stoavlp.apis.model import _strip_pretrained
from stoavlp.engine.runner import rank_with_model
from stoavlp.registry import DATASETS, MODELS
from stoavlp.structures import RetrievalFeatures
from stoavlp.testing import offline_demo_pretrain

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs')
PAPER = sorted(glob.glob(osp.join(CONFIGS, 'retrieval', 'zeroshot', '*.py')))
DEMO = osp.join(CONFIGS, 'stoavlp', 'demo',
                'stoavlp_tiny-u8-res112_demo-zeroshot-retrieval.py')
ZEROSHOT = PAPER + [DEMO]
PRETRAIN = {
    'paper': osp.join(CONFIGS, 'stoavlp', 'stoavlp_vit-b16-u12-res224_'
                      '128xb8-10e_webvid2m-pretrain.py'),
    'demo': osp.join(CONFIGS, 'stoavlp', 'demo',
                     'stoavlp_tiny-u8-res112_1xb16-6e_demo-pretrain.py'),
}
# the real datasets' folders -> their copies in the demo data
# (tests/conftest.py), which share the demo's mp4 videos and detections
DEMO_COPIES = {'data/msrvtt': '', 'data/lsmdc': 'lsmdc',
               'data/didemo': 'didemo'}
IDS = [osp.relpath(p, CONFIGS) for p in ZEROSHOT]
# paper-size builds are slow (setup.cfg's `slow` marker), the demo's are not
BY_SIZE = [pytest.param(p, id=i, marks=[] if p == DEMO else pytest.mark.slow)
           for p, i in zip(ZEROSHOT, IDS)]


def _kind(path):
    return 'demo' if path == DEMO else 'paper'


def _model_cfg(path):
    """The model config without ``pretrained`` files (the checkpoint
    replaces them; none exist in tests)."""
    cfg = Config.fromfile(path)
    _strip_pretrained(cfg.model)
    return cfg.model


def _point_at_demo(dataset, demo_root):
    """A test dataset config, in place, on the test session's demo data."""
    if dataset.data_root == 'data/demo':  # the demo config
        dataset.data_root = demo_root
        return dataset
    sub = DEMO_COPIES[dataset.data_root]
    dataset.data_root = osp.join(demo_root, sub)
    if sub:
        dataset.data_prefix = dict(video='../videos', objects='../objects')
    dataset.video_ext = '.mp4'  # LSMDC's default is .avi
    if dataset.type == 'LSMDCRetrievalDataset':
        dataset.nested_by_movie = False
    return dataset


@pytest.mark.parametrize('path', ZEROSHOT, ids=IDS)
def test_zeroshot_config_is_evaluation_only(path):
    assert len(PAPER) == 3  # MSR-VTT 1k-A, LSMDC, DiDeMo
    cfg = Config.fromfile(path)
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler', 'val_dataloader', 'val_cfg',
                'val_evaluator', 'load_from'):
        assert cfg.get(key) is None, key
    assert cfg.test_cfg == dict(type='RetrievalLoop', stage='test')
    assert cfg.test_evaluator.type == 'RetrievalRecall'
    assert cfg.test_dataloader.dataset.test_mode
    assert cfg.model.type == 'STOAVLPRetriever'
    # the VTM head of pre-training re-ranks the top 32 (official protocol)
    pretrain = Config.fromfile(PRETRAIN[_kind(path)]).model
    assert cfg.model.rerank_topk == 32
    assert cfg.model.vtm_head.type == pretrain.vtm_head.type
    assert cfg.model.vtm_head.width == pretrain.vtm_head.width
    # nothing but the checkpoint initialises the weights
    assert _strip_pretrained(cfg.model) == 0


@pytest.fixture(scope='module')
def pretrainer_keys():
    """State-dict names and shapes of each pre-training model (built on
    first use)."""
    keys = {}

    def get(kind):
        if kind not in keys:
            model = MODELS.build(_model_cfg(PRETRAIN[kind]))
            keys[kind] = {k: v.shape for k, v in model.state_dict().items()}
        return keys[kind]
    return get


@pytest.mark.parametrize('path', BY_SIZE)
def test_zeroshot_model_is_the_pretrainer_without_lm_head(path,
                                                          pretrainer_keys):
    """Strictly the pre-trainer's tensors (same shapes) minus ``lm_head``:
    ``tools/test.py``'s non-strict load fills every retriever weight from
    a pre-training checkpoint and only drops the LM head."""
    model = MODELS.build(_model_cfg(path))
    ours = {k: v.shape for k, v in model.state_dict().items()}
    theirs = pretrainer_keys(_kind(path))
    assert {k.split('.')[0] for k in set(theirs) - set(ours)} == {'lm_head'}
    assert ours == {k: v for k, v in theirs.items()
                    if not k.startswith('lm_head.')}


@pytest.mark.parametrize('path', ZEROSHOT, ids=IDS)
def test_zeroshot_test_dataset_builds(path, demo_root):
    cfg = Config.fromfile(path)
    dataset = DATASETS.build(_point_at_demo(cfg.test_dataloader.dataset,
                                            demo_root))
    assert len(dataset) > 0
    item = dataset[0]
    frames = 8 if path == DEMO else 12
    size = 112 if path == DEMO else 224
    assert item['inputs'].shape == (frames, 3, size, size)
    length = 64 if 'didemo' in path else 32
    assert item['data_samples'].token_ids.shape[-1] == length


def _load_test_tool():
    spec = importlib.util.spec_from_file_location(
        'zeroshot_test_tool', osp.join(ROOT, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _demo_pretrain_checkpoint(path):
    """A random tiny demo pre-training model (no stage-0 CLIP), saved as a
    weights-only checkpoint; returns its state dict."""
    cfg = offline_demo_pretrain(Config.fromfile(PRETRAIN['demo']))
    torch.manual_seed(123)
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save(dict(state_dict=state, meta=dict()), path)
    return state


def _reference_ranks(state, demo_root):
    """The demo test set ranked by the zero-shot retriever with ``state``
    loaded by hand (strict except for the LM head)."""
    cfg = Config.fromfile(DEMO)
    _strip_pretrained(cfg.model)
    torch.manual_seed(7)  # a different random init: the load must replace it
    model = MODELS.build(cfg.model)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == []
    assert result.unexpected_keys and all(
        k.startswith('lm_head.') for k in result.unexpected_keys)
    model.eval()
    dataset = DATASETS.build(_point_at_demo(cfg.test_dataloader.dataset,
                                            demo_root))
    parts = []
    with torch.no_grad():
        for start in range(0, len(dataset), 4):
            batch = pseudo_collate([dataset[i] for i in range(
                start, min(start + 4, len(dataset)))])
            data = model.data_preprocessor(batch, False)
            feats = model(data['inputs'], data['data_samples'],
                          mode='tensor')
            assert feats.sample_idx.tolist() == [
                s.metainfo['sample_idx'] for s in data['data_samples']]
            parts.append(feats)
        feats = RetrievalFeatures.merge(parts, len(dataset))
        return model, rank_with_model(model, feats, keep_topk=10)


def test_demo_zeroshot_tools_test_uses_the_pretraining_checkpoint(
        demo_root, tmp_path, capsys, monkeypatch):
    """``tools/test.py DEMO_ZEROSHOT PRETRAIN_CKPT``: retrieval metrics, and
    the very ranking and re-ranked scores of the checkpoint's weights."""
    from mmengine.runner import Runner
    runners = []
    test = Runner.test

    def recording_test(self):  # keeps the runner, for its model
        runners.append(self)
        return test(self)

    monkeypatch.setattr(Runner, 'test', recording_test)
    ckpt = str(tmp_path / 'demo_pretrain.pth')
    state = _demo_pretrain_checkpoint(ckpt)
    dump = str(tmp_path / 'preds.pkl')
    work_dir = str(tmp_path / 'work')
    _load_test_tool().main([
        DEMO, ckpt, '--work-dir', work_dir, '--dump', dump, '--cfg-options',
        f'test_dataloader.dataset.data_root={demo_root}',
        'test_dataloader.batch_size=4', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False'])
    printed = capsys.readouterr().out
    assert 'metrics: ' in printed
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)
    for key in ('t2v/R1', 't2v/R5', 't2v/R10', 'v2t/R1'):
        assert 0 <= metrics[key] <= 100, (key, metrics)

    # the runner's retriever holds the checkpoint's weights (all but the
    # pre-training LM head), not a fresh initialisation
    (runner, ) = runners
    loaded = runner.model.state_dict()
    assert set(state) - set(loaded) == {k for k in state
                                        if k.startswith('lm_head.')}
    for name, tensor in loaded.items():
        torch.testing.assert_close(tensor, state[name], msg=name)

    # and ranks as the same weights loaded by hand do
    _, ranks = _reference_ranks(state, demo_root)
    assert metrics['t2v/R1'] == pytest.approx(
        100 * (ranks['t2v_ranks'] == 1).float().mean().item())
    with open(dump, 'rb') as f:
        dumped = pickle.load(f)
    t2v = [d for d in dumped if 't2v_rank' in d]
    assert [d['t2v_rank'] for d in t2v] == ranks['t2v_ranks'].tolist()
    torch.testing.assert_close(
        torch.tensor([d['topk_scores'] for d in t2v]),
        ranks['t2v_topk_scores'].float(), rtol=1e-4, atol=1e-6)
