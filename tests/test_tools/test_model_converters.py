"""tools/model_converters: CLIP (OpenAI/open_clip/TorchScript, transformers)
and the official STOA-VLP release -> stoavlp checkpoints.

Every conversion is checked against references computed another way:
open_clip / transformers features on the same inputs, the official tensors
themselves, the official formulas of the LM and VTM heads, and an inverse
name map written here by hand (stoavlp -> official -> stoavlp is the
identity).
"""
import copy
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F
from mmengine.runner import load_checkpoint

from stoavlp.models.utils.converters import group_names
from stoavlp.registry import MODELS
from stoavlp.testing import random_open_clip

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = ('clip_to_stoavlp', 'hf_clip_to_stoavlp', 'official_to_stoavlp')
EOT, SOT = 49407, 49406
C, W = 64, 32  # video width; text = joint = fusion width
T, K, M, N, P = 4, 4, 2, 3, 48  # frames, box slots, actions, traj., fusion
VISION = dict(image_size=32, patch_size=8, width=C, layers=3, heads=2)
TEXT = dict(context_length=16, width=W, layers=3, heads=2)
MODEL = dict(
    type='STOAVLPPretrainer',
    video_encoder=dict(
        type='STOAVideoEncoder',
        backbone=dict(type='CLIPVideoEncoder', **VISION, embed_dim=W,
                      feature_layers=(2, 3)),
        trajectory_encoder=dict(type='TrajectoryEncoder', width=C,
                                embed_dim=W, heads=2, num_frames=T,
                                max_objects=K, num_trajectories=N),
        action_encoder=dict(type='ActionEncoder', width=C, embed_dim=W,
                            heads=2, num_actions=M, num_frames=T),
        object_layer=2, action_layer=3),
    text_encoder=dict(type='CLIPTextEncoder', **TEXT, embed_dim=W),
    fusion_encoder=dict(type='FusionEncoder', width=W, layers=2, heads=2,
                        max_positions=P),
    vtc_loss=dict(type='VTCLoss'),
    vtm_head=dict(type='VTMHead', width=W, dropout=0.0),
    lm_head=dict(type='TiedLMHead', width=W, dropout=0.0),
    mlm_head=dict(type='MLMHead'), plm_head=dict(type='PLMHead'),
    ota_loss=dict(type='OTALoss'), asp_loss=dict(type='ASPLoss'))
TRAJ = 'video_encoder.trajectory_encoder.'
ACT = 'video_encoder.action_encoder.'
# What CLIP does not initialise in MODEL.
CLIP_UNFILLED = {
    TRAJ + 'box_mlp.0.weight', TRAJ + 'box_mlp.2.weight',
    TRAJ + 'coord_mlp.0.weight', TRAJ + 'coord_mlp.2.weight',
    TRAJ + 'box_position', TRAJ + 'frame_position', TRAJ + 'cls_token',
    ACT + 'queries', ACT + 'frame_position', 'fusion_encoder.type_embedding',
    'vtc_loss.logit_scale', 'vtm_head.bilinear', 'lm_head.proj',
    'lm_head.bias'
}
OFFICIAL_UNFILLED = {
    'fusion_encoder.type_embedding', ACT + 'frame_position',
    'fusion_encoder.ln_final.weight', 'fusion_encoder.ln_final.bias'
}
OBJ = 'clip.visual.transformer.object_encoder.'


def load_tool(name):
    spec = importlib.util.spec_from_file_location(
        f'{name}_tool', osp.join(ROOT, 'tools', 'model_converters',
                                 f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tools():
    return {name: load_tool(name) for name in TOOLS}


def write_config(folder, **changes):
    """A config file with MODEL, ``changes`` = {part: {key: value}}."""
    model = copy.deepcopy(MODEL)
    for part, values in changes.items():
        model[part].update(values)
    path = osp.join(str(folder), f'tiny_{len(os.listdir(folder))}.py')
    with open(path, 'w') as f:
        f.write(f'model = {model!r}\n')
    return path


def loaded_model(dst):
    """A fresh MODEL with DST loaded strictly, as ``load_from`` does."""
    torch.manual_seed(123)
    model = MODELS.build(copy.deepcopy(MODEL)).eval()
    load_checkpoint(model, dst, strict=True, logger='silent')
    return model


def random_text(batch=3, length=TEXT['context_length'], seed=1):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.zeros(batch, length, dtype=torch.long)
    mask = torch.zeros(batch, length, dtype=torch.long)
    for row, eot in enumerate(torch.randint(2, length, (batch, ),
                                            generator=gen).tolist()):
        ids[row, 0] = SOT
        ids[row, 1:eot] = torch.randint(1, SOT, (eot - 1, ), generator=gen)
        ids[row, eot] = EOT
        mask[row, :eot + 1] = 1
    return ids, mask


def assert_features(model, encode_image, encode_text):
    frames = torch.randn(2, T, 3, 32, 32)
    ids, mask = random_text()
    with torch.no_grad():
        ours_v = model.video_encoder.backbone(frames)['frame_features']
        ref_v = encode_image(frames.flatten(0, 1)).view_as(ours_v)
        ours_t = model.text_encoder(ids, mask)['text_feature']
        ref_t = encode_text(ids)
    torch.testing.assert_close(ours_v, ref_v, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours_t, ref_t, rtol=1e-5, atol=1e-5)


# -- OpenAI / open_clip ----------------------------------------------------
class _OpenAIArchive(torch.nn.Module):
    """open_clip's tensors under OpenAI's top-level names plus the metadata
    tensors OpenAI archives carry, for a traced (TorchScript) file."""

    def __init__(self, clip):
        super().__init__()
        for name in ('visual', 'transformer', 'token_embedding', 'ln_final',
                     'positional_embedding', 'text_projection',
                     'logit_scale'):
            setattr(self, name, getattr(clip, name))
        for key, value in (('input_resolution', 32), ('context_length', 16),
                           ('vocab_size', 49408)):
            self.register_buffer(key, torch.tensor(value))

    def forward(self, image):
        return self.visual(image)


def save_clip(ref, kind, path):
    if kind == 'state_dict':
        torch.save(ref.state_dict(), path)
    elif kind == 'open_clip_checkpoint':  # saved under DDP by open_clip
        torch.save(dict(epoch=2, state_dict={
            f'module.{k}': v for k, v in ref.state_dict().items()}), path)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            traced = torch.jit.trace(_OpenAIArchive(ref),
                                     torch.randn(1, 3, 32, 32),
                                     check_trace=False)
            torch.jit.save(traced, path)


@pytest.mark.parametrize('kind',
                         ['state_dict', 'open_clip_checkpoint', 'torchscript'])
def test_clip_to_stoavlp(tools, tmp_path, kind, capsys):
    ref = random_open_clip(W, VISION, TEXT)
    src, dst = str(tmp_path / 'ViT-tiny.pt'), str(tmp_path / 'out' / 'x.pth')
    save_clip(ref, kind, src)
    report = tools['clip_to_stoavlp'].main(
        [src, dst, '--config', write_config(tmp_path)])
    model = loaded_model(dst)
    assert_features(model, ref.encode_image, ref.encode_text)

    checkpoint = torch.load(dst, weights_only=False)
    state = checkpoint['state_dict']
    top = ref.visual.transformer.resblocks  # 3 blocks: necks take 1 and 2
    for neck in (TRAJ, ACT):
        for i in (0, 1):
            for name, value in top[1 + i].state_dict().items():
                assert torch.equal(
                    state[f'{neck}transformer.resblocks.{i}.{name}'], value)
        assert torch.equal(state[f'{neck}proj'], ref.visual.proj)
        assert torch.equal(state[f'{neck}ln_post.bias'],
                           ref.visual.ln_post.bias)
    for i in (0, 1):  # the fusion encoder takes the first 2 text blocks
        for name, value in ref.transformer.resblocks[i].state_dict().items():
            assert torch.equal(
                state[f'fusion_encoder.transformer.resblocks.{i}.{name}'],
                value)
    assert torch.equal(state['fusion_encoder.positional_embedding'][:16],
                       ref.positional_embedding)
    assert torch.equal(state['fusion_encoder.ln_final.weight'],
                       ref.ln_final.weight)

    assert set(report.unused) == {'logit_scale'}
    assert set(report.unfilled) == CLIP_UNFILLED
    assert any(n.startswith('fusion_encoder.positional_embedding (48, 32): '
                            'rows 0-15 from CLIP') for n in report.notes)
    said = [n for n in report.notes if 'activation' in n]
    if kind == 'torchscript':  # OpenAI archives are QuickGELU: as ours
        assert not said
    else:  # a plain state dict cannot tell: said for both towers
        assert len(said) == 2 and all('does not say' in n for n in said)
    printed = capsys.readouterr().out
    assert TRAJ + 'box_mlp.{0,2}.* (2 tensors)' in printed
    assert '86 (1 unused)' in printed
    assert checkpoint['meta']['unused_source_keys'] == ['logit_scale']
    assert os.listdir(tmp_path / 'out') == ['x.pth']  # no temporary left


def test_clip_blocks_beyond_the_config_are_reported(tools, tmp_path):
    ref = random_open_clip(W, dict(VISION, layers=4), TEXT)
    src, dst = str(tmp_path / 'clip.pt'), str(tmp_path / 'x.pth')
    torch.save(ref.state_dict(), src)
    report = tools['clip_to_stoavlp'].main(
        [src, dst, '--config', write_config(tmp_path)])
    extra = {k for k in ref.state_dict()
             if k.startswith('visual.transformer.resblocks.3.')}
    assert len(extra) == 12 and set(report.unused) == extra | {'logit_scale'}
    # the necks now take CLIP blocks 1 and 2 of the 3 the config keeps
    state = torch.load(dst, weights_only=False)['state_dict']
    assert torch.equal(
        state[TRAJ + 'transformer.resblocks.1.mlp.c_fc.weight'],
        ref.visual.transformer.resblocks[2].mlp.c_fc.weight)


# -- transformers ----------------------------------------------------------
def tiny_hf_clip(seed=0):
    from transformers import CLIPConfig, CLIPModel
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(vocab_size=49408, hidden_size=W,
                         intermediate_size=4 * W, num_hidden_layers=3,
                         num_attention_heads=2, max_position_embeddings=16,
                         hidden_act='quick_gelu', eos_token_id=EOT),
        vision_config=dict(hidden_size=C, intermediate_size=4 * C,
                           num_hidden_layers=3, num_attention_heads=2,
                           image_size=32, patch_size=8,
                           hidden_act='quick_gelu'),
        projection_dim=W)
    model = CLIPModel(config).eval()
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    return model


def test_hf_clip_to_stoavlp(tools, tmp_path):
    ref = tiny_hf_clip()
    src = str(tmp_path / 'hf')
    ref.save_pretrained(src)
    cfg, dst = write_config(tmp_path), str(tmp_path / 'x.pth')
    report = tools['hf_clip_to_stoavlp'].main([src, dst, '--config', cfg])
    assert_features(loaded_model(dst), ref.get_image_features,
                    lambda ids: ref.get_text_features(input_ids=ids))
    assert set(report.unused) == {'logit_scale'}
    assert set(report.unfilled) == CLIP_UNFILLED
    assert report.source_format == 'transformers CLIPModel directory'
    assert not any('WARNING' in n for n in report.notes)

    with open(osp.join(src, 'config.json')) as f:
        hf_cfg = json.load(f)
    hf_cfg['vision_config']['hidden_act'] = 'gelu'
    with open(osp.join(src, 'config.json'), 'w') as f:
        json.dump(hf_cfg, f)
    report = tools['hf_clip_to_stoavlp'].main([src, dst, '--config', cfg])
    assert any("the source was trained with 'gelu'" in n
               for n in report.notes)


# -- the official release --------------------------------------------------
def _block(prefix, width):
    return {f'{prefix}attn.in_proj_weight': (3 * width, width),
            f'{prefix}attn.in_proj_bias': (3 * width, ),
            f'{prefix}attn.out_proj.weight': (width, width),
            f'{prefix}attn.out_proj.bias': (width, ),
            f'{prefix}ln_1.weight': (width, ), f'{prefix}ln_1.bias': (width, ),
            f'{prefix}mlp.c_fc.weight': (4 * width, width),
            f'{prefix}mlp.c_fc.bias': (4 * width, ),
            f'{prefix}mlp.c_proj.weight': (width, 4 * width),
            f'{prefix}mlp.c_proj.bias': (width, ),
            f'{prefix}ln_2.weight': (width, ), f'{prefix}ln_2.bias': (width, )}


def _vit(prefix, layers):
    shapes = {f'{prefix}conv1.weight': (C, 3, 8, 8),
              f'{prefix}class_embedding': (C, ),
              f'{prefix}positional_embedding': (17, C),
              f'{prefix}ln_pre.weight': (C, ), f'{prefix}ln_pre.bias': (C, ),
              f'{prefix}ln_post.weight': (C, ), f'{prefix}ln_post.bias': (C, ),
              f'{prefix}proj': (C, W)}
    for i in range(layers):
        shapes.update(_block(f'{prefix}transformer.resblocks.{i}.', C))
    obj = f'{prefix}transformer.object_encoder.'  # official T=5, K=5 tables
    shapes.update({f'{obj}patch_to_d.0.weight': (C // 2, C),
                   f'{obj}patch_to_d.2.weight': (C, C // 2),
                   f'{obj}box_categories': (T + 1, K + 1, C),
                   f'{obj}c_coord_to_feature.0.weight': (C // 2, 4),
                   f'{obj}c_coord_to_feature.2.weight': (C, C // 2)})
    return shapes


def official_shapes():
    """The official CLIP4Clip pre-training state dict at tiny dims."""
    shapes = {**_vit('clip.visual.', 3), **_vit('clip.object_fusion.', 2),
              **_vit('clip.object_act_fusion.', 2)}
    for i in range(3):  # text and fusion transformers: 3 blocks each
        shapes.update(_block(f'clip.transformer.resblocks.{i}.', W))
        shapes.update(_block(f'clip.fusion_transformer.resblocks.{i}.', W))
    shapes.update({
        'clip.token_embedding.weight': (49408, W),
        'clip.positional_embedding': (16, W),
        'clip.ln_final.weight': (W, ), 'clip.ln_final.bias': (W, ),
        'clip.text_projection': (W, W),
        'clip.fusion_positional_embedding': (P + 12, W),
        'clip.object_frame_pos_emb': (T + 1, C),
        'clip.object_cls_embedding': (1, C),
        'clip.object_fusion_positional_embedding': (5 * 12, W),
        'clip.object_text_fusion_positional_embedding': (16, W),
        'clip.object_action': (1, 1, M + 1, C),
        'clip.object_alignment_proj': (W, W),
        'clip.object_logit_bias': (32, ),
        'clip.fusion_proj': (W, W), 'clip.fusion_logit_bias': (49408, ),
        'clip.fusion_match_matrix': (W, W),
        'clip.fusion_unmatch_matrix': (W, W),
        'clip.lm_head.weight': (W, W), 'clip.lm_head.bias': (W, ),
        'clip.logit_scale': (),
        'obj_ln.weight': (C, ), 'obj_ln.bias': (C, ), 'obj_proj': (C, W)})
    return shapes


def _is_fp16(key):
    """Tensors the official ``convert_weights`` turns into fp16."""
    return any(s in key for s in ('attn.', 'mlp.', 'conv1', 'patch_to_d',
                                  'c_coord', 'lm_head', 'text_projection')) \
        or key.endswith('.proj')


def official_state(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(s, generator=gen).to(
        torch.float16 if _is_fp16(k) else torch.float32)
            for k, s in official_shapes().items()}


EXPECTED_UNUSED = {
    'obj_ln.weight', 'obj_ln.bias', 'obj_proj',
    'clip.object_fusion_positional_embedding',
    'clip.object_text_fusion_positional_embedding',
    'clip.object_alignment_proj', 'clip.object_logit_bias',
    'clip.lm_head.weight', 'clip.lm_head.bias'
} | {f'clip.{tower}.{name}' for tower in ('object_fusion', 'object_act_fusion')
     for name in ('conv1.weight', 'class_embedding', 'positional_embedding',
                  'ln_pre.weight', 'ln_pre.bias')} | {
    f'clip.{tower}.transformer.object_encoder.{name}'
    for tower in ('object_fusion', 'object_act_fusion')
    for name in ('patch_to_d.0.weight', 'patch_to_d.2.weight',
                 'box_categories', 'c_coord_to_feature.0.weight',
                 'c_coord_to_feature.2.weight')} | set(
    _block('clip.fusion_transformer.resblocks.2.', W))


def test_official_to_stoavlp(tools, tmp_path):
    off = official_state()
    src = str(tmp_path / 'pytorch_model.bin.3000')
    dst = str(tmp_path / 'x.pth')
    # as tasks/pre_training.py saves it (BertAdam state included)
    optim = dict(state={0: dict(step=3000, next_m=torch.ones(2),
                                next_v=torch.ones(2))},
                 param_groups=[dict(lr=1e-5, schedule='warmup_cosine',
                                    weight_decay=0.2, params=[0])])
    torch.save(dict(global_step=3000, epoch=1, model_state_dict=off,
                    optim_state_dict=optim), src)
    tool = tools['official_to_stoavlp']
    report = tool.main([src, dst, '--config', write_config(tmp_path)])
    model = loaded_model(dst)
    state = model.state_dict()

    def same(ours, official, view=lambda v: v):
        assert torch.equal(state[ours], view(off[official].float())), ours

    same('video_encoder.backbone.transformer.resblocks.0.attn.'
         'in_proj_weight',
         'clip.visual.transformer.resblocks.0.attn.in_proj_weight')
    same('video_encoder.backbone.positional_embedding',
         'clip.visual.positional_embedding')
    same('video_encoder.backbone.proj', 'clip.visual.proj')
    same('text_encoder.token_embedding.weight', 'clip.token_embedding.weight')
    same('text_encoder.transformer.resblocks.2.mlp.c_proj.weight',
         'clip.transformer.resblocks.2.mlp.c_proj.weight')
    same('text_encoder.text_projection', 'clip.text_projection')
    same(TRAJ + 'box_mlp.0.weight', OBJ + 'patch_to_d.0.weight')
    same(TRAJ + 'coord_mlp.2.weight', OBJ + 'c_coord_to_feature.2.weight')
    same(TRAJ + 'box_position', OBJ + 'box_categories',
         lambda v: v[:T, :K])
    same(TRAJ + 'frame_position', 'clip.object_frame_pos_emb',
         lambda v: v[:T])
    same(TRAJ + 'cls_token', 'clip.object_cls_embedding', lambda v: v[0])
    same(TRAJ + 'transformer.resblocks.1.ln_2.bias',
         'clip.object_fusion.transformer.resblocks.1.ln_2.bias')
    same(TRAJ + 'proj', 'clip.object_fusion.proj')
    same(ACT + 'transformer.resblocks.0.attn.out_proj.weight',
         'clip.object_act_fusion.transformer.resblocks.0.attn.out_proj.'
         'weight')
    same(ACT + 'ln_post.weight', 'clip.object_act_fusion.ln_post.weight')
    same(ACT + 'queries', 'clip.object_action', lambda v: v[0, 0, :M])
    same('fusion_encoder.positional_embedding',
         'clip.fusion_positional_embedding', lambda v: v[:P])
    same('fusion_encoder.transformer.resblocks.1.attn.in_proj_bias',
         'clip.fusion_transformer.resblocks.1.attn.in_proj_bias')
    same('lm_head.proj', 'clip.fusion_proj')
    same('lm_head.bias', 'clip.fusion_logit_bias')
    same('vtc_loss.logit_scale', 'clip.logit_scale')
    assert torch.equal(state['vtm_head.bilinear'], torch.stack(
        [off['clip.fusion_unmatch_matrix'], off['clip.fusion_match_matrix']]))
    # what the release lacks keeps the model's initialisation
    assert not state['fusion_encoder.type_embedding'].any()
    assert torch.equal(state['fusion_encoder.ln_final.weight'], torch.ones(W))

    # the official head formulas give the same numbers
    hidden, video, text = torch.randn(3, 5, W).unbind(0)
    emb = off['clip.token_embedding.weight']
    logits = F.linear(hidden, (off['clip.fusion_proj'].float() @ emb.t()).t(),
                      off['clip.fusion_logit_bias'])
    with torch.no_grad():
        torch.testing.assert_close(
            model.lm_head(hidden, model.text_encoder.token_embedding.weight),
            logits, rtol=1e-4, atol=1e-4)
        v, t = F.normalize(video, dim=-1), F.normalize(text, dim=-1)
        official_vtm = torch.stack([
            (v @ off[f'clip.fusion_{kind}_matrix'].float() @ t.t()).diag()
            for kind in ('unmatch', 'match')], 1)
        torch.testing.assert_close(model.vtm_head(video, text), official_vtm)

    assert set(report.unused) == EXPECTED_UNUSED
    assert set(report.unfilled) == OFFICIAL_UNFILLED
    assert 'blocks 0-5' in report.unused[
        'clip.fusion_transformer.resblocks.2.ln_1.weight']
    assert any(n.startswith(OBJ + 'box_categories (5, 5, 64) -> ' + TRAJ +
                            'box_position (4, 4, 64)')
               for n in report.notes)
    assert any('cast to the model dtype' in n for n in report.notes)
    names = ('obj_ln', 'obj_proj', 'conv1.weight', 'class_embedding',
             'ln_pre', 'object_encoder', 'fusion_transformer.resblocks',
             'object_fusion_positional_embedding', 'object_alignment_proj',
             'object_text_fusion_positional_embedding', 'object_logit_bias',
             'lm_head', 'type_embedding', 'frame_position', 'ln_final')
    assert all(name in tool.__doc__ for name in names)


def to_official(state, gen):
    """stoavlp -> official names, written independently of the tool; the
    official tables get extra random entries (the tool keeps the first)."""

    def padded(value, shape):
        out = torch.randn(shape, generator=gen)
        out[tuple(slice(0, s) for s in value.shape)] = value
        return out

    towers = {'trajectory_encoder': 'clip.object_fusion.',
              'action_encoder': 'clip.object_act_fusion.'}
    off = {}
    for full_key, value in state.items():
        if full_key.startswith('video_encoder.backbone.'):  # the CLIP tower
            off['clip.visual.' + full_key[len('video_encoder.backbone.'):]] \
                = value
            continue
        # the necks by their own names (trajectory_encoder.*, ...)
        key = full_key[len('video_encoder.'):] \
            if full_key.startswith('video_encoder.') else full_key
        part, _, rest = key.partition('.')
        if part == 'text_encoder':
            off['clip.' + rest] = value
        elif part in towers and (rest.startswith(('transformer.', 'ln_post'))
                                 or rest == 'proj'):
            off[towers[part] + rest] = value
        elif rest.startswith('box_mlp.'):
            off[OBJ + 'patch_to_d.' + rest[8:]] = value
        elif rest.startswith('coord_mlp.'):
            off[OBJ + 'c_coord_to_feature.' + rest[10:]] = value
        elif key == 'trajectory_encoder.box_position':
            off[OBJ + 'box_categories'] = padded(value, (T + 2, K + 1, C))
        elif key == 'trajectory_encoder.frame_position':
            off['clip.object_frame_pos_emb'] = padded(value, (T + 2, C))
        elif key == 'trajectory_encoder.cls_token':
            off['clip.object_cls_embedding'] = value[None]
        elif key == 'action_encoder.queries':
            off['clip.object_action'] = padded(value, (M + 2, C))[None, None]
        elif key == 'fusion_encoder.positional_embedding':
            off['clip.fusion_positional_embedding'] = padded(value, (P + 9, W))
        elif part == 'fusion_encoder' and rest.startswith('transformer.'):
            off['clip.fusion_' + rest] = value
        elif key == 'lm_head.proj':
            off['clip.fusion_proj'] = value
        elif key == 'lm_head.bias':
            off['clip.fusion_logit_bias'] = value
        elif key == 'vtm_head.bilinear':
            off['clip.fusion_unmatch_matrix'] = value[0]
            off['clip.fusion_match_matrix'] = value[1]
        elif key == 'vtc_loss.logit_scale':
            off['clip.logit_scale'] = value
        else:
            assert full_key in OFFICIAL_UNFILLED, full_key
    return off


def test_official_round_trip_is_identity(tools, tmp_path):
    torch.manual_seed(7)
    model = MODELS.build(copy.deepcopy(MODEL))
    with torch.no_grad():  # nothing left at an initial value
        for param in model.parameters():
            param.add_(torch.randn_like(param))
    state = model.state_dict()
    src, dst = str(tmp_path / 'pytorch_model.bin'), str(tmp_path / 'x.pth')
    torch.save({f'module.{k}': v for k, v in to_official(
        state, torch.Generator().manual_seed(0)).items()}, src)
    report = tools['official_to_stoavlp'].main(
        [src, dst, '--config', write_config(tmp_path)])
    back = torch.load(dst, weights_only=False)['state_dict']
    assert set(back) == set(state)
    assert set(report.unfilled) == OFFICIAL_UNFILLED and not report.unused
    for key in set(state) - OFFICIAL_UNFILLED:
        assert torch.equal(back[key], state[key]), key


# -- errors, help, report --------------------------------------------------
def run_tool(tool, args):
    with pytest.raises(SystemExit) as exc:
        tool.main(args)
    return str(exc.value.code)


def test_errors_name_the_file_or_tensor(tools, tmp_path):
    cfg, dst = write_config(tmp_path), str(tmp_path / 'out.pth')
    missing = str(tmp_path / 'nope' / 'ViT-B-16.pt')
    for name in TOOLS:
        assert 'nope' in run_tool(tools[name], [missing, dst, '--config', cfg])
    assert 'no config.json' in run_tool(tools['hf_clip_to_stoavlp'],
                                        [str(tmp_path), dst])
    text = tmp_path / 'notes.txt'
    text.write_text('not a checkpoint\n' * 10)
    for name in ('clip_to_stoavlp', 'official_to_stoavlp'):
        msg = run_tool(tools[name], [str(text), dst, '--config', cfg])
        assert 'notes.txt' in msg and 'weights_only=True' in msg
    clip_file = str(tmp_path / 'clip.pt')
    torch.save(random_open_clip(W, VISION, TEXT).state_dict(), clip_file)
    msg = run_tool(tools['official_to_stoavlp'], [clip_file, dst, '--config',
                                                  cfg])
    assert 'clip.pt is not an official' in msg and 'clip_to_stoavlp' in msg
    official = str(tmp_path / 'pytorch_model.bin')
    torch.save(official_state(), official)
    msg = run_tool(tools['clip_to_stoavlp'], [official, dst, '--config', cfg])
    assert 'pytorch_model.bin holds no CLIP weights' in msg
    # a config whose text encoder has more positions than the checkpoint
    longer = write_config(tmp_path, text_encoder=dict(context_length=20))
    msg = run_tool(tools['official_to_stoavlp'], [official, dst, '--config',
                                                  longer])
    assert 'clip.positional_embedding (16, 32) vs text_encoder.' \
        'positional_embedding (20, 32)' in msg
    msg = run_tool(tools['clip_to_stoavlp'], [clip_file, dst, '--config',
                                              longer])
    assert 'positional_embedding: checkpoint (16, 32) vs model (20, 32)' \
        in msg and 'clip.pt' in msg
    assert not osp.exists(dst)
    assert not [f for f in os.listdir(tmp_path) if '.tmp' in f]


@pytest.mark.parametrize('name', TOOLS)
def test_help(name):
    out = subprocess.run(
        [sys.executable, f'tools/model_converters/{name}.py', '--help'],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    text = ''.join(out.stdout.split())  # argparse wraps the default path
    assert out.stdout.startswith('usage:') and '--config' in text
    assert 'load_from' in text and 'webvid2m-pretrain.py)' in text


def test_default_config_exists(tools):
    for tool in tools.values():
        assert osp.isfile(tool.DEFAULT_CONFIG)


def test_group_names():
    names = [f'a.resblocks.{i}.{p}' for i in (6, 7, 8, 11)
             for p in ('ln_1.weight', 'ln_1.bias')] + ['b.ln.bias',
                                                       'b.ln.weight', 'c']
    assert group_names(names) == ['a.resblocks.{6-8,11}.* (8 tensors)',
                                  'b.ln.{bias,weight}', 'c']
    assert group_names(['x.3.w']) == ['x.3.* (1 tensor)']
