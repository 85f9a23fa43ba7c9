"""FusionEncoder attention modes: bidirectional, prefix-LM, padding."""
import torch

from stoavlp.registry import MODELS

W, L = 32, 10


def build():
    torch.manual_seed(0)
    return MODELS.build(dict(type='FusionEncoder', width=W, layers=2,
                             heads=2, max_positions=16)).eval()


def run(encoder, x, keep, **kwargs):
    types = torch.tensor([0] * 4 + [3] * (L - 4))
    return encoder(x, types, keep, **kwargs)


def test_prefix_lm_suffix_cannot_see_later_tokens():
    encoder = build()
    x = torch.randn(2, L, W)
    keep = torch.ones(2, L, dtype=torch.bool)
    prefix = torch.tensor([5, 7])
    out = run(encoder, x, keep, mode='prefix_lm', prefix_len=prefix)
    for b, p in enumerate(prefix.tolist()):
        for j in range(L):
            y = x.clone()
            y[b, j] += torch.randn(W)  # perturb token j (not a constant:
            # LayerNorm removes constant shifts)
            changed = (run(encoder, y, keep, mode='prefix_lm',
                           prefix_len=prefix)[b] - out[b]).abs().sum(-1) > 1e-5
            for i in range(L):
                sees = j <= i or j < p  # causal, or j in the prefix
                if i < p:  # a prefix position sees exactly the prefix
                    sees = j < p
                assert bool(changed[i]) == sees, (b, i, j)


def test_bidirectional_and_padding():
    encoder = build()
    x = torch.randn(1, L, W)
    keep = torch.ones(1, L, dtype=torch.bool)
    keep[0, -2:] = False  # padding
    out = run(encoder, x, keep)
    y = x.clone()
    y[0, -1] += 5 * torch.randn(W)  # a padded key changes nothing else
    torch.testing.assert_close(run(encoder, y, keep)[0, :-1], out[0, :-1])
    y = x.clone()
    y[0, 6] += torch.randn(W)  # a later valid token reaches position 0
    assert not torch.allclose(run(encoder, y, keep)[0, 0], out[0, 0])


def test_initialised_from_text_encoder():
    encoder = build()
    text = MODELS.build(dict(type='CLIPTextEncoder', width=W, layers=3,
                             heads=2, embed_dim=W, context_length=12))
    encoder.init_from_text_encoder(text)
    for ours, theirs in zip(encoder.transformer.resblocks,
                            text.transformer.resblocks[:2]):
        assert torch.equal(ours.mlp.c_fc.weight, theirs.mlp.c_fc.weight)
    assert torch.equal(encoder.positional_embedding[:12],
                       text.positional_embedding)
