"""STOAVLPCaptioner: the caption loss and cached decoding."""
import pytest
import torch
import torch.nn.functional as F

from stoavlp.models.data_preprocessors import stack_field
from stoavlp.registry import MODELS
from stoavlp.testing.decoding import RecomputedCaptionSteps
from algorithm_helpers import build, encoders


def caption_cfg(tiny_cfg, **kwargs):
    return dict(encoders(tiny_cfg), type='STOAVLPCaptioner',
                lm_head=dict(type='TiedLMHead', width=32, dropout=0.0),
                caption_head=dict(type='CaptionHead'), **kwargs)


@pytest.fixture
def captioner(tiny_cfg):
    return build(caption_cfg(tiny_cfg, decode_cfg=dict(max_length=10)))


@pytest.mark.parametrize('decode_cfg, message', [
    (dict(max_lenght=20), r"decode_cfg: unknown option 'max_lenght' \(did "
                          r"you mean 'max_length'\?\)"),
    (dict(num_beams=0), r'decode_cfg\.num_beams must be >= 1'),
    (dict(num_beams=2.5), r'decode_cfg\.num_beams must be int'),
    (dict(max_length=5, min_length=9), r'decode_cfg\.min_length must be in'),
    (dict(early_stopping='yes'), r'decode_cfg\.early_stopping must be bool'),
])
def test_bad_decode_cfg_fails_when_the_model_is_built(tiny_cfg, decode_cfg,
                                                      message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(caption_cfg(tiny_cfg, decode_cfg=decode_cfg))


def test_a_captioner_without_its_parts_fails_at_build(tiny_cfg):
    cfg = caption_cfg(tiny_cfg)
    cfg.pop('lm_head')
    with pytest.raises(ValueError, match='needs a lm_head'):
        MODELS.build(cfg)


def test_generate_overrides_are_checked_too(captioner, make_batch, prepare):
    inputs, samples = prepare(captioner, make_batch(seed=1))
    with pytest.raises(ValueError, match="unknown option 'beams'"):
        captioner.generate(inputs, samples, beams=3)


@pytest.mark.parametrize('num_beams', [1, 3])
def test_cached_decoding_equals_recomputing(captioner, make_batch, prepare,
                                            num_beams):
    inputs, samples = prepare(captioner, make_batch(seed=1))
    with torch.no_grad():
        cached = captioner.generate(inputs, samples, num_beams=num_beams)
        recomputed = captioner.generate(inputs, samples,
                                        steps=RecomputedCaptionSteps,
                                        num_beams=num_beams)
    assert cached.shape[0] == 3 and cached.shape[1] <= 10
    assert torch.equal(cached, recomputed)


def test_caption_loss_is_teacher_forced_cross_entropy(captioner, make_batch,
                                                      prepare):
    inputs, samples = prepare(captioner, make_batch(seed=2))
    loss = captioner(inputs, samples, mode='loss')['loss_caption']
    # reference: per caption, position p (0 .. eot-1) predicts token p + 1,
    # reading the logits of an uncached step model fed the true tokens
    ids = stack_field(samples, 'token_ids')
    logits, targets = [], []
    with torch.no_grad():
        video = captioner.video_sequence(captioner.encode_video(inputs,
                                                                samples))
        for b in range(len(ids)):
            eot = int(stack_field(samples, 'attention_mask')[b].sum()) - 1
            seq = video.select(torch.tensor([b]))
            for p in range(eot):
                text = captioner.encode_text(
                    ids[b:b + 1, :p + 1], torch.ones(1, p + 1).long())
                _, fused = captioner.fuse(
                    seq, text['token_features'],
                    torch.ones(1, p + 1).long(), mode='prefix_lm',
                    text_prefix=torch.ones(1).long())
                logits.append(captioner.lm_head(
                    fused[0, p],
                    captioner.text_encoder.token_embedding.weight))
                targets.append(ids[b, p + 1])
    want = F.cross_entropy(torch.stack(logits), torch.stack(targets))
    assert loss.item() == pytest.approx(want.item(), rel=1e-5)
    out = captioner(inputs, samples, mode='predict')
    assert all(isinstance(s.pred_caption, str) for s in out)
