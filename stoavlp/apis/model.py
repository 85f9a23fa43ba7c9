"""Build a trained stoavlp model from its config, for inference.

    >>> from stoavlp.apis import init_model
    >>> model = init_model('configs/stoavlp/demo/...-caption.py',
    ...                    'work_dirs/demo/published/caption.pth')

The checkpoint is read by MMEngine's loader under stoavlp's trust boundary
(:mod:`stoavlp.compat`): weights only, unless the caller is inside
``trusted_checkpoints()`` (the project's own demo scripts are; a training
checkpoint used from your code needs it too, or publish it first with
``tools/model_converters/publish_model.py``).
"""
import os.path as osp
from typing import Optional, Tuple, Union

import torch
import yaml
from mmengine.config import Config, ConfigDict

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def metafile_models(root: str = REPO_ROOT) -> dict:
    """``{name: (config path, weights or None)}`` of every model listed in
    ``model-index.yml`` (names and aliases, lower case)."""
    index = osp.join(root, 'model-index.yml')
    if not osp.isfile(index):
        return {}
    with open(index, encoding='utf-8') as f:
        imports = yaml.safe_load(f).get('Import', [])
    models = {}
    for metafile in imports:
        with open(osp.join(root, metafile), encoding='utf-8') as f:
            entries = yaml.safe_load(f).get('Models', [])
        for entry in entries:
            weights = entry.get('Weights')
            weights = weights[0] if isinstance(weights, list) else weights
            aliases = entry.get('Alias') or []
            aliases = [aliases] if isinstance(aliases, str) else aliases
            for name in [entry['Name'], *aliases]:
                models[name.lower()] = (osp.join(root, entry['Config']),
                                        weights)
    return models


def resolve_config(config: Union[str, Config, dict]
                   ) -> Tuple[Config, Optional[str]]:
    """A config from a path, a metafile model name or a config object;
    with the metafile's weights (None when it lists none)."""
    if isinstance(config, Config):
        return config, None
    if isinstance(config, (dict, ConfigDict)):
        return Config(dict(config)), None
    if osp.isfile(config):
        return Config.fromfile(config), None
    models = metafile_models()
    if config.lower() in models:
        path, weights = models[config.lower()]
        return Config.fromfile(path), weights
    raise FileNotFoundError(
        f'{config!r} is neither a config file nor a model name of '
        f'model-index.yml ({len(models)} names, e.g. '
        f'{sorted(models)[:2]})')


def _strip_pretrained(cfg) -> int:
    """Drop every ``pretrained`` entry of a model config (the checkpoint
    replaces those weights, and the files need not exist where the model
    is used); returns how many were dropped."""
    dropped = 0
    if isinstance(cfg, dict):
        if cfg.pop('pretrained', None) is not None:
            dropped += 1
        for value in cfg.values():
            dropped += _strip_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            dropped += _strip_pretrained(value)
    return dropped


def init_model(config: Union[str, Config, dict],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """A stoavlp model in eval mode with its config as ``model.cfg``.

    Args:
        config (str | Config | dict): Config file, model name of
            ``model-index.yml``, or a config.
        checkpoint (str, optional): Weights (a training checkpoint or a
            published one). None keeps the freshly built (random) weights
            and warns: predictions are then meaningless.
        device (str): Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        torch.nn.Module: The model.
    """
    from mmengine.logging import print_log
    from mmengine.runner import load_checkpoint

    from stoavlp.registry import MODELS
    from stoavlp.utils import register_all_modules
    register_all_modules()
    cfg, metafile_weights = resolve_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    checkpoint = checkpoint or metafile_weights
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint {checkpoint}: no such file')
        _strip_pretrained(cfg.model)
    model = MODELS.build(cfg.model)
    if checkpoint is None:
        print_log('init_model: no checkpoint given, the weights are the '
                  'random weights of a fresh build (predictions are '
                  'meaningless)',
                  logger='current', level=30)
    else:
        loaded = load_checkpoint(model, checkpoint, map_location='cpu',
                                 strict=True, logger='silent')
        # class names (QA answers) travel in the checkpoint, as in mmdet
        meta = (loaded.get('meta') or {}).get('dataset_meta')
        if meta is not None and hasattr(model, 'dataset_meta'):
            model.dataset_meta = meta
    model.cfg = cfg
    return model.to(device).eval()
