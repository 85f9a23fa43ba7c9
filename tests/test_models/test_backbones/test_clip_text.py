"""CLIPTextEncoder: equality with open_clip 3.3.0 ``encode_text``, per-token
features, the EOT position, shorter inputs and activation checkpointing."""
import pytest
import torch

from stoavlp.models.backbones import CLIPTextEncoder
from stoavlp.registry import MODELS
from stoavlp.testing import random_open_clip
from stoavlp.testing.references import text_blocks, text_hidden

EOT, SOT = 49407, 49406
CFG = dict(context_length=16, width=32, layers=2, heads=2, embed_dim=24)


def tiny_open_clip():
    """Random open_clip CLIP (OpenAI layout), LN/bias params randomised."""
    text = {k: v for k, v in CFG.items() if k != 'embed_dim'}
    return random_open_clip(CFG['embed_dim'],
                            dict(layers=1, width=32, heads=2, patch_size=8,
                                 image_size=16), text)


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    """(open_clip model, path of its saved state dict)."""
    model = tiny_open_clip()
    path = str(tmp_path_factory.mktemp('clip') / 'clip.pt')
    torch.save(model.state_dict(), path)
    return model, path


def build(**kwargs):
    encoder = MODELS.build(dict(CFG, type='CLIPTextEncoder', **kwargs))
    encoder.init_weights()
    return encoder


def texts(lengths, width=CFG['context_length'], seed=1):
    """CLIP-like ids (SOT, words, EOT, zero padding) and keep masks."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, length in enumerate(lengths):  # length includes SOT and EOT
        ids[row, 0] = SOT
        ids[row, 1:length - 1] = torch.randint(1, SOT, (length - 2, ),
                                               generator=gen)
        ids[row, length - 1] = EOT
    return ids, (ids != 0).long()


def rel_err(ours, ref):
    return ((ours - ref).norm() / ref.norm()).item()


def test_matches_open_clip(reference):
    ref, path = reference
    encoder = build(pretrained=path).eval()
    ids, mask = texts([3, 9, 16])
    with torch.no_grad():
        out = encoder(ids, mask)
        hidden = text_hidden(encoder, ids)
        expected = ref.encode_text(ids)
        # Per-token reference: open_clip's tower without the pooling.
        x = ref.token_embedding(ids) + ref.positional_embedding
        x = ref.ln_final(ref.transformer(x, attn_mask=ref.attn_mask))
        expected_tokens = x @ ref.text_projection
    assert set(out) == {'token_features', 'text_feature', 'eot_index'}
    assert out['token_features'].shape == (3, 16, 24)
    assert hidden.shape == (3, 16, 32)
    assert out['eot_index'].tolist() == [2, 8, 15]
    assert torch.equal(out['eot_index'], ids.argmax(-1))
    assert rel_err(out['text_feature'], expected) <= 1e-5
    assert rel_err(out['token_features'], expected_tokens) <= 1e-5
    torch.testing.assert_close(encoder.ln_final(hidden)
                               @ encoder.text_projection,
                               out['token_features'])


def test_shorter_inputs_give_the_same_features(reference):
    """Causal attention: positions up to EOT ignore what follows."""
    _, path = reference
    encoder = build(pretrained=path).eval()
    ids, mask = texts([3, 9, 10])
    with torch.no_grad():
        full = encoder(ids, mask)
        short = encoder(ids[:, :10], mask[:, :10])
    torch.testing.assert_close(short['text_feature'], full['text_feature'])
    torch.testing.assert_close(short['token_features'],
                               full['token_features'][:, :10])


def test_context_length_cut_on_load(reference):
    ref, path = reference  # 16 positions
    encoder = build(pretrained=path, context_length=10).eval()
    torch.testing.assert_close(encoder.positional_embedding,
                               ref.positional_embedding[:10])
    ids, mask = texts([4, 10], width=10)
    with torch.no_grad():
        expected = ref.encode_text(torch.nn.functional.pad(ids, (0, 6)))
        assert rel_err(encoder(ids, mask)['text_feature'], expected) <= 1e-5
    with pytest.raises(ValueError, match='exceed context_length 10'):
        encoder(*texts([4], width=11))


def test_with_cp_same_outputs_and_grads():
    torch.manual_seed(3)
    plain = CLIPTextEncoder(**CFG)
    ckpt = CLIPTextEncoder(**CFG, with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    ids, mask = texts([5, 16])
    results = []
    for encoder in (plain.train(), ckpt.train()):
        out = encoder(ids, mask)
        (out['token_features'].square().sum()
         + out['text_feature'].sum()).backward()
        grads = {n: p.grad for n, p in encoder.named_parameters()}
        results.append((out['token_features'], grads))
    torch.testing.assert_close(results[0][0], results[1][0])
    for name, grad in results[0][1].items():
        torch.testing.assert_close(grad, results[1][1][name], msg=name)


def test_gradients_reach_every_parameter():
    encoder = CLIPTextEncoder(**CFG).train()
    ids, mask = texts([5, 16])
    encoder(ids, mask)['token_features'].square().sum().backward()
    no_grad = [n for n, p in encoder.named_parameters()
               if p.grad is None or not p.grad.abs().sum() > 0]
    assert no_grad == []


def test_blocks_and_attributes():
    encoder = CLIPTextEncoder(**CFG)
    first = text_blocks(encoder, 0, 1)
    assert len(first) == 1 and first[0] is encoder.transformer.resblocks[0]
    assert len(text_blocks(encoder, 0, 2)) == 2
    with pytest.raises(ValueError, match='start < stop'):
        text_blocks(encoder, 0, 3)
    assert (encoder.width, encoder.embed_dim, encoder.vocab_size) == (
        32, 24, 49408)
    # The causal mask is rebuilt, not saved in checkpoints.
    assert 'attn_mask' not in encoder.state_dict()
