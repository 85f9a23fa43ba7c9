"""Stage 0 (the tiny CLIP): region features, losses, OpenAI-layout export."""
import copy

import torch
from mmengine.config import ConfigDict

from stoavlp.models.backbones import CLIPTextEncoder, CLIPVideoEncoder
from stoavlp.registry import MODELS
from stoavlp.utils import register_all_modules

register_all_modules()
W = 32
CFG = dict(
    type='CLIPPretrainer',
    video_encoder=dict(
        type='STOAVideoEncoder',
        backbone=dict(type='CLIPVideoEncoder', image_size=32, patch_size=8,
                      width=W, layers=2, heads=2, embed_dim=W,
                      feature_layers=(2, ))),
    text_encoder=dict(type='CLIPTextEncoder', width=W, layers=2, heads=2,
                      embed_dim=W),
    vtc_loss=dict(type='VTCLoss'),
    region_word_loss=dict(type='RegionWordLoss'),
    num_classes=3)


def _batch(make_batch, prepare, model):
    inputs, samples = make_batch(batch=3, frames=4, objects=4, classes=3)
    for s in samples:  # every class named by some word token of the caption
        words = s.attention_mask.nonzero().flatten()[1:-1]
        s.set_data(dict(obj_noun_index=words[torch.arange(3) % len(words)]))
    return prepare(model, (inputs, samples))


def test_region_features_equal_a_brute_force_mean(make_batch, prepare):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(CFG)).eval()
    inputs, samples = _batch(make_batch, prepare, model)
    # boxes on whole patch cells: RoIAlign's 3x3 bilinear samples of a
    # 3x3-cell box are the cells themselves
    g = torch.Generator().manual_seed(1)
    for s in samples:
        cells = torch.randint(0, 2, (4, 4, 2), generator=g).float() * 8
        s.obj_boxes = torch.cat([cells, cells + 16], -1)  # 2x2 cells
    model.roi_align.output_size = (2, 2)
    out = model.video_encoder.backbone(inputs)
    tokens = out['layer_tokens'][2][:, :, 1:]  # (B, T, 16, C)
    region = model.region_features(tokens, samples, (32, 32))
    enc = model.video_encoder.backbone
    for b, s in enumerate(samples):
        for n in range(3):
            member = s.obj_mask.bool() & (s.obj_labels == n)
            if not member.any():
                assert not region['present'][b, n]
                continue
            pooled = []
            for t, k in member.nonzero().tolist():
                x1, y1 = (s.obj_boxes[t, k, :2] / 8).long().tolist()
                grid = tokens[b, t].view(4, 4, -1)
                pooled.append(grid[y1:y1 + 2, x1:x1 + 2].mean((0, 1)))
            want = enc.ln_post(torch.stack(pooled).mean(0)) @ enc.proj
            assert region['present'][b, n]
            assert torch.allclose(region['regions'][b, n], want, atol=1e-5)


def test_losses_train_both_towers(make_batch, prepare):
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(CFG))
    inputs, samples = _batch(make_batch, prepare, model)
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_vtc', 'loss_region'}
    sum(losses.values()).backward()
    assert model.video_encoder.backbone.conv1.weight.grad.abs().sum() > 0
    assert model.text_encoder.token_embedding.weight.grad.abs().sum() > 0
    assert model.region_word_loss.logit_scale.grad is not None
    bad = copy.deepcopy(CFG)
    bad['video_encoder']['backbone']['feature_layers'] = (1, )
    try:
        MODELS.build(bad)
    except ValueError as err:
        assert 'feature_layers' in str(err)
    else:
        raise AssertionError('a missing top layer must fail at build')


def test_export_loads_through_pretrained_with_weights_only(tmp_path):
    from stoavlp.engine.hooks import ExportCLIPHook
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(CFG))
    model.vtc_loss.logit_scale.data.fill_(3.0)

    class Runner:
        work_dir = str(tmp_path)
        logger = __import__('logging').getLogger('test')
    runner = Runner()
    runner.model = model
    ExportCLIPHook(out_file='clip.pth').after_train(runner)
    path = str(tmp_path / 'clip.pth')
    state = torch.load(path, weights_only=True)
    assert float(state['logit_scale']) == 3.0
    backbone = CFG['video_encoder']['backbone']
    video = CLIPVideoEncoder(**{k: v for k, v in backbone.items()
                                if k != 'type'}, pretrained=path)
    text = CLIPTextEncoder(**{k: v for k, v in CFG['text_encoder'].items()
                              if k != 'type'}, pretrained=path)
    video.init_weights()
    text.init_weights()
    for mine, theirs in ((video, model.video_encoder.backbone),
                         (text, model.text_encoder)):
        for (name, a), (_, b) in zip(mine.state_dict().items(),
                                     theirs.state_dict().items()):
            assert torch.equal(a, b), name
    vtc = MODELS.build(ConfigDict(type='VTCLoss', pretrained=path))
    vtc.init_weights()
    assert float(vtc.logit_scale) == 3.0
