"""Every model config builds (with the sizes its numbers give); every
Table 4 row runs one training step."""
import collections
import glob
import inspect
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from stoavlp.registry import MODELS
from stoavlp.testing import synthetic_batch

ROOT = osp.join(osp.dirname(__file__), '..', 'configs')
MODEL_CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, '**', '*.py'), recursive=True)
    if '_base_' not in p)
TABLE4 = sorted(glob.glob(osp.join(ROOT, 'stoavlp', 'ablations',
                                   'table4_*.py')))
EXPECTED_LOSSES = {
    'table4_base.py': {'loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_plm'},
    'table4_obj.py': {'loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_plm'},
    'table4_obj_ota.py': {'loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_plm',
                          'loss_ota'},
    'table4_obj_act_ota.py': {'loss_vtc', 'loss_vtm', 'loss_mlm',
                              'loss_plm', 'loss_ota'},
    'table4_full.py': {'loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_plm',
                       'loss_ota', 'loss_asp'},
}


def block_params(width, mlp_ratio=4.0):
    """One pre-LN CLIP block: ln_1, attention in/out projections, ln_2, MLP
    (weights and biases)."""
    hidden = int(width * mlp_ratio)
    return (2 * width + 3 * width * width + 3 * width + width * width + width
            + 2 * width + width * hidden + hidden + hidden * width + width)


def _top_blocks(a):
    """The blocks, ln_post and proj of the trajectory/action encoders."""
    w = a['width']
    return a['layers'] * block_params(w, a['mlp_ratio']) + 2 * w + \
        w * a['embed_dim']


def _video(a):
    w, p = a['width'], a['patch_size']
    grid = a['image_size'] // p
    return (3 * p * p * w + w + (grid * grid + 1) * w + 2 * w +
            a['layers'] * block_params(w, a['mlp_ratio']) + 2 * w +
            w * a['embed_dim'])


def _text(a):
    w = a['width']
    return (a['vocab_size'] * w + a['context_length'] * w +
            a['layers'] * block_params(w) + 2 * w + w * a['embed_dim'])


def _trajectory(a):
    w, half = a['width'], a['width'] // 2
    box_mlp, coord_mlp = w * half + half * w, 4 * half + half * w
    return (_top_blocks(a) + box_mlp + coord_mlp +
            a['num_frames'] * a['max_objects'] * w + a['num_frames'] * w + w)


def _action(a):
    w = a['width']
    return _top_blocks(a) + a['num_actions'] * w + (a['num_frames'] + 1) * w


def _fusion(a):
    w = a['width']
    return (a['max_positions'] * w + 4 * w +
            a['layers'] * block_params(w, a['mlp_ratio']) + 2 * w)


# Parameter count of an encoder from its config numbers (written from the
# architecture, not read from the built modules).
ENCODER_PARAMS = dict(CLIPVideoEncoder=_video, CLIPTextEncoder=_text,
                      TrajectoryEncoder=_trajectory, ActionEncoder=_action,
                      FusionEncoder=_fusion)


def config_parts(cfg):
    """Every ``dict(type=...)`` inside a model config (``init_cfg`` aside).
    """
    for key, value in cfg.items():
        if isinstance(value, dict) and key != 'init_cfg':
            if 'type' in value:
                yield value
            yield from config_parts(value)


def type_name(part):
    name = part['type']
    return name if isinstance(name, str) else name.__name__


def expected_encoder_params(part):
    """``(type, parameter count)`` of an encoder config, the class defaults
    filling what the config leaves out."""
    name = type_name(part).split('.')[-1]
    defaults = {
        k: p.default
        for k, p in inspect.signature(MODELS.get(name)).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    return name, ENCODER_PARAMS[name]({**defaults, **part})


def check_built_sizes(model_cfg, model):
    """The encoders the model holds are those of the config, each with the
    parameter count its numbers give; every configured part was built."""
    parts = list(config_parts(model_cfg))
    want = collections.Counter(
        expected_encoder_params(part) for part in parts
        if type_name(part).split('.')[-1] in ENCODER_PARAMS)
    got = collections.Counter(
        (type(m).__name__, sum(p.numel() for p in m.parameters()))
        for m in model.modules() if type(m).__name__ in ENCODER_PARAMS)
    assert got == want
    built = {type(m).__name__ for m in model.modules()}
    assert {type_name(p).split('.')[-1] for p in parts} <= built
    return want


def load_model_cfg(path):
    """The config with no CLIP weights (nor CLIP's logit_scale) to load
    (none exist offline)."""
    cfg = Config.fromfile(path)
    cfg.model.video_encoder.backbone.pretrained = None
    cfg.model.text_encoder.pretrained = None
    if cfg.model.get('vtc_loss'):
        cfg.model.vtc_loss.pretrained = None
    return cfg


def name_answers(model):
    """A classifier QA model's class names (what ``init_model`` sets from a
    checkpoint's ``dataset_meta``): 'red', 'two', then placeholders."""
    head = getattr(model, 'qa_head', None)
    if head is not None and hasattr(head, 'num_classes'):
        names = ['red', 'two'] + [f'answer_{i}'
                                  for i in range(2, head.num_classes)]
        model.dataset_meta = dict(answers=names[:head.num_classes])


@pytest.mark.slow
@pytest.mark.parametrize('path', MODEL_CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in MODEL_CONFIGS])
def test_model_config_builds(path):
    cfg = load_model_cfg(path)
    model = MODELS.build(cfg.model)
    n = sum(p.numel() for p in model.parameters())
    assert n > 1e6
    encoders = check_built_sizes(cfg.model, model)
    assert {'CLIPVideoEncoder', 'CLIPTextEncoder'} <= \
        {name for name, _ in encoders}
    # the encoders hold nearly every parameter (heads and losses: the rest)
    assert sum(count * k for (_, count), k in encoders.items()) > 0.9 * n
    if 'fig3_trajectories' in path:
        want = int(osp.basename(path)[:-3].split('_')[-1])
        assert model.video_encoder.trajectory_encoder.num_trajectories == \
            want
    if 'fig3_actions' in path:
        want = int(osp.basename(path)[:-3].split('_')[-1])
        assert model.video_encoder.action_encoder.num_actions == want


@pytest.mark.slow
@pytest.mark.parametrize('path', TABLE4, ids=[osp.basename(p) for p in TABLE4])
def test_table4_config_trains_one_iteration(path):
    """Paper dims; 2 clips of 4 frames keep it to seconds on a CPU."""
    cfg = load_model_cfg(path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    has = {part: getattr(model.video_encoder, part) is not None
           for part in ('trajectory_encoder', 'action_encoder')}
    name = osp.basename(path)
    assert has['trajectory_encoder'] == (name != 'table4_base.py')
    assert has['action_encoder'] == (name in ('table4_obj_act_ota.py',
                                              'table4_full.py'))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    inputs, samples = synthetic_batch(2, frames=4, objects=10, classes=6,
                                      length=32, size=224,
                                      boxes_per_class=(2, 4))
    before = model.fusion_encoder.transformer.resblocks[0].mlp.c_fc.weight\
        .detach().clone()
    log = model.train_step(dict(inputs=inputs, data_samples=samples),
                           wrapper)
    assert set(k for k in log if k.startswith('loss_')) == \
        EXPECTED_LOSSES[name]
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
    assert not torch.equal(
        before, model.fusion_encoder.transformer.resblocks[0].mlp.c_fc.weight)


TASKS = sorted(glob.glob(osp.join(ROOT, '[cqr]*', '*.py')))


@pytest.mark.slow
@pytest.mark.parametrize('path', TASKS, ids=[osp.basename(p) for p in TASKS])
def test_task_config_trains_and_predicts_one_iteration(path):
    """Paper dims, 2 clips of 2 frames: one training step, one prediction
    (retrieval: ranking as RetrievalLoop does, rank_with_model). The demo
    versions of these configs run through the Runner on the demo data
    (tests/test_tools/test_downstream_configs.py)."""
    from stoavlp.engine.runner import rank_with_model
    cfg = load_model_cfg(path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    name_answers(model)
    length = 64 if 'didemo' in path else 32
    inputs, samples = synthetic_batch(2, frames=2, objects=10, classes=6,
                                      length=length, size=224)
    for sample in samples:
        sample.set_metainfo(dict(answer='red'))
        sample.set_field(torch.tensor(0), 'answer_label')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    log = model.train_step(dict(inputs=inputs, data_samples=samples),
                           wrapper)
    assert log and all(torch.isfinite(torch.as_tensor(v))
                       for v in log.values())
    model.eval()
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples),
                                   False)
    with torch.no_grad():
        if cfg.test_cfg.type == 'RetrievalLoop':
            feats = model(**data, mode='tensor')
            ranks = rank_with_model(model, feats)
            assert ranks['t2v_ranks'].shape == (2, )
            return
        if cfg.model.type == 'STOAVLPCaptioner':
            model.decode_cfg['max_length'] = 4
        out = model(**data, mode='predict')
    field = {'STOAVLPCaptioner': 'pred_caption', 'STOAVLPMultipleChoice':
             'pred_label', 'STOAVLPQuestionAnswerer': 'pred_answer'}
    assert all(field[cfg.model.type] in s for s in out)


def test_commented_vis_backends_in_the_runtime_build(tmp_path):
    """The TensorBoard / W&B lines left commented in default_runtime.py are
    valid backends (uncommenting them is all a user does)."""
    import re

    from mmengine.registry import VISBACKENDS
    path = osp.join(ROOT, '_base_', 'default_runtime.py')
    text = open(path, encoding='utf-8').read()
    commented = re.findall(r"#\s*(dict\(type='(\w+VisBackend)'.*\)),", text)
    assert {name for _, name in commented} == {'TensorboardVisBackend',
                                               'WandbVisBackend'}
    for line, name in commented:
        cfg = eval(line, {'dict': dict})  # noqa: S307 (our own config text)
        assert VISBACKENDS.get(name) is not None
        if name == 'TensorboardVisBackend':
            pytest.importorskip('tensorboard')
            backend = VISBACKENDS.build(dict(cfg, save_dir=str(tmp_path)))
            backend.add_scalar('x', 1.0)  # writes an event file
