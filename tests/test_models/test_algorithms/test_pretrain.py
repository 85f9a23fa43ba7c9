"""STOAVLPPretrainer: losses, one-pass PLM, gradient routing, configs."""
import copy

import pytest
import torch
import torch.nn.functional as F

from stoavlp.models.data_preprocessors import stack_field
from stoavlp.registry import MODELS

LOSSES = ('loss_vtc', 'loss_vtm', 'loss_mlm', 'loss_plm', 'loss_ota',
          'loss_asp')


def build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_all_six_losses_and_finite_on_empty_inputs(tiny_cfg, make_batch,
                                                   prepare):
    model = build(tiny_cfg).train()
    inputs, samples = prepare(model, make_batch())
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == set(LOSSES)
    assert all(torch.isfinite(v) for v in losses.values())
    for kwargs in (dict(with_objects=False), dict(with_nouns=False),
                   dict(with_verbs=False)):
        inputs, samples = prepare(model, make_batch(**kwargs))
        losses = model(inputs, samples, mode='loss')
        assert all(torch.isfinite(v) for v in losses.values()), kwargs
        sum(losses.values()).backward()


def test_forward_modes(tiny_cfg, make_batch, prepare):
    model = build(tiny_cfg).eval()
    inputs, samples = prepare(model, make_batch())
    feats = model(inputs, samples, mode='tensor')
    assert feats['trajectory_tokens'].shape == (3, 3, 32)
    assert feats['action_tokens'].shape == (3, 2, 32)
    assert feats['text_feature'].shape == (3, 32)
    out = model(inputs, samples, mode='predict')
    assert torch.allclose(out[0].video_embed.norm(), torch.tensor(1.0))
    assert torch.allclose(out[0].text_embed.norm(), torch.tensor(1.0))
    with pytest.raises(RuntimeError, match='Invalid mode "train"'):
        model(inputs, samples, mode='train')


def test_bad_configs_fail_at_build(tiny_cfg):
    cfg = copy.deepcopy(tiny_cfg)
    cfg['video_encoder']['trajectory_encoder'] = None
    with pytest.raises(ValueError, match='ota_loss needs a '
                       'video_encoder.trajectory_encoder'):
        MODELS.build(cfg)
    cfg = copy.deepcopy(tiny_cfg)
    cfg['video_encoder']['action_layer'] = 1
    with pytest.raises(ValueError, match=r'action_layer=1 is not among'):
        MODELS.build(cfg)
    cfg = copy.deepcopy(tiny_cfg)
    cfg.pop('lm_head')
    with pytest.raises(ValueError, match='mlm_head needs a lm_head'):
        MODELS.build(cfg)
    cfg = copy.deepcopy(tiny_cfg)
    cfg['vtc_loss'] = None
    with pytest.raises(ValueError, match='without vtc_loss give it a '
                       'temperature'):
        MODELS.build(cfg)
    cfg['vtm_head']['temperature'] = 0.07  # explicit: builds
    assert MODELS.build(cfg).vtm_head.temperature == 0.07


def plm_loop_reference(model, inputs, samples, split):
    """The official way: one fusion pass per predicted position, the
    sequence cut after that position (so later tokens cannot leak)."""
    video = model.encode_video(inputs, samples)
    ids = stack_field(samples, 'token_ids')
    attn = stack_field(samples, 'attention_mask')
    text = model.encode_text(ids, attn)
    video_seq = model.video_sequence(video)
    emb = model.text_encoder.token_embedding.weight
    logits, targets = [], []
    for b in range(len(ids)):
        seq = video_seq.select(torch.tensor([b]))
        for p in range(int(split[b]) - 1, int(text['eot_index'][b])):
            _, fused = model.fuse(seq, text['token_features'][b:b + 1,
                                                              :p + 1],
                                  attn[b:b + 1, :p + 1], mode='prefix_lm',
                                  text_prefix=split[b:b + 1])
            logits.append(model.lm_head(fused[0, p], emb))
            targets.append(ids[b, p + 1])
    return F.cross_entropy(torch.stack(logits), torch.stack(targets))


def test_one_pass_plm_equals_the_per_position_loop(tiny_cfg, make_batch,
                                                   prepare):
    model = build(tiny_cfg).eval()
    inputs, samples = prepare(model, make_batch(seed=3))
    with torch.no_grad():
        features = model.extract_features(inputs, samples)
        # the head's own split points, drawn from the batch's generator
        split = model.plm_head.sample_split(
            model.extract_features(inputs, samples))
        one_pass = model.plm_head.loss(features, samples)
        loop = plm_loop_reference(model, inputs, samples, split)
    eot = features.eot_index
    assert ((split >= 1) & (split <= eot)).all() and len(set(
        split.tolist())) > 1  # random, not all at one place
    assert one_pass.item() == pytest.approx(loop.item(), rel=1e-5)


def grads_by_part(model, loss):
    model.zero_grad()
    loss.backward(retain_graph=True)
    parts = {}
    for name, param in model.named_parameters():
        # the video side's parts one by one: CLIP, trajectories, actions
        part = name.split('.')[1] if name.startswith('video_encoder.') \
            else name.split('.')[0]
        has = param.grad is not None and param.grad.abs().sum() > 0
        parts[part] = parts.get(part, False) or bool(has)
    return {p for p, has in parts.items() if has}


def test_gradients_reach_exactly_the_intended_parts(tiny_cfg, make_batch,
                                                    prepare):
    model = build(tiny_cfg).train()
    inputs, samples = prepare(model, make_batch(seed=5))
    losses = model(inputs, samples, mode='loss')
    assert grads_by_part(model, losses['loss_ota']) == {
        'backbone', 'trajectory_encoder'}  # not the text encoder
    assert grads_by_part(model, losses['loss_asp']) == {
        'backbone', 'trajectory_encoder', 'action_encoder'}
    assert grads_by_part(model, losses['loss_vtc']) == {
        'backbone', 'text_encoder', 'vtc_loss'}
    fused = {'backbone', 'text_encoder', 'trajectory_encoder',
             'action_encoder', 'fusion_encoder'}
    assert grads_by_part(model, losses['loss_mlm']) == fused | {'lm_head'}
    assert grads_by_part(model, losses['loss_plm']) == fused | {'lm_head'}
    # VTM: positives carry gradients to every encoder, plus the VTM head;
    # the similarity used to sample negatives does not (logit scale).
    assert grads_by_part(model, losses['loss_vtm']) == fused | {'vtm_head'}


def _mc_batch(make_batch, n_options=3, batch=4):
    """Samples with n options each (the true one at ``mc_label``): the
    other options are the captions of other samples."""
    inputs, samples = make_batch(batch=batch, seed=7)
    texts = [(s.token_ids, s.attention_mask, s.noun_mask, s.verb_mask)
             for s in samples]
    for i, s in enumerate(samples):
        truth = i % n_options
        order = [(i + k) % batch for k in range(n_options)]
        order = order[-truth:] + order[:-truth] if truth else order
        assert order[truth] == i
        for name, col in (('token_ids', 0), ('attention_mask', 1),
                          ('noun_mask', 2), ('verb_mask', 3)):
            s.set_data({name: torch.stack([texts[j][col] for j in order])})
        s.set_data(dict(mc_label=torch.tensor(truth)))
        s.set_metainfo(dict(mc_option_kinds=['edit'] * n_options))
    return inputs, samples


def test_predict_on_options_gives_what_the_mechanism_metric_reads(
        tiny_cfg, make_batch, prepare):
    model = build(tiny_cfg).eval()
    inputs, samples = prepare(model, _mc_batch(make_batch))
    with torch.no_grad():
        out = model.predict(inputs, copy.deepcopy(samples))
        video = model.encode_video(inputs, samples)
        seq = model.video_sequence(video)
        b = len(samples)
        for i, s in enumerate(out):
            assert s.vtm_probs.shape == (4, )
            truth = int(samples[i].mc_label)
            other = (i + b // 2) % b
            texts = [(samples[i].token_ids[j], samples[i].attention_mask[j])
                     for j in range(3)]
            texts.append((samples[other].token_ids[int(
                samples[other].mc_label)], samples[other].attention_mask[int(
                    samples[other].mc_label)]))
            for j, (ids, mask) in enumerate(texts):
                text = model.encode_text(ids[None], mask[None])
                single = seq.select(torch.tensor([i]))
                fv, ft = model.fuse(single, text['token_features'], mask[None])
                want = model.vtm_head(
                    fv[:, video['frame_features'].shape[1]],
                    ft[:, int(text['eot_index'])]).softmax(-1)[0, 1]
                assert float(s.vtm_probs[j]) == pytest.approx(float(want),
                                                              abs=1e-5)
            # OTA pairs of the true caption, as explain() on that caption
            ids = samples[i].token_ids[truth]
            text = model.encode_text(ids[None],
                                     samples[i].attention_mask[truth][None])
            from stoavlp.models.losses.set_alignment import eot_mask
            rows, cols = model.ota_loss.assignments(
                video['trajectory_tokens'][i:i + 1],
                video['trajectory_mask'][i:i + 1], text['token_features'],
                eot_mask(samples[i].noun_mask[truth][None],
                         text['eot_index']))[0]
            assert s.ota_trajectory.tolist() == rows.tolist()
            assert s.ota_token.tolist() == cols.tolist()
            assert s.trajectory_tokens.shape == video['trajectory_tokens'][
                i].shape
            assert s.action_tokens.shape == video['action_tokens'][i].shape
