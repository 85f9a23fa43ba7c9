"""Reading CLIP weights into the OpenAI layout that the stoavlp backbones use.

Accepted sources (detected by :func:`load_clip_state_dict`):

- an OpenAI checkpoint such as ``ViT-B-16.pt``. OpenAI distributes
  TorchScript archives; they are read with ``torch.jit.load(...)`` and only
  their ``state_dict()`` is used. A TorchScript archive is deserialised by
  the TorchScript (C++) unpickler, which restores tensors and TorchScript
  types only and does not resolve arbitrary Python globals the way
  ``pickle`` does; the scripted code is never called here.
- a plain state dict in the same layout (OpenAI ``visual.*`` keys plus text
  keys at the top level), e.g. an open_clip ``CLIP`` state dict, possibly
  wrapped in a ``state_dict`` key (open_clip training checkpoints) and/or
  with a ``module.`` prefix (DDP). Read with ``weights_only=True`` through
  :func:`stoavlp.compat.load_external_checkpoint`.
- a transformers ``CLIPModel`` directory (``config.json`` plus
  ``model.safetensors`` or ``pytorch_model.bin``), or one such weights file;
  its names are mapped by :func:`hf_to_openai`.

OpenAI layout, text side: ``token_embedding.weight``,
``positional_embedding``, ``transformer.resblocks.N.*``, ``ln_final.*``,
``text_projection`` ``(C, D)``; vision side: the same under ``visual.``
with ``conv1``, ``class_embedding``, ``ln_pre``, ``ln_post``, ``proj``
``(C, D)``; plus ``logit_scale``.

Letters: C width, D embedding dimension; ``i`` a block index.
"""
import logging
import os.path as osp
import re
import warnings
import zipfile
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log

from stoavlp.compat import load_external_checkpoint

StateDict = Dict[str, torch.Tensor]

# Keys OpenAI's TorchScript archives carry next to the weights (hyper-
# parameters stored as tensors); OpenAI's own ``build_model`` drops them too.
_OPENAI_METADATA_KEYS = ('input_resolution', 'context_length', 'vocab_size',
                         'activation')  # the last: ExportCLIPHook's
_TEXT_PREFIXES = ('token_embedding.', 'positional_embedding', 'transformer.',
                  'ln_final.', 'text_projection')
_HF_WEIGHT_FILES = ('model.safetensors', 'pytorch_model.bin')

# transformers CLIP name pieces -> OpenAI name pieces (block internals).
_HF_BLOCK_NAMES = {
    'self_attn.out_proj': 'attn.out_proj',
    'layer_norm1': 'ln_1',
    'layer_norm2': 'ln_2',
    'mlp.fc1': 'mlp.c_fc',
    'mlp.fc2': 'mlp.c_proj',
}
# Whole-tensor renames outside the blocks (HF name -> OpenAI name).
_HF_TENSOR_NAMES = {
    'text_model.embeddings.token_embedding.weight': 'token_embedding.weight',
    'text_model.embeddings.position_embedding.weight':
    'positional_embedding',
    'text_model.final_layer_norm.weight': 'ln_final.weight',
    'text_model.final_layer_norm.bias': 'ln_final.bias',
    'vision_model.embeddings.class_embedding': 'visual.class_embedding',
    'vision_model.embeddings.patch_embedding.weight': 'visual.conv1.weight',
    'vision_model.embeddings.position_embedding.weight':
    'visual.positional_embedding',
    'vision_model.pre_layrnorm.weight': 'visual.ln_pre.weight',
    'vision_model.pre_layrnorm.bias': 'visual.ln_pre.bias',
    'vision_model.post_layernorm.weight': 'visual.ln_post.weight',
    'vision_model.post_layernorm.bias': 'visual.ln_post.bias',
    'logit_scale': 'logit_scale',
}
# HF stores projections as nn.Linear weights (D, C); OpenAI as (C, D).
_HF_PROJECTIONS = {
    'visual_projection.weight': 'visual.proj',
    'text_projection.weight': 'text_projection',
}
_HF_TOWERS = {'text_model.encoder.layers.': 'transformer.resblocks.',
              'vision_model.encoder.layers.': 'visual.transformer.resblocks.'}
_HF_BLOCK_RE = re.compile(r'^(text_model|vision_model)\.encoder\.layers\.'
                          r'(\d+)\.(.+)$')
_HF_QKV_RE = re.compile(r'^self_attn\.([qkv])_proj\.(weight|bias)$')


def hf_to_openai(hf_state_dict: StateDict) -> StateDict:
    """Rename a transformers ``CLIPModel`` state dict to the OpenAI layout.

    ``q/k/v_proj`` are concatenated (in that order) into ``in_proj_*``; the
    projection matrices are transposed. Non-persistent HF buffers
    (``position_ids``) are dropped; unknown keys are kept unchanged so that
    the loader reports them as unexpected.

    Args:
        hf_state_dict (dict[str, torch.Tensor]): ``CLIPModel.state_dict()``.

    Returns:
        dict[str, torch.Tensor]: The OpenAI-layout state dict.
    """
    out, qkv = {}, {}
    for key, value in hf_state_dict.items():
        if key.endswith('embeddings.position_ids'):
            continue
        block = _HF_BLOCK_RE.match(key)
        if block:
            tower, index, rest = block.groups()
            prefix = _HF_TOWERS[f'{tower}.encoder.layers.'] + index + '.'
            proj = _HF_QKV_RE.match(rest)
            if proj:
                qkv.setdefault((prefix, proj.group(2)), {})[
                    proj.group(1)] = value
                continue
            for hf_name, openai_name in _HF_BLOCK_NAMES.items():
                if rest.startswith(hf_name + '.'):
                    rest = openai_name + rest[len(hf_name):]
                    break
            out[prefix + rest] = value
        elif key in _HF_TENSOR_NAMES:
            out[_HF_TENSOR_NAMES[key]] = value
        elif key in _HF_PROJECTIONS:
            out[_HF_PROJECTIONS[key]] = value.t().contiguous()
        else:
            out[key] = value
    for (prefix, kind), parts in qkv.items():
        if set(parts) != {'q', 'k', 'v'}:
            raise KeyError(f'incomplete q/k/v {kind} for {prefix}: '
                           f'only {sorted(parts)}')
        out[f'{prefix}attn.in_proj_{kind}'] = torch.cat(
            [parts['q'], parts['k'], parts['v']], dim=0)
    return out


def openai_to_hf(state_dict: StateDict) -> StateDict:
    """Inverse of :func:`hf_to_openai` (for converters and round trips).

    Args:
        state_dict (dict[str, torch.Tensor]): OpenAI-layout CLIP weights.

    Returns:
        dict[str, torch.Tensor]: Loadable by ``CLIPModel.load_state_dict``.
    """
    tensor_names = {v: k for k, v in _HF_TENSOR_NAMES.items()}
    projections = {v: k for k, v in _HF_PROJECTIONS.items()}
    block_names = {v: k for k, v in _HF_BLOCK_NAMES.items()}
    block_re = re.compile(r'^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)$')
    out = {}
    for key, value in state_dict.items():
        block = block_re.match(key)
        if block:
            visual, index, rest = block.groups()
            tower = 'vision_model' if visual else 'text_model'
            prefix = f'{tower}.encoder.layers.{index}.'
            if rest.startswith('attn.in_proj_'):
                kind = rest[len('attn.in_proj_'):]
                for name, part in zip('qkv', value.chunk(3, dim=0)):
                    out[f'{prefix}self_attn.{name}_proj.{kind}'] = part
                continue
            for openai_name, hf_name in block_names.items():
                if rest.startswith(openai_name + '.'):
                    rest = hf_name + rest[len(openai_name):]
                    break
            out[prefix + rest] = value
        elif key in tensor_names:
            out[tensor_names[key]] = value
        elif key in projections:
            out[projections[key]] = value.t().contiguous()
        else:
            out[key] = value
    return out


def _is_torchscript_archive(path: str) -> bool:
    """TorchScript zips hold ``<archive>/constants.pkl`` and ``code/``."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith('/constants.pkl') for name in
                   archive.namelist())


def _read_weights_file(path: str) -> dict:
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path, device='cpu')
    if _is_torchscript_archive(path):
        # See the module docstring: parameters only, no pickle globals.
        with warnings.catch_warnings():
            # torch >= 2.9 deprecates TorchScript, but OpenAI's released
            # weights only exist in this format.
            warnings.simplefilter('ignore', FutureWarning)
            return torch.jit.load(path, map_location='cpu').state_dict()
    return load_external_checkpoint(path)


def _hf_weights_file(directory: str) -> str:
    for name in _HF_WEIGHT_FILES:
        candidate = osp.join(directory, name)
        if osp.isfile(candidate):
            return candidate
    raise FileNotFoundError(
        f'No CLIP weights in directory {directory}: expected one of '
        f'{", ".join(_HF_WEIGHT_FILES)} (sharded checkpoints are not '
        'supported)')


def load_clip_state_dict(path: str) -> StateDict:
    """The state dict of :func:`read_clip_checkpoint`."""
    return read_clip_checkpoint(path)[0]


def read_clip_checkpoint(path: str) -> Tuple[StateDict, Optional[str]]:
    """Read CLIP weights from any supported source, in the OpenAI layout,
    and the MLP activation they were trained with when the source says it.

    The activation (``'quick_gelu'`` or ``'gelu'``) comes from: an OpenAI
    TorchScript archive (QuickGELU, all OpenAI models); a transformers
    directory's ``config.json`` ``hidden_act``; an ``activation`` entry
    (written by ``ExportCLIPHook``); an open_clip training checkpoint whose
    ``name`` says ``quickgelu``. Otherwise None: a plain state dict does not
    say it (see :func:`check_activation`).

    Args:
        path (str): OpenAI/open_clip ``.pt``/``.pth``/``.bin`` file
            (TorchScript or plain state dict), a ``.safetensors`` file, or a
            transformers ``CLIPModel`` directory.

    Returns:
        tuple: ``visual.*``, text keys and ``logit_scale`` as in OpenAI's
        ``CLIP.state_dict()``; the activation or None.

    Raises:
        FileNotFoundError: ``path`` (or the weights in the directory) does
            not exist.
        ValueError: The file holds no CLIP weights.
    """
    path = osp.expanduser(path)
    if osp.isdir(path):
        path = _hf_weights_file(path)
    elif not osp.isfile(path):
        raise FileNotFoundError(f'CLIP checkpoint not found: {path}')
    activation = _hf_activation(osp.dirname(path))
    if activation is None and _is_torchscript_archive(path):
        activation = 'quick_gelu'
    state_dict = _read_weights_file(path)
    if not isinstance(state_dict, dict):
        raise ValueError(f'{path} holds a {type(state_dict).__name__}, '
                         'not a state dict')
    if activation is None and state_dict.get('activation') in ACTIVATIONS:
        activation = state_dict['activation']
    name = state_dict.get('name')
    if activation is None and isinstance(name, str) and \
            'quickgelu' in name.lower().replace('_', ''):
        activation = 'quick_gelu'
    for wrapper in ('state_dict', 'model'):  # open_clip / generic trainers
        if isinstance(state_dict.get(wrapper), dict):
            state_dict = state_dict[wrapper]
            break
    state_dict = {(k[len('module.'):] if k.startswith('module.') else k): v
                  for k, v in state_dict.items()
                  if k not in _OPENAI_METADATA_KEYS}
    if any(k.startswith(('text_model.', 'vision_model.'))
           for k in state_dict):
        state_dict = hf_to_openai(state_dict)
    if ('visual.conv1.weight' not in state_dict
            and 'token_embedding.weight' not in state_dict):
        raise ValueError(f'{path} holds no CLIP weights (first keys: '
                         f'{list(state_dict)[:5]})')
    return state_dict, activation


ACTIVATIONS = ('quick_gelu', 'gelu')
_warned_activation = set()


def _hf_activation(directory: str) -> Optional[str]:
    """``hidden_act`` of a transformers ``config.json`` beside the weights
    (the vision tower's; the text tower's when only it is given)."""
    config = osp.join(directory, 'config.json')
    if not osp.isfile(config):
        return None
    import json
    with open(config, encoding='utf-8') as f:
        hf = json.load(f)
    for tower in ('vision_config', 'text_config'):
        act = (hf.get(tower) or {}).get('hidden_act')
        if act in ACTIVATIONS:
            return act
    return None


def check_activation(act: str, source_act: Optional[str], path: str,
                     owner: str) -> None:
    """Warn when a backbone's MLP activation is not the one its weights
    were trained with (they load "all weights" either way, and features
    then differ by ~1e-2), or, once per file, that the file does not say."""
    if source_act == act:
        return
    if source_act is not None:
        print_log(
            f'{owner}: {path} was trained with {source_act!r} but the '
            f'backbone uses act={act!r}: every weight loads, yet features '
            f'are off by ~1e-2. Set act={source_act!r} in the config.',
            logger='current', level=logging.WARNING)
        return
    if path in _warned_activation:
        return
    _warned_activation.add(path)
    print_log(
        f'{owner}: {path} is a plain state dict that does not say its MLP '
        f'activation; the backbone uses act={act!r}. OpenAI CLIP weights '
        "use 'quick_gelu', open_clip's LAION/DataComp models 'gelu': with "
        'the wrong one every weight loads, yet features are off by ~1e-2. '
        'Check it (transformers directories and OpenAI archives are '
        'detected).', logger='current', level=logging.WARNING)


def split_visual_text(
        state_dict: StateDict
) -> Tuple[StateDict, StateDict, Optional[torch.Tensor]]:
    """Split OpenAI-layout weights into the two towers.

    Args:
        state_dict (dict[str, torch.Tensor]): From
            :func:`load_clip_state_dict`.

    Returns:
        tuple: ``(visual_state_dict, text_state_dict, logit_scale)``, the
        first without its ``visual.`` prefix; ``logit_scale`` is None when
        absent. Keys of neither tower are logged and dropped.
    """
    visual, text, ignored = {}, {}, []
    for key, value in state_dict.items():
        if key.startswith('visual.'):
            visual[key[len('visual.'):]] = value
        elif key.startswith(_TEXT_PREFIXES):
            text[key] = value
        elif key not in ('logit_scale', 'logit_bias'):
            ignored.append(key)
    if ignored:
        print_log(f'CLIP weights: ignored keys of neither tower: {ignored}',
                  logger='current', level=logging.WARNING)
    return visual, text, state_dict.get('logit_scale')


def resize_positional_embedding(pos_embed: torch.Tensor,
                                grid_size: int) -> torch.Tensor:
    """Resize a ViT position embedding to another square patch grid.

    The class-token row is kept; the patch rows are resized bicubically
    (antialiased, ``align_corners=False``, as open_clip's
    ``resize_pos_embed``).

    Args:
        pos_embed (torch.Tensor): ``(1 + G*G, C)`` with the patch rows in
            row-major grid order.
        grid_size (int): The new grid side.

    Returns:
        torch.Tensor: ``(1 + grid_size**2, C)``, same dtype.
    """
    cls_row, patches = pos_embed[:1], pos_embed[1:]
    old = int(round(patches.shape[0] ** 0.5))
    if old * old != patches.shape[0]:
        raise ValueError(f'{patches.shape[0]} patch positions are not a '
                         'square grid')
    grid = patches.float().reshape(1, old, old, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(grid_size, grid_size), mode='bicubic',
                         antialias=True, align_corners=False)  # (1,C,G,G)
    patches = grid.permute(0, 2, 3, 1).reshape(grid_size * grid_size, -1)
    return torch.cat([cls_row, patches.to(pos_embed.dtype)], dim=0)


def load_state_dict_with_report(module: nn.Module, state_dict: StateDict,
                                source: str) -> Tuple[list, list]:
    """Non-strict ``load_state_dict`` that logs what did not match.

    Shape mismatches raise (the config does not fit the checkpoint);
    missing and unexpected keys are logged as a warning naming them.

    Args:
        module (nn.Module): The module to load into.
        state_dict (dict[str, torch.Tensor]): Keys relative to ``module``.
        source (str): Where the weights come from (for the log).

    Returns:
        tuple[list, list]: ``(missing_keys, unexpected_keys)``.
    """
    own = module.state_dict()
    mismatched = [f'{k}: checkpoint {tuple(v.shape)} vs model '
                  f'{tuple(own[k].shape)}' for k, v in state_dict.items()
                  if k in own and own[k].shape != v.shape]
    if mismatched:
        raise ValueError(f'{type(module).__name__}: shape mismatch loading '
                         f'{source}: ' + '; '.join(mismatched))
    result = module.load_state_dict(state_dict, strict=False)
    name = type(module).__name__
    if result.missing_keys or result.unexpected_keys:
        print_log(f'{name}: loaded {source} with missing keys '
                  f'{result.missing_keys} and unexpected keys '
                  f'{result.unexpected_keys}', logger='current',
                  level=logging.WARNING)
    else:
        print_log(f'{name}: loaded all weights from {source}',
                  logger='current', level=logging.INFO)
    return result.missing_keys, result.unexpected_keys
