"""CLIPVideoEncoder: equality with open_clip 3.3.0 per frame, intermediate
tokens, joint space-time attention, position-embedding resizing and
activation checkpointing, all on tiny random models."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from stoavlp.models.backbones import CLIPVideoEncoder
from stoavlp.registry import MODELS
from stoavlp.testing import random_open_clip

# image 32 / patch 8 -> 4x4 grid, 17 tokens per frame.
CFG = dict(image_size=32, patch_size=8, width=64, layers=2, heads=2,
           embed_dim=24)


def tiny_open_clip():
    """Random open_clip CLIP (OpenAI layout), LN/bias params randomised."""
    vision = {k: v for k, v in CFG.items() if k != 'embed_dim'}
    return random_open_clip(CFG['embed_dim'], vision,
                            dict(context_length=8, width=32, heads=2,
                                 layers=1))


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    """(open_clip model, path of its saved state dict)."""
    model = tiny_open_clip()
    path = str(tmp_path_factory.mktemp('clip') / 'clip.pt')
    torch.save(model.state_dict(), path)
    return model, path


def build(**kwargs):
    cfg = dict(type='CLIPVideoEncoder', **CFG, feature_layers=(1, 2))
    cfg.update(kwargs)
    encoder = MODELS.build(cfg)
    encoder.init_weights()
    return encoder


def rel_err(ours, ref):
    return ((ours - ref).norm() / ref.norm()).item()


def open_clip_block_outputs(visual, frames):
    """Tokens after each open_clip block, ``(B*T, 1 + G*G, C)`` each."""
    x = visual.conv1(frames).flatten(2).transpose(1, 2)
    cls = visual.class_embedding.expand(x.shape[0], 1, -1)
    x = visual.ln_pre(torch.cat([cls, x], dim=1) + visual.positional_embedding)
    outputs = []
    for block in visual.transformer.resblocks:
        x = block(x)
        outputs.append(x)
    return outputs


def video(batch=2, frames=3, size=CFG['image_size']):
    return torch.randn(batch, frames, 3, size, size)


def test_matches_open_clip_per_frame(reference):
    ref, path = reference
    encoder = build(pretrained=path).eval()
    clip = video()
    with torch.no_grad():
        out = encoder(clip)
        frames = clip.flatten(0, 1)
        expected = ref.encode_image(frames).view(2, 3, -1)
        block_outputs = open_clip_block_outputs(ref.visual, frames)
    assert set(out) == {'frame_features', 'video_feature', 'layer_tokens'}
    assert encoder.grid_size == 4
    assert out['frame_features'].shape == (2, 3, 24)
    assert rel_err(out['frame_features'], expected) <= 1e-5
    torch.testing.assert_close(out['video_feature'],
                               out['frame_features'].mean(1))
    assert sorted(out['layer_tokens']) == [1, 2]
    for layer, tokens in out['layer_tokens'].items():
        assert tokens.shape == (2, 3, 1 + 16, 64)
        assert rel_err(tokens, block_outputs[layer - 1].view_as(tokens)) \
            <= 1e-5
    # The last layer's CLS through ln_post @ proj is the frame feature.
    last_cls = out['layer_tokens'][2][:, :, 0]
    torch.testing.assert_close(encoder.ln_post(last_cls) @ encoder.proj,
                               out['frame_features'])


def test_feature_layers_selects_blocks():
    encoder = build(feature_layers=(2, )).eval()
    out = encoder(video(1, 2))
    assert list(out['layer_tokens']) == [2]
    assert build(feature_layers=()).eval()(video(1, 2))['layer_tokens'] == {}
    with pytest.raises(ValueError, match='feature_layers .*got \\[0\\]'):
        CLIPVideoEncoder(**CFG, feature_layers=(0, ))
    with pytest.raises(ValueError, match='joint_attention_layers .*got'):
        CLIPVideoEncoder(**CFG, feature_layers=(1, ),
                         joint_attention_layers=(3, ))
    with pytest.raises(ValueError, match=r'\[1, 2\], got \[10, 11\]'):
        CLIPVideoEncoder(**CFG)  # the ViT-B defaults need 12 blocks


def test_joint_attention_matches_brute_force(reference):
    ref, path = reference
    per_frame = build(pretrained=path).eval()
    joint = build(pretrained=path, joint_attention_layers=(2, )).eval()
    clip = video(2, 3)
    with torch.no_grad():
        out_frame, out_joint = per_frame(clip), joint(clip)
        # Brute force: block 2 of open_clip over all T*(1+HW) tokens.
        tokens = out_joint['layer_tokens'][1].reshape(2, 3 * 17, 64)
        expected = ref.visual.transformer.resblocks[1](tokens)
    torch.testing.assert_close(out_joint['layer_tokens'][1],
                               out_frame['layer_tokens'][1])
    assert rel_err(out_joint['layer_tokens'][2],
                   expected.view(2, 3, 17, 64)) <= 1e-5
    assert not torch.allclose(out_joint['frame_features'],
                              out_frame['frame_features'], atol=1e-4)
    # With a single frame, joint attention is per-frame attention.
    single = video(2, 1)
    with torch.no_grad():
        torch.testing.assert_close(joint(single)['frame_features'],
                                   per_frame(single)['frame_features'])


def test_positional_embedding_resized_on_load(reference):
    ref, path = reference  # a 4x4 grid checkpoint
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        encoder = build(pretrained=path, image_size=48).eval()  # 6x6 grid
    finally:
        logger.removeHandler(handler)
    assert any('resizing positional_embedding from a 4x4 to a 6x6'
               in r.getMessage() for r in records)
    pos = encoder.positional_embedding
    assert pos.shape == (1 + 36, 64)
    torch.testing.assert_close(pos[0], ref.visual.positional_embedding[0])
    out = encoder(video(1, 2, size=48))
    assert encoder.grid_size == 6
    assert out['layer_tokens'][1].shape == (1, 2, 37, 64)


def test_with_cp_same_outputs_and_grads():
    torch.manual_seed(3)
    plain = CLIPVideoEncoder(**CFG, feature_layers=(1, ),
                             joint_attention_layers=(2, ))
    ckpt = CLIPVideoEncoder(**CFG, feature_layers=(1, ),
                            joint_attention_layers=(2, ), with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    clip = video()
    results = []
    for encoder in (plain.train(), ckpt.train()):
        out = encoder(clip)
        (out['frame_features'].square().sum()
         + out['layer_tokens'][1].sum()).backward()
        grads = {n: p.grad for n, p in encoder.named_parameters()}
        results.append((out['frame_features'], grads))
    torch.testing.assert_close(results[0][0], results[1][0])
    for name, grad in results[0][1].items():
        torch.testing.assert_close(grad, results[1][1][name], msg=name)


def test_gradients_reach_every_parameter():
    encoder = CLIPVideoEncoder(**CFG, feature_layers=()).train()
    encoder(video())['frame_features'].square().sum().backward()
    no_grad = [n for n, p in encoder.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]
    assert no_grad == []


def test_input_checks_and_helpers():
    encoder = CLIPVideoEncoder(**CFG, feature_layers=(1, ))
    assert (encoder.width, encoder.embed_dim, encoder.grid_size) == (64, 24, 4)
    top = encoder.top_blocks(1)
    assert len(top) == 1 and top[0] is encoder.transformer.resblocks[1]
    with pytest.raises(ValueError, match='num_blocks'):
        encoder.top_blocks(3)
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\)'):
        encoder(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match='32x32'):
        encoder(video(size=48))
    with pytest.raises(ValueError, match='multiple of patch_size'):
        CLIPVideoEncoder(**dict(CFG, image_size=30), feature_layers=(1, ))
    # No pretrained weights: init_weights keeps the random initialisation.
    before = encoder.proj.detach().clone()
    encoder.init_weights()
    torch.testing.assert_close(encoder.proj, before)
