"""The official blank-slot read-out against a re-implementation of the
official per-position loop (tasks/pre_training.py, UniVL style)."""
import copy

import pytest
import torch
import torch.nn.functional as F

from stoavlp.models.data_preprocessors import stack_field
from stoavlp.models.necks.fusion_encoder import TEXT
from stoavlp.registry import MODELS
from stoavlp.testing.decoding import RecomputedCaptionSteps


def official_loop_logits(model, video_seq, text_tokens, text_keep, b, p):
    """Pass p of the official loop for sample b: the fusion input is
    ``[video, t_0..t_p, 0]``; the video attends only to the video, text is
    causal (video + earlier text), the zero slot at position p + 1 attends
    to everything before it and itself; its output predicts token p + 1."""
    tokens, types, keep = video_seq.tokens, video_seq.types, video_seq.mask
    lv = tokens.shape[1]
    video = tokens[b:b + 1]
    text = text_tokens[b:b + 1, :p + 1]
    seq = torch.cat([video, text, torch.zeros_like(text[:, :1])], 1)
    n = seq.shape[1]
    mask = torch.zeros(n, n, dtype=torch.bool)
    mask[:lv, :lv] = True
    for q in range(lv, n):          # text and the slot: causal
        mask[q, :q + 1] = True
    keys = torch.cat([keep[b:b + 1], text_keep[b:b + 1, :p + 1].bool(),
                      torch.ones(1, 1, dtype=torch.bool)], 1)
    fusion = model.fusion_encoder
    x = seq + fusion.positional_embedding[:n] + fusion.type_embedding[
        torch.cat([types, types.new_full((p + 2, ), TEXT)])]
    hidden = fusion.ln_final(fusion.transformer(
        x, mask[None, None] & keys[:, None, None, :]))
    return model.lm_head(hidden[0, -1],
                         model.text_encoder.token_embedding.weight)


@pytest.fixture
def official_model(tiny_cfg):
    cfg = copy.deepcopy(tiny_cfg)
    cfg['plm_head']['readout'] = dict(type='BlankSlotReadout')
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def test_one_pass_equals_the_official_loop(official_model, make_batch,
                                           prepare):
    model = official_model
    inputs, samples = prepare(model, make_batch(seed=5))
    with torch.no_grad():
        video = model.encode_video(inputs, samples)
        ids = stack_field(samples, 'token_ids')
        attn = stack_field(samples, 'attention_mask')
        text = model.encode_text(ids, attn)
        seq = model.video_sequence(video)
        fused = model.plm_head.readout.fuse(
            model, seq, text['token_features'], attn,
            torch.ones_like(ids[:, 0]))
        emb = model.text_encoder.token_embedding.weight
        for b in range(len(ids)):
            for p in range(int(text['eot_index'][b])):
                want = official_loop_logits(model, seq,
                                            text['token_features'], attn, b,
                                            p)
                got = model.lm_head(fused[b, p], emb)
                assert torch.allclose(got, want, atol=1e-4), (b, p)
        # and the PLM loss reads the same positions as with the prefix LM
        split = torch.tensor([1, 2, 3])
        model.plm_head.sample_split = lambda features: split
        loss = model.plm_head.loss(model.extract_features(inputs, samples),
                                   samples)
        logits, targets = [], []
        for b in range(len(ids)):
            for p in range(int(split[b]) - 1, int(text['eot_index'][b])):
                logits.append(official_loop_logits(
                    model, seq, text['token_features'], attn, b, p))
                targets.append(ids[b, p + 1])
        want = F.cross_entropy(torch.stack(logits), torch.stack(targets))
    assert float(loss) == pytest.approx(float(want), rel=1e-4)


def test_the_prefix_lm_read_out_differs(tiny_cfg, official_model, make_batch,
                                        prepare):
    """Same weights, the other read-out: different logits (so the choice
    matters for a converted official checkpoint)."""
    cfg = copy.deepcopy(tiny_cfg)
    torch.manual_seed(0)
    ours = MODELS.build(cfg).eval()
    ours.load_state_dict(official_model.state_dict())
    inputs, samples = prepare(ours, make_batch(seed=5))
    with torch.no_grad():
        split = torch.ones_like(stack_field(samples, 'token_ids')[:, 0])
        for model in (ours, official_model):
            model.plm_head.sample_split = lambda features: split
        a = ours.plm_head.loss(ours.extract_features(inputs, samples),
                               samples)
        b = official_model.plm_head.loss(
            official_model.extract_features(inputs, samples), samples)
    assert abs(float(a) - float(b)) > 1e-3


def test_cached_decoding_equals_recomputing(tiny_cfg, make_batch, prepare):
    cfg = copy.deepcopy(tiny_cfg)
    cfg.update(type='STOAVLPCaptioner',
               lm_head=dict(type='TiedLMHead', width=32, dropout=0.0),
               caption_head=dict(type='CaptionHead',
                                 readout=dict(type='BlankSlotReadout')),
               decode_cfg=dict(max_length=6))
    for key in ('vtc_loss', 'vtm_head', 'mlm_head', 'plm_head', 'ota_loss',
                'asp_loss'):
        cfg.pop(key)
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    inputs, samples = prepare(model, make_batch(seed=2))
    with torch.no_grad():
        cached = model.generate(inputs, samples)
        recomputed = model.generate(inputs, samples,
                                    steps=RecomputedCaptionSteps)
        beams = model.generate(inputs, samples, num_beams=3)
        beams_ref = model.generate(inputs, samples, num_beams=3,
                                   steps=RecomputedCaptionSteps)
    assert torch.equal(cached, recomputed)
    assert torch.equal(beams, beams_ref)
    # greedy with the official loop: each step's argmax over a fresh pass
    with torch.no_grad():
        video_seq = model.video_sequence(model.encode_video(inputs, samples))
        b = 0
        ids = torch.tensor([[49406]])
        for _ in range(cached.shape[1]):
            text = model.encode_text(ids, torch.ones_like(ids))
            logits = official_loop_logits(
                model, video_seq.select(torch.tensor([b])),
                text['token_features'],
                torch.ones_like(ids), 0, ids.shape[1] - 1)
            ids = torch.cat([ids, logits.argmax()[None, None]], 1)
            if int(ids[0, -1]) == 49407:
                break
    generated = ids[0, 1:].tolist()  # generate() returns no start token
    assert cached[0, :len(generated)].tolist() == generated
