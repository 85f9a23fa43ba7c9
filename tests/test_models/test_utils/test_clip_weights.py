"""CLIP weight loading: OpenAI (TorchScript / plain), open_clip and HF.

Every format is checked end to end: tiny random CLIPs from open_clip 3.3.0
and transformers are saved, loaded into the stoavlp backbones, and their
features compared with the reference implementation's.
"""
import logging
from contextlib import contextmanager

import pytest
import torch
from mmengine.logging import MMLogger
from open_clip.model import CLIP, resize_pos_embed
from transformers import CLIPConfig, CLIPModel

from stoavlp.models.backbones import CLIPTextEncoder, CLIPVideoEncoder
from stoavlp.models.utils.clip_weights import (hf_to_openai,
                                               load_clip_state_dict,
                                               openai_to_hf,
                                               resize_positional_embedding,
                                               split_visual_text)
from stoavlp.testing import random_open_clip

EOT, SOT = 49407, 49406
# Tiny towers; every dimension differs so that a transposed or swapped
# tensor cannot load silently.
VISION = dict(image_size=32, patch_size=8, width=64, layers=2, heads=2)
TEXT = dict(context_length=16, width=32, layers=2, heads=2)
EMBED_DIM = 24


def tiny_open_clip(seed=0):
    """open_clip CLIP in OpenAI's layout, every parameter randomised."""
    return random_open_clip(EMBED_DIM, VISION, TEXT, seed)


def tiny_hf_clip(seed=0):
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(
            vocab_size=49408, hidden_size=TEXT['width'],
            intermediate_size=4 * TEXT['width'],
            num_hidden_layers=TEXT['layers'],
            num_attention_heads=TEXT['heads'],
            max_position_embeddings=TEXT['context_length'],
            hidden_act='quick_gelu', eos_token_id=EOT),
        vision_config=dict(
            hidden_size=VISION['width'], intermediate_size=4 * VISION['width'],
            num_hidden_layers=VISION['layers'],
            num_attention_heads=VISION['heads'],
            image_size=VISION['image_size'], patch_size=VISION['patch_size'],
            hidden_act='quick_gelu'),
        projection_dim=EMBED_DIM)
    model = CLIPModel(config).eval()
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    return model


def random_text(batch=3, length=TEXT['context_length'], seed=1):
    """CLIP-like ids: SOT, words, EOT, zero padding; and the keep mask."""
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


def rel_err(ours, ref):
    return ((ours - ref).norm() / ref.norm()).item()


@contextmanager
def captured_log():
    """Messages logged through MMLogger's current instance."""
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def load_ours(path):
    video = CLIPVideoEncoder(**VISION, embed_dim=EMBED_DIM,
                             feature_layers=(), pretrained=path)
    text = CLIPTextEncoder(**TEXT, embed_dim=EMBED_DIM, pretrained=path)
    video.init_weights()
    text.init_weights()
    return video.eval(), text.eval()


def check_against(video_enc, text_enc, encode_image, encode_text):
    frames = torch.randn(2, 3, 3, VISION['image_size'], VISION['image_size'])
    ids, mask = random_text()
    with torch.no_grad():
        ours_v = video_enc(frames)['frame_features']  # (B, T, D)
        ref_v = encode_image(frames.flatten(0, 1)).view_as(ours_v)
        ours_t = text_enc(ids, mask)['text_feature']
        ref_t = encode_text(ids)
    assert rel_err(ours_v, ref_v) <= 1e-5
    assert rel_err(ours_t, ref_t) <= 1e-5


@pytest.mark.parametrize('wrapped', [False, True])
def test_state_dict_files_match_open_clip(tmp_path, wrapped):
    ref = tiny_open_clip()
    state = ref.state_dict()
    if wrapped:  # an open_clip training checkpoint saved under DDP
        state = dict(epoch=1, name='tiny', state_dict={
            f'module.{k}': v for k, v in state.items()})
    path = str(tmp_path / 'ViT-tiny.pt')
    torch.save(state, path)
    assert set(load_clip_state_dict(path)) == set(ref.state_dict())
    check_against(*load_ours(path), ref.encode_image, ref.encode_text)


class _OpenAIArchive(torch.nn.Module):
    """CLIP's tensors at OpenAI's top-level names, plus the metadata
    tensors OpenAI's TorchScript archives carry; runs open_clip's code."""

    def __init__(self, clip):
        super().__init__()
        for name in ('visual', 'transformer', 'token_embedding', 'ln_final',
                     'positional_embedding', 'text_projection',
                     'logit_scale', 'text_pool_type', 'text_eos_id'):
            setattr(self, name, getattr(clip, name))
        self.attn_mask = clip.attn_mask  # a traced constant, not a key
        for key, value in (('input_resolution', VISION['image_size']),
                           ('context_length', TEXT['context_length']),
                           ('vocab_size', 49408)):
            self.register_buffer(key, torch.tensor(value))

    def forward(self, image, text):
        return CLIP.encode_image(self, image), CLIP.encode_text(self, text)


@pytest.mark.filterwarnings('ignore::torch.jit.TracerWarning',
                            'ignore::FutureWarning')
def test_torchscript_archive_matches_open_clip(tmp_path):
    """A traced CLIP, OpenAI's distribution format."""
    ref = tiny_open_clip()
    image = torch.randn(1, 3, VISION['image_size'], VISION['image_size'])
    traced = torch.jit.trace(_OpenAIArchive(ref), (image, random_text(1)[0]),
                             check_trace=False)
    path = str(tmp_path / 'ViT-B-16.pt')
    torch.jit.save(traced, path)
    state = load_clip_state_dict(path)
    assert set(state) == set(ref.state_dict())  # metadata dropped
    check_against(*load_ours(path), ref.encode_image, ref.encode_text)


@pytest.mark.parametrize('safe', [True, False])
def test_hf_directory_matches_transformers(tmp_path, safe):
    ref = tiny_hf_clip()
    ref.save_pretrained(str(tmp_path), safe_serialization=safe)
    video, text = load_ours(str(tmp_path))
    check_against(video, text, ref.get_image_features,
                  lambda ids: ref.get_text_features(input_ids=ids))


def test_hf_openai_round_trip():
    hf_state = tiny_hf_clip().state_dict()
    openai_state = hf_to_openai(hf_state)
    ref_keys = set(tiny_open_clip().state_dict())
    assert set(openai_state) == ref_keys
    back = openai_to_hf(openai_state)
    assert set(back) == set(hf_state)
    assert all(torch.equal(back[k], hf_state[k]) for k in hf_state)


def test_openai_to_hf_gives_same_features():
    ref = tiny_open_clip()
    hf = tiny_hf_clip(seed=5)
    hf.load_state_dict(openai_to_hf(ref.state_dict()), strict=True)
    frames = torch.randn(4, 3, VISION['image_size'], VISION['image_size'])
    ids, _ = random_text()
    with torch.no_grad():
        assert rel_err(hf.get_image_features(frames),
                       ref.encode_image(frames)) <= 1e-5
        assert rel_err(hf.get_text_features(input_ids=ids),
                       ref.encode_text(ids)) <= 1e-5


def test_split_visual_text_logs_ignored_keys():
    state = tiny_open_clip().state_dict()
    state['extra_head.weight'] = torch.zeros(1)
    with captured_log() as records:
        visual, text, logit_scale = split_visual_text(state)
    assert 'proj' in visual and 'conv1.weight' in visual
    assert 'text_projection' in text and 'visual.proj' not in text
    assert logit_scale is not None
    assert any('extra_head.weight' in r.getMessage() for r in records)


def test_missing_and_unexpected_keys_are_reported(tmp_path):
    state = tiny_open_clip().state_dict()
    del state['visual.proj']
    del state['ln_final.bias']
    state['visual.extra.weight'] = torch.zeros(2)
    path = str(tmp_path / 'partial.pt')
    torch.save(state, path)
    with captured_log() as records:
        load_ours(path)
    messages = [r.getMessage() for r in records
                if r.levelno == logging.WARNING and 'keys' in r.getMessage()]
    video_msg = [m for m in messages if m.startswith('CLIPVideoEncoder')]
    text_msg = [m for m in messages if m.startswith('CLIPTextEncoder')]
    assert video_msg and "'proj'" in video_msg[0]
    assert "'extra.weight'" in video_msg[0]
    assert text_msg and "'ln_final.bias'" in text_msg[0]


def test_shape_mismatch_raises(tmp_path):
    path = str(tmp_path / 'clip.pt')
    torch.save(tiny_open_clip().state_dict(), path)
    video = CLIPVideoEncoder(**dict(VISION, width=32), embed_dim=EMBED_DIM,
                             pretrained=path, feature_layers=())
    with pytest.raises(ValueError, match='shape mismatch.*conv1.weight'):
        video.init_weights()


def test_wrong_paths_and_contents(tmp_path):
    missing = str(tmp_path / 'nope' / 'ViT-B-16.pt')
    with pytest.raises(FileNotFoundError, match='nope/ViT-B-16.pt'):
        load_clip_state_dict(missing)
    video = CLIPVideoEncoder(**VISION, embed_dim=EMBED_DIM,
                             feature_layers=(), pretrained=missing)
    with pytest.raises(FileNotFoundError, match='ViT-B-16.pt'):
        video.init_weights()
    with pytest.raises(FileNotFoundError, match='model.safetensors'):
        load_clip_state_dict(str(tmp_path))  # a directory without weights
    other = str(tmp_path / 'other.pt')
    torch.save({'fc.weight': torch.zeros(2, 2)}, other)
    with pytest.raises(ValueError, match='no CLIP weights'):
        load_clip_state_dict(other)
    torch.save(torch.zeros(2), other)
    with pytest.raises(ValueError, match='holds a Tensor'):
        load_clip_state_dict(other)


def test_resize_positional_embedding_matches_open_clip():
    pos = torch.randn(1 + 14 * 14, 8)
    ours = resize_positional_embedding(pos, 4)
    assert ours.shape == (17, 8)
    assert torch.equal(ours[0], pos[0])
    model = tiny_open_clip()  # grid 4
    state = {'visual.positional_embedding': pos}
    resize_pos_embed(state, model)
    torch.testing.assert_close(ours, state['visual.positional_embedding'])
    with pytest.raises(ValueError, match='square'):
        resize_positional_embedding(torch.randn(1 + 15, 8), 4)


def _activation_messages(records):
    return [r.getMessage() for r in records
            if 'MLP activation' in r.getMessage()
            or 'was trained with' in r.getMessage()]


def test_activation_checked_where_the_source_says_it(tmp_path):
    """A GELU-trained file loads "all weights" into the QuickGELU backbone
    (features then differ by ~1e-2): said when the source tells the
    activation, and for plain state dicts, which cannot tell."""
    import json
    state = tiny_open_clip().state_dict()
    cases = {
        # plain state dict: cannot tell, said once for both towers
        'plain.pt': (state, ['does not say its MLP activation']),
        # open_clip training checkpoint of a -quickgelu model: matches
        'oc.pt': (dict(epoch=3, name='2024_01_01-model_ViT-B-16-quickgelu',
                       state_dict=state), []),
        # our own export says it: a GELU file into QuickGELU towers
        'export.pt': (dict(state, activation='gelu'),
                      ["was trained with 'gelu'"] * 2),
        'export_ok.pt': (dict(state, activation='quick_gelu'), []),
    }
    for name, (content, expected) in cases.items():
        path = str(tmp_path / name)
        torch.save(content, path)
        with captured_log() as records:
            load_ours(path)
        said = _activation_messages(records)
        assert len(said) == len(expected), (name, said)
        for message, part in zip(said, expected):
            assert part in message and path in message, (name, message)
    # transformers directory: config.json's hidden_act
    hf_dir = tmp_path / 'hf'
    tiny_hf_clip().save_pretrained(str(hf_dir))
    with captured_log() as records:
        load_ours(str(hf_dir))
    assert _activation_messages(records) == []
    config = json.loads((hf_dir / 'config.json').read_text())
    for tower in ('text_config', 'vision_config'):
        config[tower]['hidden_act'] = 'gelu'
    (hf_dir / 'config.json').write_text(json.dumps(config))
    with captured_log() as records:
        load_ours(str(hf_dir))
    said = _activation_messages(records)
    assert len(said) == 2 and all("act='gelu'" in m for m in said)
    # the right activation in the config: nothing to say
    video = CLIPVideoEncoder(**VISION, embed_dim=EMBED_DIM, act='gelu',
                             feature_layers=(), pretrained=str(hf_dir))
    with captured_log() as records:
        video.init_weights()
    assert _activation_messages(records) == []
