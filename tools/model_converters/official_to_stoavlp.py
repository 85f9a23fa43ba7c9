"""Convert the official STOA-VLP release into a stoavlp checkpoint.

    python tools/model_converters/official_to_stoavlp.py SRC DST \\
        [--config CONFIG] [--seed 0]

SRC is whongzhong/STOA-VLP's ``pytorch_model.bin``: the ``state_dict()`` of
its pre-training ``CLIP4Clip`` (modules/modeling_pretrain.py), bare or in
the dict tasks/pre_training.py saves as ``ckpt/pytorch_model.bin.N``
(``model_state_dict``, ``optim_state_dict``, ...). It is read with
``weights_only=True``. DST is ``{'state_dict', 'meta'}`` for the model of
CONFIG (default: the paper's pre-training config), written atomically; use
it as ``load_from`` (the fine-tuning configs do; for the pre-training config
also pass ``model.video_encoder.backbone.pretrained=None
model.text_encoder.pretrained=None``).

Name map (official -> stoavlp; shapes for ViT-B/16, 12 frames, 10 boxes,
4 actions; T, K, M, L, P: the config's frames, box slots, actions, text
and fusion lengths; "[:n]" keeps the first n entries):

  clip.visual.{conv1.weight, class_embedding, positional_embedding,
    ln_pre, transformer.resblocks.N, ln_post, proj}
      -> video_encoder.backbone.<same>
  clip.visual.transformer.object_encoder.patch_to_d.{0,2}.weight
    (384,768), (768,384)
      -> video_encoder.trajectory_encoder.box_mlp.{0,2}.weight
  clip.visual.transformer.object_encoder.c_coord_to_feature.{0,2}.weight
    (384,4), (768,384)
      -> video_encoder.trajectory_encoder.coord_mlp.{0,2}.weight
  clip.visual.transformer.object_encoder.box_categories (12,10,768)
      -> video_encoder.trajectory_encoder.box_position (T,K,768), [:T, :K]
  clip.object_frame_pos_emb (12,768)
      -> video_encoder.trajectory_encoder.frame_position (T,768), [:T]
  clip.object_cls_embedding (1,768) -> video_encoder.trajectory_encoder.cls_token (768,)
  clip.object_fusion.{transformer.resblocks.{0,1}, ln_post, proj}
      -> video_encoder.trajectory_encoder.<same>
  clip.object_act_fusion.{transformer.resblocks.{0,1}, ln_post, proj}
      -> video_encoder.action_encoder.<same>
  clip.object_action (1,1,4,768) -> video_encoder.action_encoder.queries (M,768), [:M]
  clip.{token_embedding.weight, ln_final, text_projection,
    transformer.resblocks.N}
      -> text_encoder.<same>
  clip.positional_embedding (77,512)
      -> text_encoder.positional_embedding (L,512), [:L]
  clip.fusion_positional_embedding (210,512)
      -> fusion_encoder.positional_embedding (P,512), [:P]
      (same order: frames, video [CLS], trajectories, actions, text)
  clip.fusion_transformer.resblocks.{0-5}
      -> fusion_encoder.transformer.resblocks.{0-5}
  clip.fusion_proj (512,512) -> lm_head.proj, as is (both compute
      logits = h @ proj @ E^T + bias, E the token embedding)
  clip.fusion_logit_bias (49408,) -> lm_head.bias
  clip.fusion_unmatch_matrix, clip.fusion_match_matrix (512,512)
      -> vtm_head.bilinear[0], [1] (2,512,512), as is (both compute
      logit_k = v^T W_k t on L2-normalised outputs)
  clip.logit_scale () -> vtc_loss.logit_scale (both log scales)

Official tensors left unmapped (and why):

  obj_ln.*, obj_proj                  defined by CLIP4Clip, never read
  clip.object{,_act}_fusion.{conv1.weight, class_embedding,
      positional_embedding, ln_pre.*}   patch stem of the 2-block ViT copies
  clip.object{,_act}_fusion.transformer.object_encoder.*
                                      ObjectEncoders built but never called
  clip.fusion_transformer.resblocks.{6-11}
                                      the official fusion runs blocks 0-5
  clip.object_fusion_positional_embedding,
  clip.object_text_fusion_positional_embedding
                                      phrase-fusion experiment / never read
  clip.object_alignment_proj, clip.object_logit_bias
                                      unused experimental head
  clip.lm_head.*                      never read (fusion_proj is the head)

stoavlp tensors the release has no counterpart for keep the model's own
initialisation: fusion_encoder.type_embedding (zeros),
video_encoder.action_encoder.frame_position (set to zeros), fusion_encoder.ln_final
(weight 1, bias 0: the official fusion encoder has no final LayerNorm).

The weights map one to one, but some computations differ (docs/model.md):
the official objects come from ViT block 11 and actions from block 10, with
joint space-time attention in blocks 11-12 (stoavlp: object_layer=10,
action_layer=11, joint_attention_layers=()); the official trajectory
encoder runs only its block 0 (its block 1 is still mapped); eq. 1 order,
type embeddings and the fusion ``ln_final`` are stoavlp's. Shapes that do
not fit the config (other than the cropped tables above) are an error
naming both shapes. Details: docs/model_converters.md.
"""
import os.path as osp
import re
import sys

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from converter_cli import converter_main  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    ROOT, 'configs', 'stoavlp',
    'stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py')

_BLOCK = r'transformer\.resblocks\.(\d+)\.(.+)'
_OBJ = r'clip\.visual\.transformer\.object_encoder\.'
# (official name regex, stoavlp name, kind, hint when the target is absent).
# kind: 'same' exact shape; 'crop' leading dims may shrink (the first
# entries of a table are kept); 'rows' reshape to (-1, last) then crop;
# 'flat' reshape to (-1,). A '[i]' suffix fills entry i of the target.
OFFICIAL_RULES = (
    (r'clip\.visual\.(conv1\.weight|class_embedding|positional_embedding|'
     r'ln_pre\.\w+|ln_post\.\w+|proj)', r'video_encoder.backbone.\1', 'same', ''),
    (r'clip\.visual\.' + _BLOCK, r'video_encoder.backbone.transformer.resblocks.\1.\2',
     'same', ''),
    (_OBJ + r'patch_to_d\.([02])\.weight',
     r'video_encoder.trajectory_encoder.box_mlp.\1.weight', 'same', ''),
    (_OBJ + r'c_coord_to_feature\.([02])\.weight',
     r'video_encoder.trajectory_encoder.coord_mlp.\1.weight', 'same', ''),
    (_OBJ + r'box_categories', 'video_encoder.trajectory_encoder.box_position', 'crop', ''),
    (r'clip\.object_frame_pos_emb', 'video_encoder.trajectory_encoder.frame_position',
     'crop', ''),
    (r'clip\.object_cls_embedding', 'video_encoder.trajectory_encoder.cls_token', 'flat',
     ''),
    (r'clip\.object_fusion\.' + _BLOCK,
     r'video_encoder.trajectory_encoder.transformer.resblocks.\1.\2', 'same', ''),
    (r'clip\.object_fusion\.(ln_post\.\w+|proj)', r'video_encoder.trajectory_encoder.\1',
     'same', ''),
    (r'clip\.object_act_fusion\.' + _BLOCK,
     r'video_encoder.action_encoder.transformer.resblocks.\1.\2', 'same', ''),
    (r'clip\.object_act_fusion\.(ln_post\.\w+|proj)', r'video_encoder.action_encoder.\1',
     'same', ''),
    (r'clip\.object_action', 'video_encoder.action_encoder.queries', 'rows', ''),
    (r'clip\.(token_embedding\.weight|ln_final\.\w+|text_projection)',
     r'text_encoder.\1', 'same', ''),
    (r'clip\.positional_embedding', 'text_encoder.positional_embedding',
     'crop', ''),
    (r'clip\.' + _BLOCK, r'text_encoder.transformer.resblocks.\1.\2', 'same',
     ''),
    (r'clip\.fusion_positional_embedding',
     'fusion_encoder.positional_embedding', 'crop', ''),
    (r'clip\.fusion_' + _BLOCK, r'fusion_encoder.transformer.resblocks.\1.\2',
     'same', ' (the official fusion pass runs only blocks 0-5)'),
    (r'clip\.fusion_proj', 'lm_head.proj', 'same', ''),
    (r'clip\.fusion_logit_bias', 'lm_head.bias', 'same', ''),
    (r'clip\.fusion_unmatch_matrix', 'vtm_head.bilinear[0]', 'same', ''),
    (r'clip\.fusion_match_matrix', 'vtm_head.bilinear[1]', 'same', ''),
    (r'clip\.logit_scale', 'vtc_loss.logit_scale', 'same', ''),
)
# Official tensors with no stoavlp meaning: (name regex, why).
OFFICIAL_UNUSED = (
    (r'obj_ln\.\w+|obj_proj', 'defined by the official CLIP4Clip, read by no '
     'forward'),
    (r'clip\.object(_act)?_fusion\.(conv1\.weight|class_embedding|'
     r'positional_embedding|ln_pre\.\w+)', 'patch stem of the official '
     '2-block ViT copies; only their transformer, ln_post and proj run'),
    (r'clip\.object(_act)?_fusion\.transformer\.object_encoder\..+',
     'an ObjectEncoder every official ViT builds; only clip.visual\'s runs'),
    (r'clip\.object_(text_)?fusion_positional_embedding', 'official phrase '
     'fusion experiment (off in pre-training) or never read'),
    (r'clip\.object_alignment_proj|clip\.object_logit_bias',
     'unused experimental object-alignment head'),
    (r'clip\.lm_head\.\w+', 'defined by the official CLIP, never read (the '
     'token head is fusion_proj)'),
    (r'clip\.(input_resolution|context_length|vocab_size)',
     'CLIP hyper-parameters stored as tensors'),
)
# stoavlp tensors without an official counterpart, and why.
OFFICIAL_NEW = {
    'fusion_encoder.type_embedding': 'segment-type embedding, a stoavlp '
    'addition (zero-initialised)',
    'fusion_encoder.ln_final.weight': 'the official fusion encoder has no '
    'final LayerNorm (weight 1, bias 0)',
    'fusion_encoder.ln_final.bias': 'the official fusion encoder has no '
    'final LayerNorm (weight 1, bias 0)',
    'video_encoder.action_encoder.frame_position': 'temporal embedding of the action '
    'encoder, a stoavlp addition (set to zeros: the official encoder is '
    'blind to frame order)',
}


def load_official_state_dict(path: str) -> dict:
    """The official model tensors (``clip.*``, ``obj_*``) of ``path``.

    Accepts the bare ``state_dict()`` or the training dict around it
    (``model_state_dict``), with or without a ``module.`` prefix.

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not a weights-only PyTorch file, or no ``clip.*``.
    """
    import torch
    from stoavlp.compat import load_external_checkpoint
    try:
        obj = load_external_checkpoint(path)
    except FileNotFoundError:
        raise
    except Exception as err:  # unpickling errors of a foreign file
        raise ValueError(f'{path} is not a PyTorch checkpoint readable with '
                         f'weights_only=True ({type(err).__name__}: {err})'
                         ) from err
    for wrapper in ('model_state_dict', 'state_dict', 'model'):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict):
        raise ValueError(f'{path} holds a {type(obj).__name__}, not a state '
                         'dict')
    state = {(k[len('module.'):] if k.startswith('module.') else k): v
             for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not any(k.startswith('clip.') for k in state):
        hint = ' (a CLIP checkpoint? use clip_to_stoavlp.py)' if any(
            k.startswith('visual.') for k in state) else ''
        raise ValueError(f'{path} is not an official STOA-VLP checkpoint: no '
                         f'clip.* tensors (first keys: {list(state)[:5]})'
                         + hint)
    return state


def _fit(value, shape, kind):
    """``value`` shaped for ``shape`` by ``kind``, or None if it cannot."""
    if kind == 'flat':
        value = value.reshape(-1)
    elif kind == 'rows':
        value = value.reshape(-1, value.shape[-1])
    if value.shape == shape:
        return value
    if kind != 'same' and value.dim() == len(shape) and \
            value.shape[-1] == shape[-1] and \
            all(s <= v for s, v in zip(shape, value.shape)):
        return value[tuple(slice(0, s) for s in shape)]
    return None


def _rule(key: str):
    """``(stoavlp name, entry or None, kind, hint)`` for an official key."""
    for pattern, name, kind, hint in OFFICIAL_RULES:
        match = re.fullmatch(pattern, key)
        if match:
            name = match.expand(name)
            entry = re.fullmatch(r'(.+)\[(\d+)\]', name)
            if entry:
                return entry.group(1), int(entry.group(2)), kind, hint
            return name, None, kind, hint
    return None


def map_official(official: dict, target: dict):
    """Rename and reshape official tensors into ``target``'s names.

    Args:
        official (dict[str, Tensor]): From :func:`load_official_state_dict`.
        target (dict[str, Tensor]): The stoavlp model's state dict (names,
            shapes, dtypes; its values fill what a partial map leaves).

    Returns:
        tuple: ``(mapped, unused, notes)``: stoavlp name -> tensor (in the
        stoavlp dtype), official name -> why unused, list of notes.

    Raises:
        ValueError: Tensors that do not fit, each named with both shapes.
    """
    mapped, unused, notes, errors, cast = {}, {}, [], [], 0
    for key, value in official.items():
        rule = _rule(key)
        if rule is None:
            unused[key] = next((why for pattern, why in OFFICIAL_UNUSED
                                if re.fullmatch(pattern, key)),
                               'unknown to the official pre-training model')
            continue
        name, entry, kind, hint = rule
        if name not in target:
            unused[key] = ('no such tensor in the config\'s '
                           f'{name.partition(".")[0]}{hint}')
            continue
        dest = target[name] if entry is None else target[name][entry]
        fitted = _fit(value, dest.shape, kind)
        if fitted is None:
            where = name if entry is None else f'{name}[{entry}]'
            errors.append(f'{key} {tuple(value.shape)} vs {where} '
                          f'{tuple(dest.shape)}')
            continue
        if fitted.numel() != value.numel():
            notes.append(f'{key} {tuple(value.shape)} -> {name} '
                         f'{tuple(fitted.shape)}: leading entries kept')
        cast += value.dtype != dest.dtype
        fitted = fitted.to(dest.dtype).clone()
        if entry is None:
            mapped[name] = fitted
        else:
            mapped.setdefault(name, target[name].clone())[entry] = fitted
    if errors:
        raise ValueError('official tensors do not fit the config\'s model '
                         '(official shape vs stoavlp shape): ' +
                         '; '.join(errors))
    if cast:
        notes.append(f'{cast} tensors cast to the model dtype (the release '
                     'stores Linear and attention weights in fp16)')
    return mapped, unused, notes


def official_to_stoavlp(src: str, config, seed: int = 0):
    """stoavlp weights from the official pre-training checkpoint.

    The config's model is built without CLIP and initialised from ``seed``;
    the official tensors replace their counterparts.

    Returns:
        tuple: ``(state_dict, ConversionReport)``, the state dict complete.
    """
    from stoavlp.models.utils.converters import (ConversionReport,
                                                 build_initialised)
    official = load_official_state_dict(src)
    state = build_initialised(config, None, seed).state_dict()
    mapped, unused, notes = map_official(official, state)
    if not mapped:
        raise ValueError(f'no tensor of {src} fits the config\'s model')
    state.update(mapped)
    # the official action encoder has no temporal embedding: zeros make the
    # converted one compute what it computed (stoavlp initialises it
    # randomly, so that a new action encoder can tell frame order)
    if 'video_encoder.action_encoder.frame_position' in state:
        state['video_encoder.action_encoder.frame_position'] = torch.zeros_like(
            state['video_encoder.action_encoder.frame_position'])
    report = ConversionReport(src, 'official STOA-VLP checkpoint',
                              str(config), len(official), len(state), unused,
                              notes=notes)
    report.unfilled = {k: OFFICIAL_NEW.get(k, 'no official counterpart')
                       for k in state if k not in mapped}
    if any(k.startswith('video_encoder.trajectory_encoder.transformer.resblocks.1.')
           for k in mapped):
        report.notes.append(
            'the official trajectory encoder runs only its block 0 (block 1 '
            'stayed CLIP\'s block 11); it is mapped to block 1 anyway')
    return state, report


def main(argv=None):
    return converter_main(argv, __doc__, 'official pytorch_model.bin',
                          official_to_stoavlp, DEFAULT_CONFIG,
                          osp.basename(__file__))


if __name__ == '__main__':
    main()
