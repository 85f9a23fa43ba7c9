"""External weights -> stoavlp checkpoints (behind ``tools/model_converters``).

- :func:`clip_to_stoavlp`: anything
  :func:`~stoavlp.models.utils.clip_weights.read_clip_checkpoint` reads
  (OpenAI TorchScript ``ViT-B-16.pt``, OpenAI/open_clip state dicts, a
  transformers ``CLIPModel`` directory). The config's model is built with
  the CLIP path as its backbones' ``pretrained`` and initialised by its own
  ``init_weights()``, so the result is exactly the model's CLIP
  initialisation (backbones from CLIP; trajectory/action encoders from the
  top video blocks; fusion encoder from the first text blocks, the text
  position rows and ``ln_final``).
- :func:`build_initialised`, :class:`ConversionReport` and
  :func:`save_converted` are shared with the official-release converter
  (``tools/model_converters/official_to_stoavlp.py``, which holds the
  official name map). The command line of the converters is
  ``tools/model_converters/converter_cli.py``.

A conversion gives a full state dict of the config's model, saved as
``{'state_dict', 'meta'}`` for ``load_from``, and a report naming the source
tensors not used and the stoavlp tensors not filled from the source.
"""
import copy
import logging
import os
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple, Union

import torch
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from .clip_weights import (_is_torchscript_archive, read_clip_checkpoint,
                           split_visual_text)

StateDict = Dict[str, torch.Tensor]
ConfigLike = Union[str, dict]


@dataclass
class ConversionReport:
    """What a conversion used and what it left.

    Attributes:
        source (str): The converted file or directory.
        source_format (str): e.g. ``'OpenAI TorchScript archive'``.
        config (str): The stoavlp config (a path, or ``'<dict>'``).
        num_source (int): Tensors in the source.
        num_target (int): Tensors in the stoavlp state dict.
        unused (dict): Source key -> why no stoavlp tensor took it.
        unfilled (dict): stoavlp key -> why it keeps the model's own
            initialisation.
        notes (list[str]): Slices, casts and other things worth knowing.
    """
    source: str
    source_format: str
    config: str
    num_source: int = 0
    num_target: int = 0
    unused: Dict[str, str] = field(default_factory=dict)
    unfilled: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.config, (str, os.PathLike)):
            self.config = '<dict>'
        self.config = str(self.config)

    def format(self) -> str:
        """Counts, then unused/unfilled names grouped by reason and prefix."""
        lines = [
            f'{self.source} ({self.source_format}) -> stoavlp model of '
            f'{self.config}',
            f'  source tensors: {self.num_source} ({len(self.unused)} '
            'unused)',
            f'  stoavlp tensors: {self.num_target} '
            f'({self.num_target - len(self.unfilled)} filled from the '
            f'source, {len(self.unfilled)} not)'
        ]
        for title, names in (('Unused source tensors', self.unused),
                             ('stoavlp tensors not filled from the source '
                              "(the model's own initialisation)",
                              self.unfilled)):
            if not names:
                continue
            lines.append(f'{title} ({len(names)}):')
            by_reason = OrderedDict()
            for name, reason in names.items():
                by_reason.setdefault(reason, []).append(name)
            for reason, keys in by_reason.items():
                lines.append(f'  - {reason}:')
                lines += [f'      {group}' for group in group_names(keys)]
        if self.notes:
            lines.append('Notes:')
            lines += [f'  - {note}' for note in self.notes]
        return '\n'.join(lines)


def _ranges(indices: Iterable[int]) -> str:
    """``{0, 1, 2, 5}`` -> ``'0-2,5'``."""
    out, run = [], []
    for i in sorted(indices):
        if run and i != run[-1] + 1:
            out.append(run)
            run = []
        run.append(i)
    out.append(run)
    return ','.join(f'{r[0]}-{r[-1]}' if len(r) > 1 else str(r[0])
                    for r in out)


def group_names(names: Iterable[str]) -> List[str]:
    """Collapse tensor names into readable groups.

    ``x.resblocks.6.ln_1.weight`` ... ``x.resblocks.11.mlp.c_proj.bias`` ->
    ``x.resblocks.{6-11}.* (72 tensors)``; ``y.ln_pre.weight``,
    ``y.ln_pre.bias`` -> ``y.ln_pre.{bias,weight}``.
    """
    indexed, leaves = OrderedDict(), OrderedDict()
    for name in sorted(names):
        match = re.match(r'^(.+?)\.(\d+)\.(.+)$', name)
        if match:
            ids, count = indexed.get(match.group(1), (set(), 0))
            indexed[match.group(1)] = (ids | {int(match.group(2))}, count + 1)
        else:
            parent, _, leaf = name.rpartition('.')
            leaves.setdefault(parent, []).append(leaf)
    out = []
    for head, (ids, count) in indexed.items():
        ids = _ranges(ids)
        ids = ids if ids.isdigit() else '{' + ids + '}'
        out.append(f'{head}.{ids}.* ({count} tensor{"s" * (count > 1)})')
    for parent, names_ in leaves.items():
        leaf = names_[0] if len(names_) == 1 else '{' + ','.join(names_) + '}'
        out.append(f'{parent}.{leaf}' if parent else leaf)
    return sorted(out)


# -- building the config's model -----------------------------------------
def _model_cfg(config: ConfigLike) -> dict:
    """The ``model`` dict of a config file / Config / dict (or a model dict).
    """
    from mmengine.config import Config
    if isinstance(config, (str, os.PathLike)):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config not found: {config}')
        config = Config.fromfile(config)
    model = config.get('model', config) if 'type' not in config else config
    for part in ('video_encoder', 'text_encoder'):
        if part not in model:
            raise ValueError(f'the config\'s model has no {part}')
    return copy.deepcopy(model)


def _clip_tower_cfgs(cfg: dict) -> List[dict]:
    """The CLIP video and text backbone configs of a model config."""
    return [cfg['video_encoder']['backbone'], cfg['text_encoder']]


def clip_towers(model: torch.nn.Module) -> List[torch.nn.Module]:
    """The CLIP video and text backbones of a stoavlp model."""
    return [model.video_encoder.backbone, model.text_encoder]


def build_initialised(config: ConfigLike, pretrained: Optional[str],
                      seed: int = 0) -> torch.nn.Module:
    """The config's model after ``init_weights()``, with ``pretrained`` (a
    CLIP path, or None for no CLIP) given to both backbones; random parts
    drawn from ``seed`` without touching the global random state."""
    import stoavlp.models  # noqa: F401  (registers every model part)
    from stoavlp.registry import MODELS
    cfg = _model_cfg(config)
    for part in _clip_tower_cfgs(cfg):
        if pretrained is not None or 'pretrained' in part:
            part['pretrained'] = pretrained
    logger = MMLogger.get_current_instance()
    level = logger.level
    # init_weights() logs every parameter's initialisation at INFO level
    logger.setLevel(logging.WARNING)
    try:
        with torch.random.fork_rng(devices=[]), \
                DefaultScope.overwrite_default_scope('stoavlp'):
            torch.manual_seed(seed)
            model = MODELS.build(cfg)
            model.init_weights()
    finally:
        logger.setLevel(level)
    return model.eval()


# -- CLIP -----------------------------------------------------------------
def _clip_format(path: str) -> str:
    if osp.isdir(path):
        return 'transformers CLIPModel directory'
    if _is_torchscript_archive(path):
        return 'OpenAI TorchScript archive'
    return 'CLIP state dict'


def _activation_notes(theirs: Optional[str],
                      model: torch.nn.Module) -> List[str]:
    """Warn when the source's MLP activation (``read_clip_checkpoint``:
    when it says it, e.g. an OpenAI archive, transformers ``hidden_act``,
    open_clip ``-quickgelu`` names) is not the one of the stoavlp backbones,
    or that a plain state dict cannot tell (the weights load either way but
    compute differently)."""
    notes = []
    for part, tower in zip(('video_encoder.backbone', 'text_encoder'),
                           clip_towers(model)):
        ours = tower.act
        if theirs is None:
            notes.append(f'WARNING: the source does not say its MLP '
                         f'activation; the config\'s {part} uses '
                         f'act={ours!r} (OpenAI weights: quick_gelu, '
                         'open_clip LAION/DataComp: gelu)')
        elif theirs != ours:
            notes.append(f'WARNING: the source was trained with {theirs!r} '
                         f'but the config\'s {part} uses act={ours!r}')
    return notes


def clip_to_stoavlp(src: str, config: ConfigLike, seed: int = 0
                    ) -> Tuple[StateDict, ConversionReport]:
    """stoavlp initial weights from CLIP, as the model's own
    ``init_weights()`` makes them.

    A stoavlp tensor counts as *filled from CLIP* when it differs from the
    same model initialised with the same ``seed`` but without CLIP;
    tensors filled only in part (the fusion position rows beyond CLIP's
    text positions) are listed in the notes. CLIP tensors that no backbone
    has a place for (and ``logit_scale``: stoavlp's VTC starts from its own
    temperature) are reported unused.

    Args:
        src (str): CLIP checkpoint file or transformers directory.
        config (str | dict): stoavlp config (path, Config or dict).
        seed (int): Random initialisation of the parts CLIP has no weights
            for. Defaults to 0.

    Returns:
        tuple: ``(state_dict, report)``, the state dict complete.

    Raises:
        FileNotFoundError: ``src`` or ``config`` does not exist.
        ValueError: ``src`` holds no CLIP weights, or its shapes do not fit
            the config (the message names the tensor and both shapes).
    """
    try:
        clip, source_act = read_clip_checkpoint(src)
    except (FileNotFoundError, ValueError):
        raise
    except Exception as err:  # unpickling/zip/safetensors errors
        raise ValueError(f'{src} is not a CLIP checkpoint readable with '
                         f'weights_only=True ({type(err).__name__}: {err})'
                         ) from err
    reference = build_initialised(config, None, seed).state_dict()
    model = build_initialised(config, src, seed)
    state = model.state_dict()
    report = ConversionReport(src, _clip_format(src), config,
                              num_source=len(clip), num_target=len(state))
    for key, value in state.items():
        differs = value != reference[key]
        if not differs.any():
            report.unfilled[key] = 'no CLIP counterpart'
        elif value.dim() > 1 and \
                not differs.reshape(len(value), -1).any(1).all():
            rows = differs.reshape(len(value), -1).any(1).nonzero()
            report.notes.append(
                f'{key} {tuple(value.shape)}: rows '
                f'{_ranges(rows.flatten().tolist())} from CLIP, the others '
                'keep their initialisation')
    visual, text, _ = split_visual_text(clip)
    video_tower, text_tower = clip_towers(model)
    towers = (('visual.', visual, video_tower), ('', text, text_tower))
    for prefix, weights, module in towers:
        own = module.state_dict()
        for key in weights:
            if key not in own:
                report.unused[prefix + key] = \
                    f'no such tensor in the config\'s {type(module).__name__}'
    for key in clip:
        if key == 'logit_scale':
            report.unused[key] = ('stoavlp\'s VTC starts from its own '
                                  'init_temperature, as init_weights() does')
        elif not key.startswith('visual.') and key not in text:
            report.unused[key] = 'in neither CLIP tower'
    pos, own = visual.get('positional_embedding'), \
        video_tower.positional_embedding
    if pos is not None and pos.shape[0] != own.shape[0]:
        report.notes.append(f'visual.positional_embedding {tuple(pos.shape)}'
                            f' resized bicubically to {tuple(own.shape)}')
    pos, own = text.get('positional_embedding'), \
        text_tower.positional_embedding
    if pos is not None and pos.shape[0] > own.shape[0]:
        report.notes.append(f'positional_embedding {tuple(pos.shape)}: the '
                            f'first {own.shape[0]} rows used')
    report.notes += _activation_notes(source_act, model)
    return state, report


def save_converted(state_dict: StateDict, dst: str,
                   report: ConversionReport) -> None:
    """Write ``{'state_dict', 'meta'}`` to ``dst`` atomically (a temporary
    file in the same folder, then a rename)."""
    meta = dict(converted_from=osp.abspath(report.source),
                source_format=report.source_format, config=report.config,
                unused_source_keys=sorted(report.unused),
                unfilled_keys=sorted(report.unfilled))
    checkpoint = dict(state_dict=OrderedDict(
        (k, v.detach().cpu().contiguous()) for k, v in state_dict.items()),
                      meta=meta)
    folder = osp.dirname(osp.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(dst)}.tmp{os.getpid()}')
    try:
        torch.save(checkpoint, tmp)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
